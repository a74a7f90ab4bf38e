package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/library"
)

// LibraryStore implements library.Store on SQLite.
type LibraryStore struct {
	db *pools
}

var _ library.Store = (*LibraryStore)(nil)

// libraryColumns is the column list every library query selects, in the
// order scanLibrary reads.
const libraryColumns = `id, code, name, type, parent_id, district, commune, address,
	lat, lng, hours, pickup_point, contact_phone, contact_email, contact_website,
	created_at, updated_at`

// hoursRow is the stored JSON form of one library.OpeningHours.
type hoursRow struct {
	Weekday time.Weekday `json:"weekday"`
	Opens   string       `json:"opens"`
	Closes  string       `json:"closes"`
}

// libraryArgs returns l's values in the order of libraryColumns.
func libraryArgs(l *library.Library) ([]any, error) {
	hours := make([]hoursRow, len(l.Hours))
	for i, h := range l.Hours {
		hours[i] = hoursRow{Weekday: h.Weekday, Opens: h.Opens, Closes: h.Closes}
	}
	hoursJSON, err := json.Marshal(hours)
	if err != nil {
		return nil, fmt.Errorf("encoding opening hours: %w", err)
	}
	var lat, lng any
	if l.Location != nil {
		lat, lng = l.Location.Lat, l.Location.Lng
	}
	return []any{l.ID, l.Code, l.Name, string(l.Type), nullIfEmpty(l.ParentID), l.District, l.Commune, l.Address,
		lat, lng, string(hoursJSON), l.PickupPoint, l.Contact.Phone, l.Contact.Email, l.Contact.Website,
		fmtTime(l.CreatedAt), fmtTime(l.UpdatedAt)}, nil
}

// scanLibrary reads one row selected with libraryColumns.
func scanLibrary(row interface{ Scan(...any) error }) (*library.Library, error) {
	var (
		l                    library.Library
		typ, hoursJSON       string
		parentID             sql.NullString
		lat, lng             sql.NullFloat64
		createdAt, updatedAt string
	)
	if err := row.Scan(&l.ID, &l.Code, &l.Name, &typ, &parentID, &l.District, &l.Commune, &l.Address,
		&lat, &lng, &hoursJSON, &l.PickupPoint, &l.Contact.Phone, &l.Contact.Email, &l.Contact.Website,
		&createdAt, &updatedAt); err != nil {
		return nil, err
	}
	l.Type = library.Type(typ)
	l.ParentID = parentID.String
	if lat.Valid && lng.Valid {
		l.Location = &library.Point{Lat: lat.Float64, Lng: lng.Float64}
	}
	var hours []hoursRow
	if err := json.Unmarshal([]byte(hoursJSON), &hours); err != nil {
		return nil, fmt.Errorf("library %s: opening hours: %w", l.ID, err)
	}
	for _, h := range hours {
		l.Hours = append(l.Hours, library.OpeningHours{Weekday: h.Weekday, Opens: h.Opens, Closes: h.Closes})
	}
	var err error
	if l.CreatedAt, err = parseTime(createdAt); err != nil {
		return nil, fmt.Errorf("library %s: %w", l.ID, err)
	}
	if l.UpdatedAt, err = parseTime(updatedAt); err != nil {
		return nil, fmt.Errorf("library %s: %w", l.ID, err)
	}
	return &l, nil
}

// libraryWriteError maps a constraint failure on write to the domain error.
func libraryWriteError(err error) error {
	if cols, ok := uniqueViolation(err); ok && strings.Contains(cols, "libraries.code") {
		return library.ErrCodeTaken
	}
	return err
}

// CreateLibrary inserts l, giving it a new ID when it has none; a taken code
// fails with library.ErrCodeTaken.
func (s *LibraryStore) CreateLibrary(ctx context.Context, l *library.Library) error {
	if l.ID == "" {
		l.ID = newID()
	}
	args, err := libraryArgs(l)
	if err != nil {
		return fmt.Errorf("creating library %s: %w", l.Code, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO libraries (`+libraryColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return fmt.Errorf("creating library %s: %w", l.Code, libraryWriteError(err))
	}
	return nil
}

// UpdateLibrary replaces every field of the library with l.ID;
// thuvienso.ErrNotFound when there is none, library.ErrCodeTaken when
// another library has l.Code.
func (s *LibraryStore) UpdateLibrary(ctx context.Context, l *library.Library) error {
	args, err := libraryArgs(l)
	if err != nil {
		return fmt.Errorf("updating library %s: %w", l.ID, err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE libraries SET
		code = ?2, name = ?3, type = ?4, parent_id = ?5, district = ?6, commune = ?7, address = ?8,
		lat = ?9, lng = ?10, hours = ?11, pickup_point = ?12,
		contact_phone = ?13, contact_email = ?14, contact_website = ?15,
		created_at = ?16, updated_at = ?17
		WHERE id = ?1`, args...)
	if err != nil {
		return fmt.Errorf("updating library %s: %w", l.ID, libraryWriteError(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("updating library %s: %w", l.ID, err)
	} else if n == 0 {
		return fmt.Errorf("updating library %s: %w", l.ID, thuvienso.ErrNotFound)
	}
	return nil
}

// Library returns the library with this ID, or thuvienso.ErrNotFound.
func (s *LibraryStore) Library(ctx context.Context, id string) (*library.Library, error) {
	l, err := scanLibrary(s.db.QueryRowContext(ctx, `SELECT `+libraryColumns+` FROM libraries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("library %s: %w", id, err)
	}
	return l, nil
}

// LibraryByCode returns the library with this code, or thuvienso.ErrNotFound.
func (s *LibraryStore) LibraryByCode(ctx context.Context, code string) (*library.Library, error) {
	l, err := scanLibrary(s.db.QueryRowContext(ctx, `SELECT `+libraryColumns+` FROM libraries WHERE code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("library with code %s: %w", code, err)
	}
	return l, nil
}

// LibrariesByID returns the libraries with these IDs that exist, ordered
// by code, in one query.
func (s *LibraryStore) LibrariesByID(ctx context.Context, ids []string) ([]*library.Library, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ls, err := s.query(ctx, `SELECT `+libraryColumns+` FROM libraries
		WHERE id IN (SELECT value FROM json_each(?)) ORDER BY code`, jsonArray(ids))
	if err != nil {
		return nil, fmt.Errorf("libraries by id: %w", err)
	}
	return ls, nil
}

// Libraries returns the libraries of these types (all when empty) in this
// district (all when empty), ordered by code.
func (s *LibraryStore) Libraries(ctx context.Context, types []library.Type, district string) ([]*library.Library, error) {
	q := `SELECT ` + libraryColumns + ` FROM libraries WHERE 1 = 1`
	var args []any
	if len(types) > 0 {
		ts := make([]string, len(types))
		for i, t := range types {
			ts[i] = string(t)
		}
		q += ` AND type IN (SELECT value FROM json_each(?))`
		args = append(args, jsonArray(ts))
	}
	if district != "" {
		q += ` AND district = ?`
		args = append(args, district)
	}
	ls, err := s.query(ctx, q+` ORDER BY code`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing libraries: %w", err)
	}
	return ls, nil
}

// CountLibraries returns how many libraries there are.
func (s *LibraryStore) CountLibraries(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM libraries`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting libraries: %w", err)
	}
	return n, nil
}

// query runs a libraries query and reads every row.
func (s *LibraryStore) query(ctx context.Context, q string, args ...any) ([]*library.Library, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ls []*library.Library
	for rows.Next() {
		l, err := scanLibrary(rows)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, rows.Err()
}
