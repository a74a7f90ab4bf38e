package mongo

import (
	"os"
	"strings"
	"testing"

	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestDeploymentGuideListsEveryCollectionAndIndex keeps the table of
// docs/DEPLOYMENT.md in step with what ensureIndexes creates: every
// collection has a row, and every index is named in its collection's row.
func TestDeploymentGuideListsEveryCollectionAndIndex(t *testing.T) {
	raw, err := os.ReadFile("../docs/DEPLOYMENT.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "| `"); ok {
			if name, _, ok := strings.Cut(rest, "` |"); ok {
				rows[name] = line
			}
		}
	}
	want := map[string][]string{
		collLibraries:     {idxLibraryCode, idxLibraryDist, idxLibraryType},
		collAccounts:      {idxAccountEmail, idxAccountPhone, idxAccountCard},
		collSessions:      {idxSessionAccount},
		collRefreshTokens: {idxTokenSession},
		// Read by _id only.
		collChanges: nil, collCounters: nil, collHarvests: nil, collNotificationPrefs: nil,
		collCircClaims: nil, collCircHistorySettings: nil,
	}
	for _, set := range []map[string][]string{names(catalogIndexes()), names(cardIndexes()), names(ebookIndexes()),
		names(notificationIndexes()), names(circulationIndexes())} {
		for coll, idx := range set {
			want[coll] = append(want[coll], idx...)
		}
	}
	for _, coll := range circulationCollections {
		if _, ok := want[coll]; !ok {
			want[coll] = nil
		}
	}
	for coll, idx := range want {
		row, ok := rows[coll]
		if !ok {
			t.Errorf("docs/DEPLOYMENT.md has no row for the collection %s", coll)
			continue
		}
		for _, name := range idx {
			if !strings.Contains(row, "`"+name+"`") {
				t.Errorf("docs/DEPLOYMENT.md: the row of %s does not name its index %s", coll, name)
			}
		}
	}
}

// names returns the index names of each collection.
func names(m map[string][]mongodrv.IndexModel) map[string][]string {
	out := map[string][]string{}
	for coll, ms := range m {
		for _, im := range ms {
			var o options.IndexOptions
			for _, set := range im.Options.List() {
				_ = set(&o)
			}
			if o.Name != nil {
				out[coll] = append(out[coll], *o.Name)
			}
		}
	}
	return out
}
