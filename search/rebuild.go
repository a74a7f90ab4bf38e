package search

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// ErrIndexInUse is returned by RebuildDir when another process (a running
// server, or another rebuild) has the index folder open.
var ErrIndexInUse = errors.New("search: the index is open in another process")

// Suffixes of the folders RebuildDir keeps beside the index folder.
const (
	// newSuffix is the folder a rebuild builds into; after the swap it
	// holds the previous index until that is removed.
	newSuffix = ".new"
	// oldSuffix holds the previous index during a swap by two renames (where
	// the system cannot exchange two folders atomically); Open puts it back
	// when a crash came between the renames.
	oldSuffix = ".old"
)

// RebuildResult is what RebuildDir did.
type RebuildResult struct {
	// Works is the number of works indexed.
	Works int
	// Watermark is the catalog change sequence the new index reflects; a
	// server started on it follows the changes after it.
	Watermark int64
	// Bytes is the size of the new index on disk.
	Bytes int64
	// Took is the time from start to swap.
	Took time.Duration
}

// RebuildDir rebuilds the index in the folder dir from the catalog: it
// builds a complete new index in a fresh folder beside it (dir + ".new"),
// with the same Indexer.Rebuild a server runs on an empty index, then swaps
// it into dir. The swap is one atomic exchange of the two folders where the
// system has one (Linux), else two renames that Open undoes if a crash
// comes between them; so a failure or crash at any point leaves a complete
// index in dir (the old one until the swap). dir need not exist.
//
// A process with the index open keeps using the files it opened, so
// RebuildDir is for a stopped server or a new instance's folder; it
// refuses, with ErrIndexInUse, an index or a build folder that another
// process has open.
func RebuildDir(ctx context.Context, dir string, cat Catalog, libs Libraries, logger *slog.Logger) (*RebuildResult, error) {
	start := time.Now()
	if dir == "" {
		return nil, errors.New("search: rebuild: no index folder")
	}
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return nil, fmt.Errorf("search: rebuild: %w", err)
	}
	if err := recoverSwap(dir); err != nil {
		return nil, fmt.Errorf("search: rebuild: %w", err)
	}
	build := dir + newSuffix
	for _, d := range []string{dir, build} {
		if busy, err := inUse(d); err != nil {
			return nil, fmt.Errorf("search: rebuild: %w", err)
		} else if busy {
			return nil, fmt.Errorf("rebuilding %s: %w (stop the server, or rebuild into another INDEX_DIR)", d, ErrIndexInUse)
		}
	}
	// A build folder left by an interrupted rebuild is incomplete.
	if err := os.RemoveAll(build); err != nil {
		return nil, fmt.Errorf("search: rebuild: removing an unfinished build: %w", err)
	}
	res, err := buildInto(ctx, build, cat, libs, logger)
	if err != nil {
		_ = os.RemoveAll(build)
		return nil, err
	}
	if err := swapIn(build, dir); err != nil {
		return nil, fmt.Errorf("search: rebuild: swapping the new index into %s: %w", dir, err)
	}
	// build now holds the previous index, if there was one.
	if err := os.RemoveAll(build); err != nil {
		logger.Warn("search rebuild: could not remove the previous index", "dir", build, "err", err)
	}
	res.Took = time.Since(start)
	return res, nil
}

// buildInto indexes the whole catalog into a new index in the folder path
// and closes it.
func buildInto(ctx context.Context, path string, cat Catalog, libs Libraries, logger *slog.Logger) (_ *RebuildResult, err error) {
	idx, err := Open(path)
	if err != nil {
		return nil, fmt.Errorf("search: rebuild: %w", err)
	}
	defer func() {
		if cerr := idx.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("search: rebuild: %w", cerr)
		}
	}()
	x := &Indexer{Index: idx, Catalog: cat, Libraries: libs, Logger: logger}
	n, err := x.Rebuild(ctx)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	w, err := idx.Watermark()
	if err != nil {
		return nil, fmt.Errorf("search: rebuild: %w", err)
	}
	size, err := dirSize(path)
	if err != nil {
		return nil, fmt.Errorf("search: rebuild: %w", err)
	}
	return &RebuildResult{Works: n, Watermark: w, Bytes: size}, nil
}

// exchange is exchangeDirs; tests replace it to take the two-rename path.
var exchange = exchangeDirs

// swapIn puts the folder build in the place of dir; afterwards build holds
// what dir held (nothing when dir did not exist).
func swapIn(build, dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(build, dir)
	} else if err != nil {
		return err
	}
	if err := exchange(build, dir); err == nil {
		return nil
	} else if !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	// Two renames: a crash between them leaves dir missing and the
	// previous index in old, which Open moves back.
	old := dir + oldSuffix
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(build, dir); err != nil {
		return errors.Join(err, os.Rename(old, dir))
	}
	return os.Rename(old, build)
}

// recoverSwap moves the previous index back into dir when a swap by two
// renames was interrupted between them.
func recoverSwap(dir string) error {
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	old := dir + oldSuffix
	if _, err := os.Stat(old); err != nil {
		return nil
	}
	if err := os.Rename(old, dir); err != nil {
		return fmt.Errorf("restoring the index of an interrupted swap: %w", err)
	}
	return nil
}

// dirSize returns the total size of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measuring %s: %w", dir, err)
	}
	return n, nil
}
