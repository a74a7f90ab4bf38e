package search

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// exchangeDirs swaps the folders a and b in one atomic step
// (renameat2 RENAME_EXCHANGE). It returns errors.ErrUnsupported where the
// kernel or the file system cannot.
func exchangeDirs(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOTSUP):
		return fmt.Errorf("exchanging %s and %s: %w (%w)", a, b, errors.ErrUnsupported, err)
	default:
		return fmt.Errorf("exchanging %s and %s: %w", a, b, err)
	}
}
