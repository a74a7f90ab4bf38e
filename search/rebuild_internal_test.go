package search

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Where folders cannot be exchanged atomically, the swap takes two renames
// and ends in the same place: the new index in dir, the old one in build.
func TestSwapWithoutAtomicExchangeEndsLikeTheExchange(t *testing.T) {
	for name, fn := range map[string]func(a, b string) error{
		"exchange":    exchangeDirs,
		"two renames": func(string, string) error { return errors.ErrUnsupported },
	} {
		t.Run(name, func(t *testing.T) {
			defer func(f func(a, b string) error) { exchange = f }(exchange)
			exchange = fn
			root := t.TempDir()
			dir, build := filepath.Join(root, "index"), filepath.Join(root, "index"+newSuffix)
			for d, content := range map[string]string{dir: "old", build: "new"} {
				if err := os.MkdirAll(d, 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(d, "marker"), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := swapIn(build, dir); err != nil {
				t.Fatal(err)
			}
			for d, want := range map[string]string{dir: "new", build: "old"} {
				if got, err := os.ReadFile(filepath.Join(d, "marker")); err != nil || string(got) != want {
					t.Errorf("%s holds %q (%v), want %q", filepath.Base(d), got, err, want)
				}
			}
			if _, err := os.Stat(dir + oldSuffix); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s left behind: %v", oldSuffix, err)
			}
		})
	}
}
