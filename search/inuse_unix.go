//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package search

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// inUse reports whether another process has the index in dir open: an
// open index holds an exclusive lock on its root.bolt (bbolt's flock), so
// a non-blocking attempt to take that lock fails.
func inUse(dir string) (bool, error) {
	f, err := os.Open(filepath.Join(dir, "store", "root.bolt"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking whether %s is open: %w", dir, err)
	}
	defer f.Close()
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); {
	case err == nil:
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, nil
	default:
		return false, fmt.Errorf("checking whether %s is open: %w", dir, err)
	}
}
