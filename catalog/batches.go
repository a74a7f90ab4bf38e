package catalog

import "iter"

// BatchesByLibrary groups a stream of records, each with its items, into
// per-library batches of DefaultBatchSize records, as an import reads one
// library's file after another: a batch goes out as soon as it is full,
// and each library's remainder at the end, in the order the libraries
// first appeared.
func BatchesByLibrary(holdings iter.Seq2[*Record, []*Item]) iter.Seq[*Batch] {
	return func(yield func(*Batch) bool) {
		pending := map[string]*Batch{}
		var order []string
		for rec, items := range holdings {
			b := pending[rec.LibraryID]
			if b == nil {
				b = &Batch{LibraryID: rec.LibraryID}
				pending[rec.LibraryID] = b
				order = append(order, rec.LibraryID)
			}
			b.Records = append(b.Records, *rec)
			for _, it := range items {
				b.Items = append(b.Items, *it)
			}
			if len(b.Records) >= DefaultBatchSize {
				pending[rec.LibraryID] = &Batch{LibraryID: rec.LibraryID}
				if !yield(b) {
					return
				}
			}
		}
		for _, lib := range order {
			if b := pending[lib]; len(b.Records) > 0 && !yield(b) {
				return
			}
		}
	}
}
