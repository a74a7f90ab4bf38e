package resolvers

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/graph/model"
	"github.com/bacninh/thuvienso/ingest"
	"github.com/bacninh/thuvienso/locale"
	"github.com/bacninh/thuvienso/search"
)

// facetNames maps the schema's FacetName to the search package's.
var facetNames = map[search.FacetName]model.FacetName{
	search.FacetFormat: model.FacetNameFormat, search.FacetLanguage: model.FacetNameLanguage,
	search.FacetLibraryType: model.FacetNameLibraryType, search.FacetDistrict: model.FacetNameDistrict,
	search.FacetLibrary: model.FacetNameLibrary, search.FacetSubject: model.FacetNameSubject,
	search.FacetDecade: model.FacetNameDecade,
}

// allFacets is the order facets are listed in.
var allFacets = []search.FacetName{search.FacetFormat, search.FacetLanguage, search.FacetLibraryType,
	search.FacetDistrict, search.FacetLibrary, search.FacetSubject, search.FacetDecade}

func searchRequest(query string, f *model.SearchFilter, sort search.Sort, first *int, after *string, facetSize *int) search.Request {
	req := search.Request{Query: query, Sort: sort, First: deref(first), After: deref(after), FacetSize: deref(facetSize), Highlight: true}
	if first != nil && *first == 0 {
		req.First = -1 // an explicit 0 is not "the default": let search refuse or return nothing
	}
	req.Filter = searchFilter(f)
	return req
}

// searchFilter converts the schema's filter (nil: none).
func searchFilter(f *model.SearchFilter) search.Filter {
	if f == nil {
		return search.Filter{}
	}
	out := search.Filter{LibraryIDs: f.LibraryIds, Districts: f.Districts, Formats: f.Formats, Languages: f.Languages,
		YearFrom: deref(f.YearFrom), YearTo: deref(f.YearTo), Subject: deref(f.Subject), AvailableAt: deref(f.AvailableAt)}
	for _, t := range f.LibraryTypes {
		out.LibraryTypes = append(out.LibraryTypes, string(t))
	}
	return out
}

// selects reports whether the client asked for field among the current
// field's children, so costly parts (facets) are computed only on demand.
func selects(ctx context.Context, field string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == field {
			return true
		}
	}
	return false
}

// selectsPath reports whether the client asked for the field at path below
// the current field (e.g. "edges", "node", "holdings").
func selectsPath(ctx context.Context, path ...string) bool {
	opCtx := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, nil)
	for i, name := range path {
		var next []graphql.CollectedField
		found := false
		for _, f := range fields {
			if f.Name == name {
				if i == len(path)-1 {
					return true
				}
				next, found = append(next, graphql.CollectFields(opCtx, f.Selections, nil)...), true
			}
		}
		if !found {
			return false
		}
		fields = next
	}
	return false
}

// searchConnection runs a search and loads the page's works in one batch.
func (r *Resolver) searchConnection(ctx context.Context, req search.Request) (*model.SearchConnection, error) {
	if req.First < 0 {
		return &model.SearchConnection{Edges: []*model.SearchEdge{}, Facets: []*model.Facet{}}, nil
	}
	if selects(ctx, "facets") {
		req.Facets = allFacets
	}
	res, err := r.Searcher.Search(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	// The page's works, copies and records in one batch each, and the
	// facet's library names, all asked for at once so that the loaders'
	// batch windows and queries run side by side rather than one after
	// another; the per-work fields then find them loaded, however their
	// goroutines are scheduled (a loader's batch window alone splits under
	// load). Errors surface on the fields that need the data.
	l := r.loadersFor(ctx)
	worksThunk := l.work.LoadAllThunk(ctx, ids)
	// A hit's availability is the index's count of its copies (a second
	// behind the store at most, as search results are): a results page
	// then reads no copies from the store unless it lists them.
	indexed := true
	for _, h := range res.Hits {
		if h.Copies == nil {
			indexed = false
			continue
		}
		l.availability.Prime(h.ID, &model.Availability{Total: h.Copies.Total, Available: h.Copies.Available, Libraries: h.Copies.Libraries})
	}
	var pending []func()
	if selectsPath(ctx, "edges", "node", "holdings") || (!indexed && selectsPath(ctx, "edges", "node", "availability")) {
		t := l.itemsByWork.LoadAllThunk(ctx, ids)
		pending = append(pending, func() { _, _ = t() })
	}
	if selectsPath(ctx, "edges", "node", "records") {
		t := l.recordsByWork.LoadAllThunk(ctx, ids)
		pending = append(pending, func() { _, _ = t() })
	}
	if libs := facetLibraries(res.Facets); len(libs) > 0 {
		t := l.library.LoadAllThunk(ctx, libs)
		pending = append(pending, func() { _, _ = t() })
	}
	works, err := worksThunk()
	for _, wait := range pending {
		wait()
	}
	var errs dataloadgen.ErrorSlice
	if err != nil && !errors.As(err, &errs) {
		return nil, fmt.Errorf("search: %w", err)
	}
	conn := &model.SearchConnection{TotalCount: res.TotalCount, Relaxed: res.Relaxed, Edges: make([]*model.SearchEdge, 0, len(ids)),
		PageInfo: model.PageInfo{HasNextPage: res.HasNextPage, HasPreviousPage: req.After != ""}}
	for i, h := range res.Hits {
		// A work deleted since the index saw it is left out of the page.
		if errs != nil && errs[i] != nil {
			if thuvienso.ErrorCode(errs[i]) == thuvienso.CodeNotFound {
				continue
			}
			return nil, fmt.Errorf("search: %w", errs[i])
		}
		e := &model.SearchEdge{Cursor: h.Cursor, Node: *works[i], Highlights: model.Highlights{Authors: h.Highlights["authors"]}}
		if t := h.Highlights["title"]; len(t) > 0 {
			e.Highlights.Title = &t[0]
		}
		if e.Highlights.Authors == nil {
			e.Highlights.Authors = []string{}
		}
		conn.Edges = append(conn.Edges, e)
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	conn.Facets, err = r.facets(ctx, res.Facets)
	return conn, err
}

// facetLibraries returns the library IDs the library facet lists.
func facetLibraries(in []search.Facet) []string {
	var ids []string
	for _, f := range in {
		if f.Name == search.FacetLibrary {
			for _, v := range f.Values {
				ids = append(ids, v.Value)
			}
		}
	}
	return ids
}

// formatLabels name formats in the reader's language.
var formatLabels = map[catalog.Format][2]string{
	catalog.FormatBook: {"Sách", "Book"}, catalog.FormatEbook: {"Sách điện tử", "E-book"},
	catalog.FormatAudiobook: {"Sách nói", "Audiobook"}, catalog.FormatPeriodical: {"Báo, tạp chí", "Periodical"},
	catalog.FormatThesis: {"Luận văn, luận án", "Thesis"}, catalog.FormatMap: {"Bản đồ", "Map"},
	catalog.FormatVideo: {"Phim, video", "Video"}, catalog.FormatMusic: {"Âm nhạc", "Music"},
	catalog.FormatOther: {"Khác", "Other"},
}

func (r *Resolver) facets(ctx context.Context, in []search.Facet) ([]*model.Facet, error) {
	lang := 0
	if locale.From(ctx) == "en" {
		lang = 1
	}
	// The library facet's names in one batch (searchConnection has asked
	// for them already): a loop of single loads would wait out the
	// loader's window once per value.
	libNames := map[string]string{}
	if ids := facetLibraries(in); len(ids) > 0 {
		libs, _ := r.loadersFor(ctx).library.LoadAll(ctx, ids) // a library not found keeps its id as label
		for _, l := range libs {
			if l != nil {
				libNames[l.ID] = l.Name
			}
		}
	}
	out := make([]*model.Facet, 0, len(in))
	for _, f := range in {
		mf := &model.Facet{Name: facetNames[f.Name], Other: f.Other, Values: make([]*model.FacetValue, 0, len(f.Values))}
		for _, v := range f.Values {
			label := v.Value
			switch f.Name {
			case search.FacetLibrary:
				if name := libNames[v.Value]; name != "" {
					label = name
				}
			case search.FacetFormat:
				if names, ok := formatLabels[catalog.Format(v.Value)]; ok {
					label = names[lang]
				}
			}
			mf.Values = append(mf.Values, &model.FacetValue{Value: v.Value, Label: label, Count: v.Count})
		}
		out = append(out, mf)
	}
	return out, nil
}

// availability sums a work's copies.
func availability(items []*catalog.StoredItem) *model.Availability {
	a := &model.Availability{Total: len(items)}
	libs := map[string]bool{}
	for _, it := range items {
		libs[it.LibraryID] = true
		if it.Status == catalog.StatusAvailable {
			a.Available++
		}
	}
	a.Libraries = len(libs)
	return a
}

// maxImportProblems bounds the problems an import mutation lists.
const maxImportProblems = 100

// importRecords reads an uploaded file and imports it into a library's
// catalog; only that library's staff may.
func (r *Resolver) importRecords(ctx context.Context, in model.ImportRecordsInput, staffCheck func(string) error) (*model.ImportRecordsPayload, error) {
	if err := staffCheck(in.LibraryID); err != nil {
		return nil, err
	}
	if _, err := r.LibraryService.Library(ctx, in.LibraryID); err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(in.ContentBase64)
	if err != nil {
		return nil, thuvienso.Invalid("input.contentBase64", "the content is not valid base64", "Nội dung tệp không phải base64 hợp lệ")
	}
	batch, err := ingest.Read(bytes.NewReader(data), in.Filename, ingest.Options{LibraryID: in.LibraryID})
	if err != nil {
		return nil, thuvienso.Invalid("input.filename", "the file could not be read: "+err.Error(), "Không đọc được tệp: "+err.Error())
	}
	res, err := r.CatalogService.Import(ctx, batch.ForLibrary(in.LibraryID))
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", in.Filename, err)
	}
	rep := batch.Report
	out := &model.ImportRecordsPayload{
		Read: rep.Read, Created: res.RecordsNew, Updated: res.RecordsUpdated, Unchanged: res.RecordsUnchanged,
		Skipped: rep.Skipped + res.RecordsSkipped, Deleted: res.Deleted, Items: res.ItemsNew + res.ItemsUpdated,
		ItemsRefused: res.ItemsConflicting, Problems: []*model.ImportProblem{},
	}
	add := func(p *model.ImportProblem) {
		if len(out.Problems) < maxImportProblems {
			out.Problems = append(out.Problems, p)
		}
	}
	for _, n := range rep.Skips {
		pos, id := n.Position, n.SourceID
		add(&model.ImportProblem{Position: &pos, ID: nonEmpty(id), Reason: n.Reason})
	}
	for _, p := range append(res.Skips, res.Conflicts...) {
		add(&model.ImportProblem{ID: nonEmpty(p.ID), Reason: p.Reason})
	}
	return out, nil
}
