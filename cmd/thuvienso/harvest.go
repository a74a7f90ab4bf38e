package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/ingest"
	"github.com/bacninh/thuvienso/ingest/oai"
	"github.com/bacninh/thuvienso/store"
)

// harvestRepo runs `thuvienso harvest --library CODE [--set S] URL`: an
// OAI-PMH harvest of Dublin Core records into the library's catalogue,
// incremental from the library's saved state (the `from` of the last
// complete harvest, or the resumption token of an interrupted one). The
// state is saved before each page is stored and at the end, so an
// interrupted harvest resumes and re-stores at most one page, which
// changes nothing.
func harvestRepo(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("harvest", flag.ContinueOnError)
	fs.SetOutput(out)
	code := fs.String("library", "", "code of the library the records belong to (required)")
	set := fs.String("set", "", "OAI-PMH set to harvest (all when empty)")
	prefix := fs.String("prefix", "oai_dc", "metadataPrefix")
	full := fs.Bool("full", false, "ignore the saved state and harvest everything")
	sf := addStoreFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: thuvienso harvest --library CODE [--set S] [flags] URL\n\nHarvests an OAI-PMH repository (Dublin Core) into the catalogue.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || *code == "" {
		fs.Usage()
		return errors.New("harvest: --library CODE and one URL are required")
	}
	url := fs.Arg(0)
	s, _, err := sf.openStore(ctx, getenv)
	if err != nil {
		return fmt.Errorf("harvest: %w", err)
	}
	defer s.Close(context.WithoutCancel(ctx))
	lib, err := libraryID(ctx, s, *code)
	if err != nil {
		return fmt.Errorf("harvest: %w", err)
	}
	st, err := loadHarvestState(ctx, s, lib, url, *set, *prefix, *full)
	if err != nil {
		return fmt.Errorf("harvest: %w", err)
	}
	if st.From != "" || st.ResumptionToken != "" {
		fmt.Fprintf(out, "harvesting %s from %q (resumption token %q)\n", url, st.From, st.ResumptionToken)
	} else {
		fmt.Fprintf(out, "harvesting %s in full\n", url)
	}
	save := func() error {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		return s.Catalog.PutHarvestCheckpoint(ctx, &catalog.HarvestCheckpoint{
			LibraryID: lib, URL: url, Set: *set, State: b, UpdatedAt: time.Now()})
	}
	svc := &catalog.Service{Store: s.Catalog}
	total := &catalog.ApplyResult{}
	c := &oai.Client{BaseURL: url, UserAgent: "thuvienso-harvester"}
	rep, herr := ingest.Harvest(ctx, c, st, ingest.Options{LibraryID: lib}, func(b *ingest.Batch) error {
		if err := save(); err != nil {
			return fmt.Errorf("saving the harvest state: %w", err)
		}
		res, err := svc.Import(ctx, toCatalog(lib, b))
		total.Add(res)
		return err
	})
	if rep != nil {
		printReport(out, rep)
	}
	printResult(out, total)
	if err := save(); err != nil {
		return errors.Join(herr, fmt.Errorf("harvest: saving the state: %w", err))
	}
	if herr != nil {
		return fmt.Errorf("harvest: %w (the saved state resumes it)", herr)
	}
	fmt.Fprintf(out, "complete; the next harvest starts from %q\n", st.From)
	return nil
}

// loadHarvestState returns the saved state of the library's harvest of
// url and set, or a fresh one when there is none, it belongs to another
// repository, set or format, or full is set.
func loadHarvestState(ctx context.Context, s *store.Set, lib, url, set, prefix string, full bool) (*oai.HarvestState, error) {
	fresh := &oai.HarvestState{MetadataPrefix: prefix, Set: set}
	if full {
		return fresh, nil
	}
	cp, err := s.Catalog.HarvestCheckpoint(ctx, lib)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return fresh, nil
	}
	if err != nil {
		return nil, err
	}
	if cp.URL != url || cp.Set != set {
		return fresh, nil
	}
	var st oai.HarvestState
	if err := json.Unmarshal(cp.State, &st); err != nil || st.MetadataPrefix != prefix {
		return fresh, nil
	}
	return &st, nil
}
