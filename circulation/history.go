package circulation

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
)

// Reading history.
//
// A reader's reading history is off by default, as library privacy
// practice asks (ALA's Library Bill of Rights on privacy, Koha's OPAC
// privacy setting): nothing about what a reader borrowed is kept for them
// unless they turn it on. While it is on, every loan of theirs that is
// returned (checked in) becomes one entry: the work, a snapshot of its
// title and authors (so the entry still reads right when the catalogue
// changes), the lending library, and the borrowed and returned times.
// Returns are recorded rather than check-outs because an entry is then
// written once, complete, and a loan still out is already in MyLoans; a
// loan that ends LOST is not an entry (the reader did not finish with it).
// Whether a return is recorded depends on the setting when it is checked in.
//
// Turning the history off stops recording; the entries already kept stay
// until the reader clears them (ClearHistory, which deletes them for good)
// or deletes one (DeleteHistoryEntry). Turning it off is a switch a reader
// may flip by mistake or for a while, and deleting is irreversible, so it
// is a separate, explicit act; an app should offer both together ("turn
// off and clear") and offer the export first.
//
// Only the reader reads their history: every method here acts on the
// actor's own account and none takes a reader ID, so a librarian or an
// admin has no way to read another reader's history (they see their own,
// as readers). The entries are in no staff listing and no event.

// HistorySetting is whether a reader keeps a reading history.
type HistorySetting struct {
	ReaderID string
	// Enabled: returns are recorded.
	Enabled bool
	// UpdatedAt is when the setting last changed (or the history was cleared).
	UpdatedAt time.Time
	// Version counts changes (0: never set); recording an entry checks it
	// did not change meanwhile.
	Version int
}

// HistoryEntry is one returned loan in a reader's reading history.
type HistoryEntry struct {
	// ID is the ID of the loan.
	ID       string
	ReaderID string
	WorkID   string
	// Title and Authors are the work's as they were when the loan ended.
	Title   string
	Authors []string
	// LibraryID and LibraryName are the library that lent the copy.
	LibraryID   string
	LibraryName string
	BorrowedAt  time.Time
	ReturnedAt  time.Time
}

// HistoryCursor is a position in a reader's history, which is ordered
// newest first (ReturnedAt, then ID, descending).
type HistoryCursor struct {
	ReturnedAt time.Time
	ID         string
}

// HistoryCursorOf returns the position of e.
func HistoryCursorOf(e *HistoryEntry) HistoryCursor {
	return HistoryCursor{ReturnedAt: e.ReturnedAt, ID: e.ID}
}

// EncodeHistoryCursor returns the opaque cursor of a position in a history.
func EncodeHistoryCursor(c HistoryCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte("h:" + strconv.FormatInt(c.ReturnedAt.UnixNano(), 10) + ":" + c.ID))
}

// DecodeHistoryCursor reads a cursor made by EncodeHistoryCursor.
func DecodeHistoryCursor(s string) (HistoryCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return HistoryCursor{}, ErrBadHistoryCursor
	}
	rest, ok := strings.CutPrefix(string(b), "h:")
	ns, id, ok2 := strings.Cut(rest, ":")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || !ok2 || err != nil || id == "" {
		return HistoryCursor{}, ErrBadHistoryCursor
	}
	return HistoryCursor{ReturnedAt: time.Unix(0, n).UTC(), ID: id}, nil
}

// Page sizes of History.
const (
	// DefaultHistoryPage is the page size when first is 0 or less.
	DefaultHistoryPage = 20
	// MaxHistoryPage is the largest page.
	MaxHistoryPage = 100
)

// HistoryPage is one page of a reader's history, newest first.
type HistoryPage struct {
	Entries []*HistoryEntry
	// HasNextPage says whether older entries follow.
	HasNextPage bool
}

// historyReader returns the actor's account ID: the only history an actor
// may touch is their own.
func historyReader(actor auth.Actor) (string, error) {
	if actor.AccountID == "" {
		return "", thuvienso.ErrUnauthenticated
	}
	return actor.AccountID, nil
}

// HistorySetting returns whether the actor keeps a reading history (off,
// Version 0, for a reader who never chose).
func (s *Service) HistorySetting(ctx context.Context, actor auth.Actor) (*HistorySetting, error) {
	id, err := historyReader(actor)
	if err != nil {
		return nil, fmt.Errorf("reading the history setting: %w", err)
	}
	set, err := s.store.HistorySetting(ctx, id)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return &HistorySetting{ReaderID: id}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the history setting: %w", err)
	}
	return set, nil
}

// SetHistoryEnabled turns the actor's reading history on or off. Turning
// it off stops recording and keeps the entries (ClearHistory deletes them).
func (s *Service) SetHistoryEnabled(ctx context.Context, actor auth.Actor, enabled bool) (*HistorySetting, error) {
	id, err := historyReader(actor)
	if err == nil {
		var set *HistorySetting
		if set, err = s.store.SetHistorySetting(ctx, id, enabled, s.now()); err == nil {
			return set, nil
		}
	}
	return nil, fmt.Errorf("changing the history setting: %w", err)
}

// History returns up to first entries of the actor's reading history
// after the cursor after ("" for the newest), newest first. first is
// DefaultHistoryPage when 0 or less and at most MaxHistoryPage.
func (s *Service) History(ctx context.Context, actor auth.Actor, first int, after string) (*HistoryPage, error) {
	id, err := historyReader(actor)
	if err != nil {
		return nil, fmt.Errorf("reading the history: %w", err)
	}
	if first <= 0 {
		first = DefaultHistoryPage
	}
	first = min(first, MaxHistoryPage)
	var cur *HistoryCursor
	if after != "" {
		c, err := DecodeHistoryCursor(after)
		if err != nil {
			return nil, err
		}
		cur = &c
	}
	es, err := s.store.HistoryEntries(ctx, id, cur, first+1)
	if err != nil {
		return nil, fmt.Errorf("reading the history: %w", err)
	}
	p := &HistoryPage{Entries: es}
	if len(es) > first {
		p.Entries, p.HasNextPage = es[:first], true
	}
	return p, nil
}

// HistoryCount returns how many entries the actor's history has (the
// connection's totalCount).
func (s *Service) HistoryCount(ctx context.Context, actor auth.Actor) (int, error) {
	id, err := historyReader(actor)
	if err == nil {
		var n int
		if n, err = s.store.CountHistory(ctx, id); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("counting the history: %w", err)
}

// DeleteHistoryEntry deletes one entry of the actor's history; another
// reader's entry is NOT_FOUND.
func (s *Service) DeleteHistoryEntry(ctx context.Context, actor auth.Actor, entryID string) error {
	id, err := historyReader(actor)
	if err == nil {
		err = s.store.DeleteHistoryEntry(ctx, id, entryID)
	}
	if err != nil {
		return fmt.Errorf("deleting history entry %s: %w", entryID, err)
	}
	return nil
}

// ClearHistory deletes every entry of the actor's history for good and
// returns how many there were; the setting stays as it is. A return being
// recorded at the same moment does not survive the clear.
func (s *Service) ClearHistory(ctx context.Context, actor auth.Actor) (int, error) {
	id, err := historyReader(actor)
	if err == nil {
		var n int
		if n, err = s.store.ClearHistory(ctx, id, s.now()); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("clearing the history: %w", err)
}

// ExportFormat is a file format of ExportHistory.
type ExportFormat string

// Export formats.
const (
	// ExportCSV is comma-separated values in UTF-8 with a byte order mark
	// (so that spreadsheet programs show Vietnamese right), one row per
	// entry under a header row in the reader's language.
	ExportCSV ExportFormat = "CSV"
	// ExportJSON is a JSON object {"exportedAt", "entries": [...]}, with
	// field names in English whatever the language.
	ExportJSON ExportFormat = "JSON"
)

// HistoryExport is a file of the reader's history to download.
type HistoryExport struct {
	Data []byte
	// MediaType is the Content-Type to serve it with.
	MediaType string
	// Filename is a name to offer for saving it (Content-Disposition).
	Filename string
}

// exportBatch is how many entries ExportHistory reads at once.
const exportBatch = 500

// ExportHistory returns the actor's whole reading history, newest first,
// as a file in format (CSV or JSON; CSV headers in lang, "vi" or "en").
// Times are RFC 3339 in the province's time.
func (s *Service) ExportHistory(ctx context.Context, actor auth.Actor, format ExportFormat, lang string) (*HistoryExport, error) {
	x, err := s.exportHistory(ctx, actor, format, lang)
	if err != nil {
		return nil, fmt.Errorf("exporting the history: %w", err)
	}
	return x, nil
}

func (s *Service) exportHistory(ctx context.Context, actor auth.Actor, format ExportFormat, lang string) (*HistoryExport, error) {
	id, err := historyReader(actor)
	if err != nil {
		return nil, err
	}
	format = ExportFormat(strings.ToUpper(strings.TrimSpace(string(format))))
	if format != ExportCSV && format != ExportJSON {
		return nil, ErrBadExportFormat
	}
	var all []*HistoryEntry
	var after *HistoryCursor
	for {
		es, err := s.store.HistoryEntries(ctx, id, after, exportBatch)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
		if len(es) < exportBatch {
			break
		}
		c := HistoryCursorOf(es[len(es)-1])
		after = &c
	}
	now := s.now().In(thuvienso.Zone)
	name := "lich-su-doc-" + now.Format(time.DateOnly)
	if format == ExportJSON {
		return exportJSON(all, now, name)
	}
	return exportCSV(all, lang, name)
}

// historyJSON is an entry as exported.
type historyJSON struct {
	WorkID      string   `json:"workId"`
	Title       string   `json:"title"`
	Authors     []string `json:"authors"`
	LibraryID   string   `json:"libraryId"`
	LibraryName string   `json:"libraryName"`
	BorrowedAt  string   `json:"borrowedAt"`
	ReturnedAt  string   `json:"returnedAt"`
}

func exportJSON(es []*HistoryEntry, now time.Time, name string) (*HistoryExport, error) {
	doc := struct {
		ExportedAt string        `json:"exportedAt"`
		Entries    []historyJSON `json:"entries"`
	}{ExportedAt: now.Format(time.RFC3339), Entries: make([]historyJSON, 0, len(es))}
	for _, e := range es {
		authors := e.Authors
		if authors == nil {
			authors = []string{}
		}
		doc.Entries = append(doc.Entries, historyJSON{WorkID: e.WorkID, Title: e.Title, Authors: authors,
			LibraryID: e.LibraryID, LibraryName: e.LibraryName, BorrowedAt: provinceTime(e.BorrowedAt),
			ReturnedAt: provinceTime(e.ReturnedAt)})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return &HistoryExport{Data: append(b, '\n'), MediaType: "application/json", Filename: name + ".json"}, nil
}

// csvHeaders are the header rows of a CSV export by language.
var csvHeaders = map[string][]string{
	"vi": {"Ngày mượn", "Ngày trả", "Nhan đề", "Tác giả", "Thư viện", "Mã tài liệu"},
	"en": {"Borrowed", "Returned", "Title", "Authors", "Library", "Work ID"},
}

func exportCSV(es []*HistoryEntry, lang, name string) (*HistoryExport, error) {
	var b bytes.Buffer
	b.WriteString("\uFEFF") // spreadsheet programs read UTF-8 by it
	w := csv.NewWriter(&b)
	w.UseCRLF = true // RFC 4180
	header, ok := csvHeaders[lang]
	if !ok {
		header = csvHeaders["vi"]
	}
	rows := [][]string{header}
	for _, e := range es {
		rows = append(rows, []string{provinceTime(e.BorrowedAt), provinceTime(e.ReturnedAt), csvCell(e.Title),
			csvCell(strings.Join(e.Authors, "; ")), csvCell(e.LibraryName), e.WorkID})
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return &HistoryExport{Data: b.Bytes(), MediaType: "text/csv; charset=utf-8", Filename: name + ".csv"}, nil
}

// csvCell keeps a spreadsheet from reading text as a formula (a title that
// begins with =, +, -, @ is prefixed with an apostrophe, as OWASP advises
// for CSV files).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// provinceTime formats t as RFC 3339 in the province's time.
func provinceTime(t time.Time) string { return t.In(thuvienso.Zone).Format(time.RFC3339) }

// recordHistory keeps a returned loan in its reader's history when the
// reader has it on. Best effort: the return has happened and is not undone
// for it, so a failure is logged.
func (s *Service) recordHistory(ctx context.Context, l *Loan) {
	if l.State != LoanReturned || l.ReturnedAt == nil {
		return
	}
	if err := s.addToHistory(ctx, l); err != nil {
		s.logger.WarnContext(ctx, "circulation: recording reading history", "loan", l.ID, "err", err)
	}
}

func (s *Service) addToHistory(ctx context.Context, l *Loan) error {
	set, err := s.store.HistorySetting(ctx, l.ReaderID)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return nil
	}
	if err != nil || !set.Enabled {
		return err
	}
	e := &HistoryEntry{ID: l.ID, ReaderID: l.ReaderID, WorkID: l.WorkID, Authors: []string{}, LibraryID: l.LibraryID,
		BorrowedAt: l.CheckedOutAt.UTC(), ReturnedAt: l.ReturnedAt.UTC()}
	if l.WorkID != "" {
		w, err := s.catalog.Work(ctx, l.WorkID)
		switch {
		case errors.Is(err, thuvienso.ErrNotFound):
		case err != nil:
			return fmt.Errorf("reading work %s: %w", l.WorkID, err)
		default:
			e.Title = w.Title
			if w.Subtitle != "" {
				e.Title += ": " + w.Subtitle
			}
			for _, a := range w.Authors {
				e.Authors = append(e.Authors, a.Name)
			}
		}
	}
	libs, err := s.libs(ctx, l.LibraryID)
	if err != nil {
		return err
	}
	if lib := libs[l.LibraryID]; lib != nil {
		e.LibraryName = lib.Name
	}
	if err := s.store.AddHistoryEntry(ctx, e); err != nil {
		return err
	}
	// The setting changed, or the history was cleared, while this was
	// written: withdraw it (at worst one entry is lost; an entry the reader
	// cleared is never kept).
	now, err := s.store.HistorySetting(ctx, l.ReaderID)
	if err == nil && now.Version == set.Version {
		return nil
	}
	if derr := s.store.DeleteHistoryEntry(ctx, l.ReaderID, e.ID); derr != nil && !errors.Is(derr, thuvienso.ErrNotFound) {
		return errors.Join(err, derr)
	}
	return err
}
