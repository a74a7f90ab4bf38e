package notifications

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
)

// Broadcast is a message from a library (or the network's administrators)
// to its readers: stored once, then fanned out by the Dispatcher into each
// reader's inbox as a LIBRARY_NEWS notification whose subject is the
// broadcast and whose moment is its CreatedAt, so each reader gets it once
// however often the fan-out is resumed.
type Broadcast struct {
	ID string
	// SenderID is the librarian's or administrator's account.
	SenderID string
	// LibraryID: the readers whose home library this is; "" for every
	// reader of the network.
	LibraryID string
	// Title and Body are the Vietnamese text; TitleEn and BodyEn the
	// English one, optional (readers who read English get the Vietnamese
	// without it).
	Title, Body     string
	TitleEn, BodyEn string
	// IdempotencyKey is the sender's key for sending it: a retried send
	// with the same key is this broadcast, not a second one.
	IdempotencyKey string
	CreatedAt      time.Time
	// Cursor is the last reader (in ID order) the fan-out has reached; ""
	// before the first.
	Cursor string
	// Recipients counts the readers the fan-out has reached.
	Recipients int
	// FinishedAt is set when every reader has it.
	FinishedAt *time.Time
}

// Finished reports whether the fan-out is complete.
func (b *Broadcast) Finished() bool { return b.FinishedAt != nil }

// BroadcastQuery selects a page of broadcasts, newest first (CreatedAt,
// then ID, descending).
type BroadcastQuery struct {
	// LibraryID keeps the broadcasts to one library's readers ("" for
	// those to every reader) unless AllLibraries.
	LibraryID    string
	AllLibraries bool
	// After continues after this position (nil: from the newest).
	After *Cursor
	Limit int
}

// Readers lists readers page by page; auth.Store is one.
type Readers interface {
	// ReaderIDs returns up to limit reader IDs of the home library (every
	// reader when empty) greater than afterID, in ID order.
	ReaderIDs(ctx context.Context, homeLibraryID, afterID string, limit int) ([]string, error)
}

// Limits of a broadcast's text.
const (
	// MaxBroadcastTitle bounds a title, in letters.
	MaxBroadcastTitle = 120
	// MaxBroadcastBody bounds a body, in letters (a push shows at most
	// 1 KB of it; the inbox shows it whole).
	MaxBroadcastBody = 2000
	// maxIdempotencyKey bounds a client's key.
	maxIdempotencyKey = 128
)

// BroadcastInput is what a librarian or an administrator sends.
type BroadcastInput struct {
	// LibraryID is the library whose readers get it. A librarian may leave
	// it empty (their own library) or name their own; an administrator
	// names one, or leaves it empty for every reader.
	LibraryID       string
	Title, Body     string
	TitleEn, BodyEn string
	// IdempotencyKey makes a retried send the same broadcast.
	IdempotencyKey string
}

// Errors of broadcasts.
var (
	ErrBroadcastTitle = thuvienso.Invalid("input.title",
		fmt.Sprintf("the title must have 1 to %d letters", MaxBroadcastTitle),
		fmt.Sprintf("tiêu đề phải có từ 1 đến %d ký tự", MaxBroadcastTitle))
	ErrBroadcastBody = thuvienso.Invalid("input.body",
		fmt.Sprintf("the message must have 1 to %d letters", MaxBroadcastBody),
		fmt.Sprintf("nội dung phải có từ 1 đến %d ký tự", MaxBroadcastBody))
	ErrBroadcastTitleEn = thuvienso.Invalid("input.titleEn",
		fmt.Sprintf("the English title may have at most %d letters", MaxBroadcastTitle),
		fmt.Sprintf("tiêu đề tiếng Anh có tối đa %d ký tự", MaxBroadcastTitle))
	ErrBroadcastBodyEn = thuvienso.Invalid("input.bodyEn",
		fmt.Sprintf("the English message is needed with an English title, and may have at most %d letters", MaxBroadcastBody),
		fmt.Sprintf("cần nội dung tiếng Anh khi có tiêu đề tiếng Anh, tối đa %d ký tự", MaxBroadcastBody))
	ErrBadIdempotencyKey = thuvienso.Invalid("input.idempotencyKey",
		fmt.Sprintf("the idempotency key may have at most %d characters", maxIdempotencyKey),
		fmt.Sprintf("khóa chống gửi lặp có tối đa %d ký tự", maxIdempotencyKey))
)

// SendBroadcast stores a message to the readers of a library (a
// librarian's own; any one, or every reader, for an administrator) and
// returns it; the Dispatcher fans it out into their inboxes in batches,
// and their pushes follow each reader's preferences and quiet hours. A
// send retried with the same idempotency key returns the first broadcast.
func (s *Service) SendBroadcast(ctx context.Context, actor auth.Actor, in BroadcastInput) (*Broadcast, error) {
	if actor.AccountID == "" {
		return nil, fmt.Errorf("sending a broadcast: %w", thuvienso.ErrUnauthenticated)
	}
	lib := strings.TrimSpace(in.LibraryID)
	switch actor.Role {
	case auth.RoleAdmin:
	case auth.RoleLibrarian:
		if actor.LibraryID == "" || (lib != "" && lib != actor.LibraryID) {
			return nil, fmt.Errorf("sending a broadcast to %q: %w", lib, thuvienso.ErrForbidden)
		}
		lib = actor.LibraryID
	default:
		return nil, fmt.Errorf("sending a broadcast: %w", thuvienso.ErrForbidden)
	}
	b := &Broadcast{ID: newID(), SenderID: actor.AccountID, LibraryID: lib,
		Title: strings.TrimSpace(in.Title), Body: strings.TrimSpace(in.Body),
		TitleEn: strings.TrimSpace(in.TitleEn), BodyEn: strings.TrimSpace(in.BodyEn),
		IdempotencyKey: strings.TrimSpace(in.IdempotencyKey), CreatedAt: s.now().UTC()}
	letters := utf8.RuneCountInString
	switch {
	case b.Title == "" || letters(b.Title) > MaxBroadcastTitle:
		return nil, ErrBroadcastTitle
	case b.Body == "" || letters(b.Body) > MaxBroadcastBody:
		return nil, ErrBroadcastBody
	case letters(b.TitleEn) > MaxBroadcastTitle:
		return nil, ErrBroadcastTitleEn
	case (b.TitleEn != "" && b.BodyEn == "") || letters(b.BodyEn) > MaxBroadcastBody:
		return nil, ErrBroadcastBodyEn
	case len(b.IdempotencyKey) > maxIdempotencyKey:
		return nil, ErrBadIdempotencyKey
	}
	stored, created, err := s.store.CreateBroadcast(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("sending a broadcast: %w", err)
	}
	if created {
		s.log.InfoContext(ctx, "notifications: broadcast stored; the dispatcher fans it out",
			"broadcast", b.ID, "sender", b.SenderID, "library", b.LibraryID)
	}
	return stored, nil
}

// mayRead reports whether actor may see broadcast b: administrators all of
// them, librarians those to their library's readers.
func mayRead(actor auth.Actor, b *Broadcast) bool {
	switch actor.Role {
	case auth.RoleAdmin:
		return true
	case auth.RoleLibrarian:
		return actor.LibraryID != "" && b.LibraryID == actor.LibraryID
	}
	return false
}

// Broadcast returns one broadcast, with the progress of its fan-out, to
// its library's librarians and to administrators.
func (s *Service) Broadcast(ctx context.Context, actor auth.Actor, id string) (*Broadcast, error) {
	if actor.AccountID == "" {
		return nil, fmt.Errorf("reading broadcast: %w", thuvienso.ErrUnauthenticated)
	}
	b, err := s.store.Broadcast(ctx, id)
	if err == nil && !mayRead(actor, b) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading broadcast %s: %w", id, err)
	}
	return b, nil
}

// BroadcastPage is one page of broadcasts, newest first.
type BroadcastPage struct {
	Broadcasts  []*Broadcast
	HasNextPage bool
}

// Broadcasts returns up to first broadcasts after the cursor after (""
// for the newest), newest first: a librarian's library's, or for an
// administrator every broadcast (libraryID "" ) or one library's.
func (s *Service) Broadcasts(ctx context.Context, actor auth.Actor, libraryID string, first int, after string) (*BroadcastPage, error) {
	q := BroadcastQuery{LibraryID: strings.TrimSpace(libraryID)}
	switch {
	case actor.AccountID == "":
		return nil, fmt.Errorf("listing broadcasts: %w", thuvienso.ErrUnauthenticated)
	case actor.Role == auth.RoleAdmin:
		q.AllLibraries = q.LibraryID == ""
	case actor.Role == auth.RoleLibrarian && actor.LibraryID != "" && (q.LibraryID == "" || q.LibraryID == actor.LibraryID):
		q.LibraryID = actor.LibraryID
	default:
		return nil, fmt.Errorf("listing broadcasts: %w", thuvienso.ErrForbidden)
	}
	if first <= 0 {
		first = 20
	}
	first = min(first, s.cfg.MaxPage)
	q.Limit = first + 1
	if after != "" {
		c, err := DecodeCursor(after)
		if err != nil {
			return nil, err
		}
		q.After = &c
	}
	bs, err := s.store.Broadcasts(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("listing broadcasts: %w", err)
	}
	p := &BroadcastPage{Broadcasts: bs}
	if len(bs) > first {
		p.Broadcasts, p.HasNextPage = bs[:first], true
	}
	return p, nil
}

// BroadcastCursor returns the opaque cursor of a broadcast in a list.
func BroadcastCursor(b *Broadcast) string {
	return EncodeCursor(Cursor{CreatedAt: b.CreatedAt, ID: b.ID})
}

// newsData is the data of b's notifications, the library named once for
// all of them.
func (s *Service) newsData(ctx context.Context, b *Broadcast) map[string]string {
	data := map[string]string{"title": b.Title, "body": b.Body}
	if b.BodyEn != "" {
		data["titleEn"], data["bodyEn"] = b.TitleEn, b.BodyEn
	}
	if b.LibraryID != "" {
		data["libraryId"] = b.LibraryID
		if s.describe != nil {
			if name := s.describe(ctx, map[string]string{"libraryId": b.LibraryID})["library"]; name != "" {
				data["library"] = name
			}
		}
	}
	return data
}

// fanOutBatchesPerPass bounds the batches of readers one pass fans out
// to (the rest follow in the next passes), so that a broadcast to the
// whole province does not hold up events and pushes.
const fanOutBatchesPerPass = 100

// fanOut puts the unfinished broadcasts into their readers' inboxes, a
// batch of readers at a time (at most fanOutBatchesPerPass batches a
// pass): each batch's notifications are created
// (deduplicated by reader, kind, broadcast and moment), then the
// broadcast's cursor moves past the batch in one conditional update. A
// crash in between repeats the batch, which creates nothing twice; two
// dispatchers racing move the cursor once.
func (d *Dispatcher) fanOut(ctx context.Context, rep *Report) error {
	if d.svc.readers == nil {
		return nil
	}
	pending, err := d.svc.store.UnfinishedBroadcasts(ctx, 100)
	if err != nil {
		return fmt.Errorf("broadcasts: %w", err)
	}
	batch := max(d.svc.cfg.BatchSize, 1)
	budget := fanOutBatchesPerPass
	var errs []error
	for _, b := range pending {
		data := d.svc.newsData(ctx, b) // shared: each notification copies it
		for ctx.Err() == nil && !b.Finished() && budget > 0 {
			budget--
			ids, err := d.svc.readers.ReaderIDs(ctx, b.LibraryID, b.Cursor, batch)
			if err != nil {
				errs = append(errs, fmt.Errorf("broadcast %s: readers: %w", b.ID, err))
				break
			}
			reqs := make([]Request, len(ids))
			for i, id := range ids {
				reqs[i] = Request{ReaderID: id, Kind: LibraryNews, SubjectID: b.ID, Moment: b.CreatedAt, Data: data}
			}
			created, err := d.svc.notifyAll(ctx, reqs)
			rep.News += created
			if err != nil {
				errs = append(errs, fmt.Errorf("broadcast %s: %w", b.ID, err))
				break
			}
			next := *b
			if len(ids) > 0 {
				next.Cursor = ids[len(ids)-1]
			}
			next.Recipients += len(ids)
			if len(ids) < batch {
				now := d.svc.now().UTC()
				next.FinishedAt = &now
			}
			moved, err := d.svc.store.AdvanceBroadcast(ctx, b.ID, b.Cursor, next.Cursor, len(ids), next.FinishedAt)
			if err != nil {
				errs = append(errs, fmt.Errorf("broadcast %s: %w", b.ID, err))
				break
			}
			if !moved { // another dispatcher moved it: follow
				cur, err := d.svc.store.Broadcast(ctx, b.ID)
				if err != nil {
					errs = append(errs, fmt.Errorf("broadcast %s: %w", b.ID, err))
					break
				}
				b = cur
				continue
			}
			b = &next
			if b.Finished() {
				d.svc.log.InfoContext(ctx, "notifications: broadcast delivered to every inbox",
					"broadcast", b.ID, "library", b.LibraryID, "recipients", b.Recipients)
			}
		}
	}
	return errors.Join(errs...)
}
