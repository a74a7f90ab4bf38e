package catalog

import "sort"

// Holding is one library's copies of a work, as a reader sees them.
type Holding struct {
	LibraryID string
	// Total counts the library's copies; Available those that can be
	// borrowed now; OnShelf those on the shelf, reference-only included.
	Total, Available, OnShelf int
	// CallNumbers and Locations are the copies' distinct values, in order.
	CallNumbers []string
	Locations   []string
	Items       []*StoredItem
}

// Holdings groups a work's items by library: libraries with a copy to
// borrow first, then by copies on the shelf, then by library ID (a stable
// order). Lost copies count in Total but never as available.
func Holdings(items []*StoredItem) []Holding {
	byLib := map[string]*Holding{}
	var order []string
	for _, it := range items {
		h := byLib[it.LibraryID]
		if h == nil {
			h = &Holding{LibraryID: it.LibraryID}
			byLib[it.LibraryID] = h
			order = append(order, it.LibraryID)
		}
		h.Total++
		switch it.Status {
		case StatusAvailable:
			h.Available++
			h.OnShelf++
		case StatusReferenceOnly:
			h.OnShelf++
		}
		h.CallNumbers = appendDistinct(h.CallNumbers, it.CallNumber)
		h.Locations = appendDistinct(h.Locations, it.Location)
		h.Items = append(h.Items, it)
	}
	out := make([]Holding, 0, len(order))
	for _, id := range order {
		out = append(out, *byLib[id])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Available > 0) != (out[j].Available > 0) {
			return out[i].Available > 0
		}
		if out[i].OnShelf != out[j].OnShelf {
			return out[i].OnShelf > out[j].OnShelf
		}
		return out[i].LibraryID < out[j].LibraryID
	})
	return out
}

func appendDistinct(list []string, v string) []string {
	if v == "" {
		return list
	}
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}
