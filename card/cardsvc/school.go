package cardsvc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/lock"
	"github.com/bacninh/thuvienso/vietnamese"
)

// Bulk registration limits: a school's roll fits easily; a mistaken upload
// of something else does not run for minutes.
const (
	MaxStudentsCSVBytes = 2 << 20
	MaxStudentRows      = 3000
)

// PendingActivation is the password hash of a bulk-registered student: it
// is no argon2id hash, so no password matches it and the account cannot log
// in until a librarian activates it at the desk (ActivateStudent), where
// the student (or their guardian) chooses a password. Their card works from
// the start: it is printed and shown, and verified like any other.
//
// Why not one initial password per batch: 500 classmates sharing one
// password (even "to be changed") could log in as each other until each
// changes it, and a leaked class list would be a leaked set of logins. Why
// not a random password each: hashing 500 argon2id passwords costs about
// 12 s of CPU in one request, and the printouts would be a list of secrets.
const PendingActivation = "!pending-activation"

// StudentRow is one student of a bulk registration.
type StudentRow struct {
	// Line is the line of the CSV the student was on (the header is line 1).
	Line       int
	StudentID  string
	Name       string
	Class      string
	AccountID  string
	CardNumber string
}

// RowError is a row that was not registered, and why.
type RowError struct {
	Line      int
	StudentID string
	// Err says what is wrong; its Field names the column ("name", "class",
	// "studentId", or "" for the row as a whole).
	Err *thuvienso.Error
}

// RegisterStudentsResult reports a bulk registration: the students
// registered now, those registered before (nothing was changed for them),
// and the rows refused.
type RegisterStudentsResult struct {
	Created  []StudentRow
	Existing []StudentRow
	Errors   []RowError
	// ExpiresAt is when the new students' cards expire (end of the school year).
	ExpiresAt time.Time
}

// RegisterStudents registers a school's students from CSV text in one call:
// a header row naming the columns (English or Vietnamese, with or without
// diacritics: name/họ và tên, class/lớp, student ID/mã học sinh; other
// columns are ignored; comma, semicolon or tab separated; a UTF-8 BOM is
// fine), then one student per row.
//
// Each valid row becomes a STUDENT reader account at the school library
// with a card whose number derives from the school and the student ID
// (StudentCardNumber) and that expires at the end of the school year; the
// account cannot log in until activated (PendingActivation). Bad rows are
// reported by line number with reasons and the others registered.
// Running the same CSV again creates nothing and reports every student as
// existing. Only a librarian of the school (or an admin) may do it.
func (s *Service) RegisterStudents(ctx context.Context, a auth.Actor, schoolLibraryID, csvText string) (*RegisterStudentsResult, error) {
	if !a.CanActForLibrary(schoolLibraryID) {
		return nil, thuvienso.ErrForbidden
	}
	lib, err := s.Libraries.Library(ctx, schoolLibraryID)
	if errors.Is(err, thuvienso.ErrNotFound) {
		return nil, thuvienso.Invalid("input.libraryId", "no such library", "Không có thư viện này")
	}
	if err != nil {
		return nil, fmt.Errorf("register students: %w", err)
	}
	if lib.Type != library.TypeSchool {
		return nil, thuvienso.Invalid("input.libraryId", "students are registered by a school library",
			"Học sinh được đăng ký qua thư viện trường học")
	}
	if len(csvText) > MaxStudentsCSVBytes {
		return nil, thuvienso.Invalid("input.csv", fmt.Sprintf("the file may have at most %d MB", MaxStudentsCSVBytes>>20),
			fmt.Sprintf("Tệp tối đa %d MB", MaxStudentsCSVBytes>>20))
	}
	rows, res, err := parseStudents(csvText)
	if err != nil {
		return nil, err
	}
	if s.Locker != nil {
		lease, err := s.Locker.TryObtain(ctx, "card:register-students:"+schoolLibraryID, 5*time.Minute)
		if errors.Is(err, lock.ErrNotObtained) {
			return nil, thuvienso.E(thuvienso.CodeConflict, "students of this school are being registered right now; try again in a minute",
				"Đang đăng ký học sinh của trường này; vui lòng thử lại sau ít phút")
		}
		if err != nil {
			return nil, fmt.Errorf("register students: %w", err)
		}
		defer func() { _ = lease.Release(context.WithoutCancel(ctx)) }()
	}
	now := s.now()
	res.ExpiresAt = card.SchoolYearEnd(now)

	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = card.StudentKey(schoolLibraryID, r.StudentID)
	}
	existing, err := s.Store.CardsByStudentKey(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("register students: %w", err)
	}
	byKey := make(map[string]*card.Card, len(existing))
	for _, c := range existing {
		byKey[c.StudentKey()] = c
	}
	for i, r := range rows {
		if c := byKey[keys[i]]; c != nil {
			r.AccountID, r.CardNumber = c.AccountID, c.Number
			res.Existing = append(res.Existing, r)
			continue
		}
		r, existed, err := s.registerStudent(ctx, lib, r, now)
		if err != nil {
			var de *thuvienso.Error
			if !errors.As(err, &de) || de.Code == thuvienso.CodeInternal {
				return nil, fmt.Errorf("register students: line %d: %w", r.Line, err)
			}
			res.Errors = append(res.Errors, RowError{Line: r.Line, StudentID: r.StudentID, Err: de})
			continue
		}
		if existed {
			res.Existing = append(res.Existing, r)
		} else {
			res.Created = append(res.Created, r)
		}
	}
	s.logger().Info("students registered", "library", schoolLibraryID, "created", len(res.Created),
		"existing", len(res.Existing), "errors", len(res.Errors))
	return res, nil
}

// registerStudent creates one student's account and card, probing for a
// free derived number. It reports existed when the student turns out to be
// registered already (a concurrent run, or a run interrupted between the
// account and the card, whose account is then adopted).
func (s *Service) registerStudent(ctx context.Context, lib *library.Library, r StudentRow, now time.Time) (StudentRow, bool, error) {
	key := card.StudentKey(lib.ID, r.StudentID)
	for attempt := 0; attempt < 10; attempt++ {
		number := StudentCardNumber(lib.ID, r.StudentID, attempt)
		var acc *auth.Account
		if held, err := s.Store.Card(ctx, number); err == nil {
			if held.StudentKey() == key {
				r.AccountID, r.CardNumber = held.AccountID, held.Number
				return r, true, nil
			}
			continue // another card has the number: probe on
		} else if !errors.Is(err, thuvienso.ErrNotFound) {
			return r, false, err
		}
		holder, err := s.Accounts.AccountByLogin(ctx, number)
		switch {
		case err == nil:
			// An account holds the number without a card: ours, left by an
			// interrupted run, is adopted; anyone else's means probe on.
			if holder.HomeLibraryID != lib.ID || holder.Category != auth.CategoryStudent ||
				holder.PasswordHash != PendingActivation || holder.Name != r.Name {
				continue
			}
			if _, err := s.Store.CurrentCard(ctx, holder.ID); err == nil {
				continue
			}
			acc = holder
		case !errors.Is(err, thuvienso.ErrNotFound):
			return r, false, err
		}
		if acc == nil {
			acc, err = s.Auth.CreateAccount(ctx, auth.NewAccount{
				Name: r.Name, HomeLibraryID: lib.ID, Category: auth.CategoryStudent, Role: auth.RoleReader,
				Language: "vi", CardNumber: number, PasswordHash: PendingActivation,
			})
			if errors.Is(err, auth.ErrCardTaken) {
				continue
			}
			if err != nil {
				return r, false, err
			}
		}
		c := &card.Card{
			Number: number, AccountID: acc.ID, Symbology: card.Code128, Status: card.StatusActive, Current: true,
			HomeLibraryID: lib.ID, IssuedAt: now, ExpiresAt: card.SchoolYearEnd(now),
			SchoolLibraryID: lib.ID, StudentID: r.StudentID, Class: r.Class, CreatedAt: now, UpdatedAt: now,
		}
		err = s.Store.CreateCard(ctx, c)
		switch {
		case err == nil:
			r.AccountID, r.CardNumber = acc.ID, number
			return r, false, nil
		case errors.Is(err, card.ErrStudentTaken):
			held, err := s.Store.CardsByStudentKey(ctx, []string{key})
			if err != nil || len(held) == 0 {
				return r, false, fmt.Errorf("student %s registered concurrently: %w", r.StudentID, err)
			}
			r.AccountID, r.CardNumber = held[0].AccountID, held[0].Number
			return r, true, nil
		case errors.Is(err, card.ErrNumberTaken):
			continue
		default:
			return r, false, err
		}
	}
	return r, false, thuvienso.Invalid("studentId", "no free card number could be derived for this student",
		"Không tạo được số thẻ cho học sinh này")
}

// StudentCardNumber derives a student's card number from the school and
// the student ID, deterministically, so that registering the same roll
// twice gives the same numbers. attempt 0 is the first choice; later
// attempts are the probes taken when a number is held by someone else.
//
// A 10-digit student ID (the Ministry of Education's national student ID
// has 10 digits) is the number's body at attempt 0, so the card number
// shows it; other IDs, and later attempts, take the body from SHA-256 of
// the school library ID, the student ID and the attempt, modulo 10¹⁰.
func StudentCardNumber(schoolLibraryID, studentID string, attempt int) string {
	body := studentID
	if attempt > 0 || len(body) != 10 || strings.Trim(body, "0123456789") != "" {
		sum := sha256.Sum256([]byte(schoolLibraryID + "\x00" + studentID + "\x00" + strconv.Itoa(attempt)))
		body = fmt.Sprintf("%010d", binary.BigEndian.Uint64(sum[:8])%10_000_000_000)
	}
	n, err := card.NumberFrom(body)
	if err != nil {
		panic("card: derived body is not 10 digits: " + body) // cannot happen
	}
	return n
}

// Column names accepted in the header, folded (lowercase, no diacritics,
// single spaces).
var studentColumns = map[string]string{
	"name": "name", "full name": "name", "student name": "name", "ho ten": "name", "ho va ten": "name",
	"ten": "name", "ten hoc sinh": "name", "ho ten hoc sinh": "name", "ho va ten hoc sinh": "name",
	"class": "class", "lop": "class", "ten lop": "class", "lop hoc": "class",
	"student id": "studentId", "studentid": "studentId", "id": "studentId", "ma hoc sinh": "studentId",
	"ma hs": "studentId", "mahs": "studentId", "ma so hoc sinh": "studentId", "mshs": "studentId",
	"ma dinh danh": "studentId", "ma dinh danh hoc sinh": "studentId", "ma": "studentId",
}

// foldHeader folds a header cell for lookup in studentColumns.
func foldHeader(s string) string {
	s = vietnamese.Fold(strings.TrimSpace(s))
	s = strings.NewReplacer("_", " ", "-", " ", ".", " ", ":", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// parseStudents reads the CSV: the rows to register (valid, first
// occurrence of each student ID) and a result holding the refused rows. A
// file without the needed columns fails as a whole.
func parseStudents(text string) ([]StudentRow, *RegisterStudentsResult, error) {
	text = strings.TrimPrefix(text, "\ufeff")
	if !utf8.ValidString(text) {
		return nil, nil, thuvienso.Invalid("input.csv", "the file must be UTF-8 text (save it as “CSV UTF-8” in Excel)",
			"Tệp phải là văn bản UTF-8 (trong Excel hãy lưu dạng “CSV UTF-8”)")
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = delimiter(text)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, nil, thuvienso.Invalid("input.csv", "the file has no header row", "Tệp không có dòng tiêu đề")
	}
	col := map[string]int{}
	for i, h := range header {
		if f, ok := studentColumns[foldHeader(h)]; ok {
			if _, dup := col[f]; !dup {
				col[f] = i
			}
		}
	}
	for _, need := range []struct{ field, en, vi string }{
		{"name", "name", "họ và tên"}, {"class", "class", "lớp"}, {"studentId", "student ID", "mã học sinh"},
	} {
		if _, ok := col[need.field]; !ok {
			return nil, nil, thuvienso.Invalid("input.csv",
				fmt.Sprintf("the header row has no %q column (columns: name, class, student ID / họ và tên, lớp, mã học sinh)", need.en),
				fmt.Sprintf("Dòng tiêu đề thiếu cột %q (các cột: họ và tên, lớp, mã học sinh)", need.vi))
		}
	}
	res := &RegisterStudentsResult{}
	var rows []StudentRow
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// FieldPos is not to be called after an error: it panics when the
			// first field was the bad one.
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, nil, thuvienso.Invalid("input.csv", "the file could not be read", "Không đọc được tệp")
			}
			res.Errors = append(res.Errors, RowError{Line: pe.StartLine, Err: thuvienso.Invalid("",
				"this row is not valid CSV (check the quotes)", "Dòng này không đúng định dạng CSV (kiểm tra dấu ngoặc kép)")})
			if len(res.Errors) >= MaxStudentRows {
				return nil, nil, thuvienso.Invalid("input.csv", "the file is not valid CSV", "Tệp không đúng định dạng CSV")
			}
			continue
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			continue
		}
		if len(rows)+len(res.Errors) >= MaxStudentRows {
			return nil, nil, thuvienso.Invalid("input.csv", fmt.Sprintf("one file may have at most %d students", MaxStudentRows),
				fmt.Sprintf("Mỗi tệp tối đa %d học sinh", MaxStudentRows))
		}
		get := func(f string) string {
			if i := col[f]; i < len(rec) {
				return rec[i]
			}
			return ""
		}
		row := StudentRow{Line: line, Name: vietnamese.Clean(get("name")), Class: vietnamese.Clean(get("class")),
			StudentID: strings.ToUpper(strings.TrimSpace(get("studentId")))}
		if e := validateStudent(row); e != nil {
			res.Errors = append(res.Errors, RowError{Line: line, StudentID: row.StudentID, Err: e})
			continue
		}
		if first, dup := seen[row.StudentID]; dup {
			res.Errors = append(res.Errors, RowError{Line: line, StudentID: row.StudentID, Err: thuvienso.Invalid("studentId",
				fmt.Sprintf("student ID %s is also on line %d", row.StudentID, first),
				fmt.Sprintf("Mã học sinh %s trùng với dòng %d", row.StudentID, first))})
			continue
		}
		seen[row.StudentID] = line
		rows = append(rows, row)
	}
	return rows, res, nil
}

// validateStudent checks one row's values.
func validateStudent(r StudentRow) *thuvienso.Error {
	switch {
	case r.Name == "":
		return thuvienso.Invalid("name", "the name is missing", "Thiếu họ và tên")
	case utf8.RuneCountInString(r.Name) > 200:
		return thuvienso.Invalid("name", "the name may have at most 200 characters", "Họ và tên tối đa 200 ký tự")
	case r.Class == "":
		return thuvienso.Invalid("class", "the class is missing", "Thiếu lớp")
	case utf8.RuneCountInString(r.Class) > 20:
		return thuvienso.Invalid("class", "the class may have at most 20 characters", "Tên lớp tối đa 20 ký tự")
	case r.StudentID == "":
		return thuvienso.Invalid("studentId", "the student ID is missing", "Thiếu mã học sinh")
	case len(r.StudentID) > 32 || strings.Trim(r.StudentID, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.") != "":
		return thuvienso.Invalid("studentId", "the student ID may have up to 32 letters, digits, dots, dashes or underscores",
			"Mã học sinh gồm tối đa 32 chữ cái, chữ số, dấu chấm, gạch ngang hoặc gạch dưới")
	}
	return nil
}

// delimiter guesses the separator from the header line: Excel in a
// Vietnamese locale writes semicolons, elsewhere commas.
func delimiter(text string) rune {
	first, _, _ := strings.Cut(text, "\n")
	best, n := ',', bytes.Count([]byte(first), []byte{','})
	for _, c := range []rune{';', '\t'} {
		if k := strings.Count(first, string(c)); k > n {
			best, n = c, k
		}
	}
	return best
}

// blank reports whether every field of a record is empty.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// ActivateStudent sets the first password of a bulk-registered student,
// at the desk of their school library (a librarian of it, or an admin).
// Accounts already activated are refused: their holders change their own
// password.
func (s *Service) ActivateStudent(ctx context.Context, a auth.Actor, accountID, password string) error {
	acc, err := s.Accounts.Account(ctx, accountID)
	if err != nil {
		return fmt.Errorf("activate student: %w", err)
	}
	if !a.CanActForLibrary(acc.HomeLibraryID) {
		return thuvienso.ErrForbidden
	}
	if acc.PasswordHash != PendingActivation {
		return thuvienso.E(thuvienso.CodeConflict, "this account is already activated", "Tài khoản này đã được kích hoạt")
	}
	if err := auth.ValidatePassword("input.password", password); err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	if err := s.Accounts.SetPasswordHash(ctx, acc.ID, hash, s.now()); err != nil {
		return fmt.Errorf("activate student: %w", err)
	}
	return nil
}
