package ingest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/ingest/marc"
	"github.com/bacninh/thuvienso/ingest/oai"
)

// DublinCore holds the fifteen elements of a simple Dublin Core record
// (oai_dc), each as the list of its values in document order.
type DublinCore map[string][]string

// ParseDublinCore reads an oai_dc:dc (or any element whose children are
// Dublin Core elements, matched by local name).
func ParseDublinCore(data []byte) (DublinCore, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	dc := DublinCore{}
	depth := 0
	var cur string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("Dublin Core: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				cur = t.Name.Local
				text.Reset()
			}
		case xml.CharData:
			if depth >= 2 {
				text.Write(t)
			}
		case xml.EndElement:
			if depth == 2 && cur != "" {
				if v := strings.TrimSpace(text.String()); v != "" {
					dc[cur] = append(dc[cur], v)
				}
				cur = ""
			}
			depth--
		}
	}
	if depth != 0 {
		return nil, errors.New("Dublin Core: unbalanced document")
	}
	return dc, nil
}

// MapDublinCore turns a Dublin Core record into a catalog record: title,
// creators (role author) and contributors, subjects, description (summary),
// publisher, date (year), language, type (format), identifiers (ISBNs and
// links), relation/source as series are not guessed.
func MapDublinCore(dc DublinCore, sourceID string, o Options) (catalog.Record, []string) {
	var warn []string
	first := func(k string) string {
		if v := dc[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	r := catalog.Record{
		LibraryID: o.LibraryID, SourceID: sourceID, SourceFormat: catalog.SourceOAIDC,
		Title: first("title"), Publisher: first("publisher"), Year: extractYear(first("date")),
		Subjects: dc["subject"], Summary: strings.Join(dc["description"], "\n"),
		Format: dcFormat(dc["type"]),
	}
	for _, c := range dc["creator"] {
		r.Authors = append(r.Authors, catalog.Author{Name: c, Role: catalog.RoleAuthor})
	}
	for _, c := range dc["contributor"] {
		r.Authors = append(r.Authors, catalog.Author{Name: c, Role: catalog.RoleContributor})
	}
	for _, l := range dc["language"] {
		if code := normalizeLanguage(l); code != "" {
			r.Languages = append(r.Languages, code)
		}
	}
	for _, id := range dc["identifier"] {
		low := strings.ToLower(id)
		switch {
		case strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://"):
			r.Links = append(r.Links, catalog.Link{URL: id})
		case strings.HasPrefix(low, "isbn") || strings.HasPrefix(low, "urn:isbn:"):
			i, err := catalog.ParseISBN(id)
			if err != nil {
				warn = append(warn, fmt.Sprintf("ISBN %q kept but not used for clustering: %s", i.Raw, reason(err)))
			}
			if i.Raw != "" {
				r.ISBNs = append(r.ISBNs, i)
			}
		}
	}
	return r, warn
}

// dcFormat maps dc:type values (DCMI types, info:eu-repo types, free words)
// to a format; the most specific wins.
func dcFormat(types []string) catalog.Format {
	best, rank := catalog.FormatOther, 0
	for _, t := range types {
		t = strings.ToLower(t)
		f, r := catalog.FormatOther, 0
		switch {
		case strings.Contains(t, "thesis") || strings.Contains(t, "luan van") || strings.Contains(t, "luận"):
			f, r = catalog.FormatThesis, 9
		case strings.Contains(t, "periodical") || strings.Contains(t, "journal") || strings.Contains(t, "newspaper") || strings.Contains(t, "magazine"):
			f, r = catalog.FormatPeriodical, 8
		case strings.Contains(t, "sound") || strings.Contains(t, "audio"):
			f, r = catalog.FormatAudiobook, 7
		case strings.Contains(t, "movingimage") || strings.Contains(t, "video") || strings.Contains(t, "film"):
			f, r = catalog.FormatVideo, 7
		case strings.Contains(t, "map") || strings.Contains(t, "cartographic"):
			f, r = catalog.FormatMap, 7
		case strings.Contains(t, "music") || strings.Contains(t, "score"):
			f, r = catalog.FormatMusic, 7
		case strings.Contains(t, "ebook") || strings.Contains(t, "e-book"):
			f, r = catalog.FormatEbook, 6
		case strings.Contains(t, "book"):
			f, r = catalog.FormatBook, 5
		case strings.Contains(t, "article") || strings.Contains(t, "image") || strings.Contains(t, "dataset") || strings.Contains(t, "software"):
			f, r = catalog.FormatOther, 4
		case t == "text":
			f, r = catalog.FormatBook, 1
		}
		if r > rank {
			best, rank = f, r
		}
	}
	return best
}

// AddOAIPage maps one harvested page into b: deleted headers become
// Deletions, oai_dc metadata goes through MapDublinCore and MARCXML metadata
// (marc21/marcxml prefixes) through MapMARC. pos is the position of the
// page's first record in the harvest. A record repeated later in the same
// harvest replaces the earlier one (a repository may list a record again
// after it changed).
func (b *Batch) AddOAIPage(page *oai.Page, pos int, o Options) {
	for i, rec := range page.Records {
		p := pos + i
		h := rec.Header
		b.Report.Read++
		if h.Identifier == "" {
			b.Report.skip(Note{Position: p, Reason: "record header without identifier"})
			continue
		}
		b.supersede(h.Identifier, p)
		if h.Deleted {
			b.Deletions = append(b.Deletions, Deletion{LibraryID: o.LibraryID, SourceID: h.Identifier, Datestamp: h.Time()})
			b.Report.Deleted++
			continue
		}
		r, items, warns, err := mapOAIMetadata(rec, o)
		if err != nil {
			b.Report.skip(Note{Position: p, SourceID: h.Identifier, Reason: err.Error()})
			continue
		}
		b.add(p, 0, r, items, warns, b.seenIDs(), b.seenBarcodes())
	}
}

func mapOAIMetadata(rec oai.Record, o Options) (catalog.Record, []catalog.Item, []string, error) {
	if len(rec.Metadata) == 0 {
		return catalog.Record{}, nil, nil, errors.New("record without metadata")
	}
	root, err := rootName(rec.Metadata)
	if err != nil {
		return catalog.Record{}, nil, nil, err
	}
	switch root {
	case "dc":
		dc, err := ParseDublinCore(rec.Metadata)
		if err != nil {
			return catalog.Record{}, nil, nil, err
		}
		r, w := MapDublinCore(dc, rec.Header.Identifier, o)
		return r, nil, w, nil
	case "record":
		m, err := marc.NewXMLReader(bytes.NewReader(rec.Metadata)).Next()
		if err != nil {
			return catalog.Record{}, nil, nil, fmt.Errorf("MARCXML metadata: %w", err)
		}
		raw, err := m.Encode()
		if err != nil {
			return catalog.Record{}, nil, nil, fmt.Errorf("MARCXML metadata: %w", err)
		}
		r, items, w := MapMARC(m, raw, o, catalog.SourceMARCXML)
		r.SourceID = rec.Header.Identifier // the OAI identifier is what deletions name
		for i := range items {
			items[i].RecordSourceID = r.SourceID
		}
		return r, items, append(m.Warnings, w...), nil
	}
	return catalog.Record{}, nil, nil, fmt.Errorf("metadata format <%s> not supported (use oai_dc or marc21)", root)
}

func rootName(data []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if err != nil {
			return "", fmt.Errorf("metadata: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local, nil
		}
	}
}

// The indexes below make AddOAIPage's "later replaces earlier" cheap.
func (b *Batch) seenIDs() map[string]int {
	if b.ids == nil {
		b.ids = map[string]int{}
	}
	return b.ids
}

func (b *Batch) seenBarcodes() map[string]bool {
	if b.barcodes == nil {
		b.barcodes = map[string]bool{}
	}
	return b.barcodes
}

// supersede removes an earlier record (and its items) or deletion with the
// source ID from b, reporting it as skipped: the entry at pos replaces it.
func (b *Batch) supersede(id string, pos int) {
	if first, ok := b.ids[id]; ok {
		delete(b.ids, id)
		for i := range b.Records {
			if b.Records[i].SourceID == id {
				b.Records = append(b.Records[:i], b.Records[i+1:]...)
				b.Report.Imported--
				b.Report.skip(Note{Position: first, SourceID: id, Reason: fmt.Sprintf("superseded by #%d", pos)})
				break
			}
		}
		items := b.Items[:0]
		for _, it := range b.Items {
			if it.RecordSourceID == id {
				delete(b.barcodes, it.Barcode)
				b.Report.Items--
				continue
			}
			items = append(items, it)
		}
		b.Items = items
	}
	for i := range b.Deletions {
		if b.Deletions[i].SourceID == id {
			b.Deletions = append(b.Deletions[:i], b.Deletions[i+1:]...)
			b.Report.Deleted--
			b.Report.skip(Note{SourceID: id, Reason: fmt.Sprintf("deletion superseded by #%d", pos)})
			return
		}
	}
}

// Harvest harvests one library's repository with c from st (see
// oai.Client.Harvest), mapping every page into a Batch handed to fn (the
// caller stores it before st is advanced). It returns the report of the
// whole harvest; on an error the report says how far it got and st is ready
// to resume.
func Harvest(ctx context.Context, c *oai.Client, st *oai.HarvestState, o Options, fn func(*Batch) error) (*Report, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	start := time.Now()
	total := &Report{Source: c.BaseURL, Format: catalog.SourceOAIDC, maxNotes: o.MaxNotes}
	pos := 1
	err := c.Harvest(ctx, st, func(p *oai.Page) error {
		b := newBatch(c.BaseURL, catalog.SourceOAIDC, o)
		b.AddOAIPage(p, pos, o)
		if err := fn(b); err != nil {
			return err
		}
		pos += len(p.Records)
		total.merge(&b.Report)
		return nil
	})
	total.Elapsed = time.Since(start)
	if err != nil {
		total.Error = err.Error()
		return total, err
	}
	return total, nil
}

// merge adds the counts and notes of r to t.
func (t *Report) merge(r *Report) {
	t.Read += r.Read
	t.Imported += r.Imported
	t.Skipped += r.Skipped
	t.Deleted += r.Deleted
	t.Items += r.Items
	t.WarningCount += r.WarningCount
	for _, n := range r.Skips {
		if len(t.Skips) < t.max() {
			t.Skips = append(t.Skips, n)
		}
	}
	for _, n := range r.Warnings {
		if len(t.Warnings) < t.max() {
			t.Warnings = append(t.Warnings, n)
		}
	}
}
