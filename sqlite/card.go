package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/card"
)

// CardStore implements card.Store on SQLite (tables cards and card_links,
// migration 0004). The invariants are constraints: the number is the
// primary key, and partial unique indexes allow one current card per
// account and per school registration. A replacement (ReplaceCard) is one
// immediate transaction whose first statement is the conditional
// "UPDATE … WHERE current = 1", so of concurrent replacements of one card
// exactly one finds it current.
type CardStore struct {
	db *pools
}

var _ card.Store = (*CardStore)(nil)

// cardColumns is the column list every card query selects, in the order
// scanCard reads.
const cardColumns = `number, account_id, symbology, status, block_reason, block_note, current, replaced_by,
	home_library_id, issued_at, expires_at, school_library_id, student_id, class, created_at, updated_at`

// scanCard reads one row selected with cardColumns.
func scanCard(row interface{ Scan(...any) error }) (*card.Card, error) {
	var (
		c                                     card.Card
		sym, status, reason                   string
		current                               int
		issued, expires, createdAt, updatedAt string
	)
	if err := row.Scan(&c.Number, &c.AccountID, &sym, &status, &reason, &c.BlockNote, &current, &c.ReplacedBy,
		&c.HomeLibraryID, &issued, &expires, &c.SchoolLibraryID, &c.StudentID, &c.Class, &createdAt, &updatedAt); err != nil {
		return nil, err
	}
	c.Symbology, c.Status, c.BlockReason, c.Current = card.Symbology(sym), card.Status(status), card.BlockReason(reason), current == 1
	var err error
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&c.IssuedAt, issued}, {&c.ExpiresAt, expires}, {&c.CreatedAt, createdAt}, {&c.UpdatedAt, updatedAt}} {
		if *f.dst, err = parseTime(f.src); err != nil {
			return nil, fmt.Errorf("card %s: %w", c.Number, err)
		}
	}
	return &c, nil
}

// cardWriteError maps a unique violation on writing a card to the card
// domain's error.
func cardWriteError(err error) error {
	cols, ok := uniqueViolation(err)
	switch {
	case !ok:
		return err
	case strings.Contains(cols, "cards.number"):
		return card.ErrNumberTaken
	case strings.Contains(cols, "cards.account_id"):
		return card.ErrHasCard
	case strings.Contains(cols, "cards.student_key"):
		return card.ErrStudentTaken
	}
	return err
}

// insertCard inserts c with the executor given (the pool or a transaction).
func insertCard(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, c *card.Card) error {
	current := 0
	if c.Current {
		current = 1
	}
	_, err := ex.ExecContext(ctx, `INSERT INTO cards (`+cardColumns+`, student_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Number, c.AccountID, string(c.Symbology), string(c.Status), string(c.BlockReason), c.BlockNote, current,
		c.ReplacedBy, c.HomeLibraryID, fmtTime(c.IssuedAt), fmtTime(c.ExpiresAt), c.SchoolLibraryID, c.StudentID,
		c.Class, fmtTime(c.CreatedAt), fmtTime(c.UpdatedAt), nullIfEmpty(c.StudentKey()))
	return cardWriteError(err)
}

// CreateCard inserts c. A number already used fails with
// card.ErrNumberTaken, a second current card of the account with
// card.ErrHasCard, a student key of another current card with
// card.ErrStudentTaken.
func (s *CardStore) CreateCard(ctx context.Context, c *card.Card) error {
	if err := insertCard(ctx, s.db, c); err != nil {
		return fmt.Errorf("creating card %s: %w", c.Number, err)
	}
	return nil
}

// Card returns the card with this number, or thuvienso.ErrNotFound.
func (s *CardStore) Card(ctx context.Context, number string) (*card.Card, error) {
	c, err := scanCard(s.db.QueryRowContext(ctx, `SELECT `+cardColumns+` FROM cards WHERE number = ?`, number))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("card %s: %w", number, err)
	}
	return c, nil
}

// CurrentCard returns the account's current card, or thuvienso.ErrNotFound.
func (s *CardStore) CurrentCard(ctx context.Context, accountID string) (*card.Card, error) {
	c, err := scanCard(s.db.QueryRowContext(ctx,
		`SELECT `+cardColumns+` FROM cards WHERE account_id = ? AND current = 1`, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("current card of account %s: %w", accountID, err)
	}
	return c, nil
}

// queryCards runs a query selecting cardColumns.
func (s *CardStore) queryCards(ctx context.Context, query string, args ...any) ([]*card.Card, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cs []*card.Card
	for rows.Next() {
		c, err := scanCard(rows)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// CardsOfAccount returns every card of the account, newest issue first.
func (s *CardStore) CardsOfAccount(ctx context.Context, accountID string) ([]*card.Card, error) {
	cs, err := s.queryCards(ctx, `SELECT `+cardColumns+` FROM cards WHERE account_id = ?
		ORDER BY issued_at DESC, number DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("cards of account %s: %w", accountID, err)
	}
	return cs, nil
}

// CardsByStudentKey returns the current cards registered under these
// student keys, in one query.
func (s *CardStore) CardsByStudentKey(ctx context.Context, keys []string) ([]*card.Card, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	cs, err := s.queryCards(ctx, `SELECT `+cardColumns+` FROM cards
		WHERE current = 1 AND student_key IN (SELECT value FROM json_each(?))`, jsonArray(keys))
	if err != nil {
		return nil, fmt.Errorf("cards by student key: %w", err)
	}
	return cs, nil
}

// ReplaceCard marks the current card oldNumber LOST and inserts next as
// the account's current card, in one immediate transaction: the
// conditional update finds the old card current for exactly one of
// concurrent replacements, and a taken next number rolls everything back.
func (s *CardStore) ReplaceCard(ctx context.Context, oldNumber string, next *card.Card, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsnParams)
	if err != nil {
		return fmt.Errorf("replacing card %s: %w", oldNumber, err)
	}
	defer tx.Rollback()
	var accountID string
	err = tx.QueryRowContext(ctx, `UPDATE cards SET current = 0, status = ?, replaced_by = ?, updated_at = ?
		WHERE number = ? AND current = 1 RETURNING account_id`,
		string(card.StatusLost), next.Number, fmtTime(at), oldNumber).Scan(&accountID)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.notCurrent(ctx, tx, oldNumber)
	}
	if err != nil {
		return fmt.Errorf("replacing card %s: %w", oldNumber, err)
	}
	if next.AccountID != accountID {
		return fmt.Errorf("replacing card %s of account %s: the new card %s is of account %q",
			oldNumber, accountID, next.Number, next.AccountID)
	}
	next.Current = true
	if err := insertCard(ctx, tx, next); err != nil {
		return fmt.Errorf("replacing card %s by %s: %w", oldNumber, next.Number, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("replacing card %s: %w", oldNumber, err)
	}
	return nil
}

// notCurrent explains why no current card numbered number was found:
// card.ErrNotCurrent when it exists (lost), thuvienso.ErrNotFound when not.
func (s *CardStore) notCurrent(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, number string) error {
	var current int
	err := q.QueryRowContext(ctx, `SELECT current FROM cards WHERE number = ?`, number).Scan(&current)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return thuvienso.ErrNotFound
	case err != nil:
		return err
	case current == 0:
		return card.ErrNotCurrent
	}
	return nil
}

// UpdateCard applies u to the current card number in one conditional
// statement and returns the card.
func (s *CardStore) UpdateCard(ctx context.Context, number string, u card.Update, at time.Time) (*card.Card, error) {
	str := func(p *string) any {
		if p == nil {
			return nil
		}
		return *p
	}
	var status, reason, sym, expires, ifReason any
	if u.Status != nil {
		status = string(*u.Status)
	}
	if u.BlockReason != nil {
		reason = string(*u.BlockReason)
	}
	if u.Symbology != nil {
		sym = string(*u.Symbology)
	}
	if u.ExpiresAt != nil {
		expires = fmtTime(*u.ExpiresAt)
	}
	if u.IfBlockReason != nil {
		ifReason = string(*u.IfBlockReason)
	}
	c, err := scanCard(s.db.QueryRowContext(ctx, `UPDATE cards SET
			status = coalesce(?1, status), block_reason = coalesce(?2, block_reason),
			block_note = coalesce(?3, block_note), symbology = coalesce(?4, symbology),
			expires_at = coalesce(?5, expires_at), updated_at = ?6
		WHERE number = ?7 AND current = 1 AND (?8 IS NULL OR block_reason = ?8)
		RETURNING `+cardColumns,
		status, reason, str(u.BlockNote), sym, expires, fmtTime(at), number, ifReason))
	if errors.Is(err, sql.ErrNoRows) {
		err = s.notCurrent(ctx, s.db, number)
		if err == nil { // current, so the precondition failed
			err = card.ErrCardChanged
		}
	}
	if err != nil {
		return nil, fmt.Errorf("updating card %s: %w", number, err)
	}
	return c, nil
}

// linkColumns is the column list every link query selects.
const linkColumns = `guardian_id, child_id, status, requested_at, approved_by, approved_at`

// scanLink reads one row selected with linkColumns.
func scanLink(row interface{ Scan(...any) error }) (*card.Link, error) {
	var (
		l          card.Link
		status     string
		requested  string
		approvedAt sql.NullString
	)
	if err := row.Scan(&l.GuardianID, &l.ChildID, &status, &requested, &l.ApprovedBy, &approvedAt); err != nil {
		return nil, err
	}
	l.Status = card.LinkStatus(status)
	var err error
	if l.RequestedAt, err = parseTime(requested); err != nil {
		return nil, err
	}
	if l.ApprovedAt, err = parseTimePtr(approvedAt); err != nil {
		return nil, err
	}
	return &l, nil
}

// CreateLink inserts a guardian–child link; card.ErrLinkExists when the
// pair has one.
func (s *CardStore) CreateLink(ctx context.Context, l *card.Link) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO card_links (`+linkColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		l.GuardianID, l.ChildID, string(l.Status), fmtTime(l.RequestedAt), l.ApprovedBy, fmtTimePtr(l.ApprovedAt))
	if _, dup := uniqueViolation(err); dup {
		err = card.ErrLinkExists
	}
	if err != nil {
		return fmt.Errorf("linking %s to guardian %s: %w", l.ChildID, l.GuardianID, err)
	}
	return nil
}

// Link returns the link of a pair, or thuvienso.ErrNotFound.
func (s *CardStore) Link(ctx context.Context, guardianID, childID string) (*card.Link, error) {
	l, err := scanLink(s.db.QueryRowContext(ctx, `SELECT `+linkColumns+` FROM card_links
		WHERE guardian_id = ? AND child_id = ?`, guardianID, childID))
	if errors.Is(err, sql.ErrNoRows) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("link of %s to guardian %s: %w", childID, guardianID, err)
	}
	return l, nil
}

// ActivateLink makes a pending link active in one conditional statement;
// an active link is returned unchanged.
func (s *CardStore) ActivateLink(ctx context.Context, guardianID, childID, approvedBy string, at time.Time) (*card.Link, error) {
	l, err := scanLink(s.db.QueryRowContext(ctx, `UPDATE card_links SET status = ?, approved_by = ?, approved_at = ?
		WHERE guardian_id = ? AND child_id = ? AND status = ? RETURNING `+linkColumns,
		string(card.LinkActive), approvedBy, fmtTime(at), guardianID, childID, string(card.LinkPending)))
	if errors.Is(err, sql.ErrNoRows) {
		return s.Link(ctx, guardianID, childID)
	}
	if err != nil {
		return nil, fmt.Errorf("activating link of %s to guardian %s: %w", childID, guardianID, err)
	}
	return l, nil
}

// DeleteLink removes a link; thuvienso.ErrNotFound when there is none.
func (s *CardStore) DeleteLink(ctx context.Context, guardianID, childID string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM card_links WHERE guardian_id = ? AND child_id = ?`, guardianID, childID)
	if err != nil {
		return fmt.Errorf("unlinking %s from guardian %s: %w", childID, guardianID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("unlinking %s from guardian %s: %w", childID, guardianID, err)
	} else if n == 0 {
		return fmt.Errorf("unlinking %s from guardian %s: %w", childID, guardianID, thuvienso.ErrNotFound)
	}
	return nil
}

// queryLinks runs a query selecting linkColumns.
func (s *CardStore) queryLinks(ctx context.Context, query string, args ...any) ([]*card.Link, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ls []*card.Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, rows.Err()
}

// LinksOfGuardian returns the guardian's links, oldest first.
func (s *CardStore) LinksOfGuardian(ctx context.Context, guardianID string) ([]*card.Link, error) {
	ls, err := s.queryLinks(ctx, `SELECT `+linkColumns+` FROM card_links WHERE guardian_id = ?
		ORDER BY requested_at, child_id`, guardianID)
	if err != nil {
		return nil, fmt.Errorf("links of guardian %s: %w", guardianID, err)
	}
	return ls, nil
}

// LinksOfChild returns the child's links, oldest first.
func (s *CardStore) LinksOfChild(ctx context.Context, childID string) ([]*card.Link, error) {
	ls, err := s.queryLinks(ctx, `SELECT `+linkColumns+` FROM card_links WHERE child_id = ?
		ORDER BY requested_at, guardian_id`, childID)
	if err != nil {
		return nil, fmt.Errorf("links of child %s: %w", childID, err)
	}
	return ls, nil
}
