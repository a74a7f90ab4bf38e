package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/bacninh/thuvienso/app"
	"github.com/bacninh/thuvienso/search"
)

// reindex runs `thuvienso reindex [flags]`: it rebuilds the search index
// from the store into INDEX_DIR with search.RebuildDir (built beside it,
// swapped in at the end, so an interrupted run leaves the old index) and
// prints the works indexed, the time taken and the index size.
func reindex(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(out)
	sf := addStoreFlags(fs)
	sf.indexDir = fs.String("index-dir", "", "folder of the search index (env INDEX_DIR; default DATA_DIR/index)")
	fs.Usage = func() {
		fmt.Fprintln(out, `usage: thuvienso reindex [flags]

Rebuilds the search index from the store into INDEX_DIR. The new index is
built in a folder beside it and swapped in at the end: an interrupted run
leaves the old index as it was.

A running server holds its index open and would not see the new one (and
reindex refuses an index that is open): run it for a stopped server, or
into the INDEX_DIR of a new instance before starting it. A running server
needs no reindex: it follows every change itself.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errors.New("reindex: takes no arguments")
	}
	cfg, err := sf.load(getenv)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	logger := cfg.Logger()
	s, err := app.OpenStore(ctx, cfg, logger)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer s.Close(context.WithoutCancel(ctx))
	fmt.Fprintf(out, "rebuilding the search index in %s\n", cfg.IndexDir)
	res, err := search.RebuildDir(ctx, cfg.IndexDir, s.Catalog, s.Libraries, logger)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	fmt.Fprintf(out, "indexed %d works in %s; index size %s (up to catalog change %d)\n",
		res.Works, res.Took.Round(time.Millisecond), formatBytes(res.Bytes), res.Watermark)
	return nil
}

// formatBytes writes a size in binary units: 512 B, 3.4 MiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
