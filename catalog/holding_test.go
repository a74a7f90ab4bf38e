package catalog

import "testing"

func TestHoldingsGroupByLibraryWithBorrowableFirst(t *testing.T) {
	item := func(barcode, lib string, st ItemStatus, call string) *StoredItem {
		return &StoredItem{Item: Item{Barcode: barcode, LibraryID: lib, Status: st, CallNumber: call, Location: "Kho mở"}}
	}
	hs := Holdings([]*StoredItem{
		item("1", "bn", StatusOnLoan, "895.92 NG-D"),
		item("2", "bn", StatusReferenceOnly, "895.92 NG-D"),
		item("3", "ts", StatusAvailable, "895.92 NGD"),
		item("4", "ts", StatusLost, "895.92 NGD"),
		item("5", "ts", StatusAvailable, "895.92 NGD"),
	})
	if len(hs) != 2 || hs[0].LibraryID != "ts" || hs[1].LibraryID != "bn" {
		t.Fatalf("order = %+v", hs)
	}
	ts, bn := hs[0], hs[1]
	if ts.Total != 3 || ts.Available != 2 || ts.OnShelf != 2 || len(ts.CallNumbers) != 1 || len(ts.Items) != 3 {
		t.Errorf("Từ Sơn holding = %+v", ts)
	}
	if bn.Total != 2 || bn.Available != 0 || bn.OnShelf != 1 {
		t.Errorf("provincial holding = %+v", bn)
	}
}
