//go:build !linux

package search

import "errors"

// exchangeDirs is unsupported here: RebuildDir swaps by two renames.
func exchangeDirs(a, b string) error { return errors.ErrUnsupported }
