package ebooks_test

import (
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/ebooks"
)

// TestInstancesStartingAtOnceShareTheLinkSecret: server instances started
// together on an empty keys folder make one content-link secret, so a link
// signed by one is honoured by the others.
func TestInstancesStartingAtOnceShareTheLinkSecret(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	for round := range 20 {
		path := filepath.Join(t.TempDir(), "keys", "ebook-links")
		signers := make([]*ebooks.LinkSigner, 4)
		errs := make([]error, len(signers))
		var wg sync.WaitGroup
		for i := range signers {
			wg.Go(func() { signers[i], errs[i] = ebooks.LoadOrCreateLinkSigner(path) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, process %d: %v", round, i, err)
			}
		}
		for i, s := range signers {
			q, err := url.ParseQuery(s.Sign("loan-1", exp))
			if err != nil {
				t.Fatal(err)
			}
			for j, other := range signers {
				if err := other.Verify("loan-1", q, time.Now()); err != nil {
					t.Fatalf("round %d: a link signed by process %d is refused by process %d: %v", round, i, j, err)
				}
			}
		}
	}
}
