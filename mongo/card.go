package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/card"
)

// Card collections.
const (
	collCards     = "cards"
	collCardLinks = "cardLinks"
)

// Card index names, fixed so duplicate-key messages of MongoDB can be matched.
const (
	idxCardCurrentAccount = "currentAccount_unique"
	idxCardCurrentStudent = "currentStudent_unique"
	idxCardAccount        = "accountId_issuedAt"
	idxLinkGuardian       = "guardianId_requestedAt"
	idxLinkChild          = "childId_requestedAt"
)

// cardIndexes are the indexes of the card collections. The two unique
// indexes are sparse, on fields a card document has only while it is
// current: that is how "one current card per account" and "one current
// card per school registration" hold without partial indexes, which
// FerretDB does not have (its unique indexes skip a missing field too).
func cardIndexes() map[string][]mongodrv.IndexModel {
	plain := func(name string) *options.IndexOptionsBuilder { return options.Index().SetName(name) }
	uniqueSparse := func(name string) *options.IndexOptionsBuilder {
		return options.Index().SetName(name).SetUnique(true).SetSparse(true)
	}
	return map[string][]mongodrv.IndexModel{
		collCards: {
			{Keys: bson.D{{Key: "currentAccount", Value: 1}}, Options: uniqueSparse(idxCardCurrentAccount)},
			{Keys: bson.D{{Key: "currentStudent", Value: 1}}, Options: uniqueSparse(idxCardCurrentStudent)},
			{Keys: bson.D{{Key: "accountId", Value: 1}, {Key: "issuedAt", Value: -1}}, Options: plain(idxCardAccount)},
		},
		collCardLinks: {
			{Keys: bson.D{{Key: "guardianId", Value: 1}, {Key: "requestedAt", Value: 1}}, Options: plain(idxLinkGuardian)},
			{Keys: bson.D{{Key: "childId", Value: 1}, {Key: "requestedAt", Value: 1}}, Options: plain(idxLinkChild)},
		},
	}
}

// CardStore implements card.Store on the "cards" and "cardLinks"
// collections, without multi-document transactions:
//
//   - A card is keyed by its number (_id), so a number is used once.
//   - A current card carries currentAccount (its account) and, for a
//     school registration, currentStudent (card.StudentKey); both have
//     sparse unique indexes, so an account has one current card and a
//     registration one current card.
//   - ReplaceCard first inserts the new card "staged" (not current, naming
//     the card it replaces), which fails on a taken number before anything
//     changed; then marks the old card LOST with one conditional update
//     (filter current: true), which exactly one of concurrent replacements
//     wins; the losers delete their staged card. The winner then promotes
//     its staged card to current. Staged cards are invisible to reads. A
//     reader that meets a staged card whose old card already names it as
//     its replacement (a replacement interrupted between the two steps)
//     completes the promotion itself, so no reader sees an account left
//     without its card; staged cards of lost races are deleted the same way.
//   - Links are keyed by the pair (_id), so a pair is linked once.
type CardStore struct {
	cards, links *mongodrv.Collection
	// now is the wall clock that ages staged cards; time.Now.
	now func() time.Time
}

var _ card.Store = (*CardStore)(nil)

func newCardStore(db *mongodrv.Database) *CardStore {
	return &CardStore{cards: db.Collection(collCards), links: db.Collection(collCardLinks), now: time.Now}
}

// stagedTimeout is how long a staged card whose old card is still current
// is taken for a replacement in progress; older ones are leftovers of a
// replacement that failed before its conditional update, and are deleted
// by the reader that meets them.
const stagedTimeout = time.Minute

// cardDoc is a card as stored.
type cardDoc struct {
	Number          string        `bson:"_id"`
	AccountID       string        `bson:"accountId"`
	Symbology       string        `bson:"symbology"`
	Status          string        `bson:"status"`
	BlockReason     string        `bson:"blockReason"`
	BlockNote       string        `bson:"blockNote"`
	Current         bool          `bson:"current"`
	ReplacedBy      string        `bson:"replacedBy"`
	HomeLibraryID   string        `bson:"homeLibraryId"`
	IssuedAt        bson.DateTime `bson:"issuedAt"`
	IssuedAtNs      int32         `bson:"issuedAtNs,omitempty"`
	ExpiresAt       bson.DateTime `bson:"expiresAt"`
	ExpiresAtNs     int32         `bson:"expiresAtNs,omitempty"`
	SchoolLibraryID string        `bson:"schoolLibraryId"`
	StudentID       string        `bson:"studentId"`
	Class           string        `bson:"class"`
	CreatedAt       bson.DateTime `bson:"createdAt"`
	CreatedAtNs     int32         `bson:"createdAtNs,omitempty"`
	UpdatedAt       bson.DateTime `bson:"updatedAt"`
	UpdatedAtNs     int32         `bson:"updatedAtNs,omitempty"`
	// CurrentAccount and CurrentStudent are set only while the card is
	// current (see the sparse unique indexes).
	CurrentAccount string `bson:"currentAccount,omitempty"`
	CurrentStudent string `bson:"currentStudent,omitempty"`
	// Staged marks a replacement not yet current; Replaces is the number
	// of the card it replaces; StagedAt the wall clock when it was staged.
	Staged   bool           `bson:"staged,omitempty"`
	Replaces string         `bson:"replaces,omitempty"`
	StagedAt *bson.DateTime `bson:"stagedAt,omitempty"`
}

// toCardDoc converts c for storing, with the current-only fields set when
// c is current.
func toCardDoc(c *card.Card) *cardDoc {
	d := &cardDoc{
		Number: c.Number, AccountID: c.AccountID, Symbology: string(c.Symbology), Status: string(c.Status),
		BlockReason: string(c.BlockReason), BlockNote: c.BlockNote, Current: c.Current, ReplacedBy: c.ReplacedBy,
		HomeLibraryID: c.HomeLibraryID, SchoolLibraryID: c.SchoolLibraryID, StudentID: c.StudentID, Class: c.Class,
	}
	d.IssuedAt, d.IssuedAtNs = toDate(c.IssuedAt)
	d.ExpiresAt, d.ExpiresAtNs = toDate(c.ExpiresAt)
	d.CreatedAt, d.CreatedAtNs = toDate(c.CreatedAt)
	d.UpdatedAt, d.UpdatedAtNs = toDate(c.UpdatedAt)
	if c.Current {
		d.CurrentAccount, d.CurrentStudent = c.AccountID, c.StudentKey()
	}
	return d
}

// card converts d back to the domain type.
func (d *cardDoc) card() *card.Card {
	return &card.Card{
		Number: d.Number, AccountID: d.AccountID, Symbology: card.Symbology(d.Symbology), Status: card.Status(d.Status),
		BlockReason: card.BlockReason(d.BlockReason), BlockNote: d.BlockNote, Current: d.Current, ReplacedBy: d.ReplacedBy,
		HomeLibraryID: d.HomeLibraryID, IssuedAt: fromDate(d.IssuedAt, d.IssuedAtNs),
		ExpiresAt: fromDate(d.ExpiresAt, d.ExpiresAtNs), SchoolLibraryID: d.SchoolLibraryID, StudentID: d.StudentID,
		Class: d.Class, CreatedAt: fromDate(d.CreatedAt, d.CreatedAtNs), UpdatedAt: fromDate(d.UpdatedAt, d.UpdatedAtNs),
	}
}

// CreateCard inserts c. A number already used fails with
// card.ErrNumberTaken, a second current card of the account with
// card.ErrHasCard, a student key of another current card with
// card.ErrStudentTaken.
func (s *CardStore) CreateCard(ctx context.Context, c *card.Card) error {
	if _, err := s.cards.InsertOne(ctx, toCardDoc(c)); err != nil {
		return fmt.Errorf("creating card %s: %w", c.Number, s.cardWriteError(ctx, err, c))
	}
	return nil
}

// cardWriteError maps a unique violation on writing c (an insert, or the
// promotion of a staged card) to the card domain's error. MongoDB names
// the index; FerretDB does not (and reports a violating update as an
// internal error), so then the values are looked up.
func (s *CardStore) cardWriteError(ctx context.Context, err error, c *card.Card) error {
	dup := mongodrv.IsDuplicateKeyError(err)
	if dup {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "index: "+idxCardCurrentAccount+" "):
			return card.ErrHasCard
		case strings.Contains(msg, "index: "+idxCardCurrentStudent+" "):
			return card.ErrStudentTaken
		case strings.Contains(msg, "index: _id_ "):
			return card.ErrNumberTaken
		}
	}
	type check struct {
		filter bson.D
		taken  error
	}
	var checks []check
	if dup { // an update does not collide on _id
		checks = append(checks, check{byID(c.Number), card.ErrNumberTaken})
	}
	if c.Current {
		notThis := bson.E{Key: "_id", Value: bson.D{{Key: "$ne", Value: c.Number}}}
		checks = append(checks, check{bson.D{{Key: "currentAccount", Value: c.AccountID}, notThis}, card.ErrHasCard})
		if k := c.StudentKey(); k != "" {
			checks = append(checks, check{bson.D{{Key: "currentStudent", Value: k}, notThis}, card.ErrStudentTaken})
		}
	}
	for _, ch := range checks {
		found, lerr := exists(ctx, s.cards, ch.filter)
		if lerr != nil {
			return errors.Join(err, lerr)
		}
		if found {
			return ch.taken
		}
	}
	return err
}

// Card returns the card with this number, or thuvienso.ErrNotFound.
func (s *CardStore) Card(ctx context.Context, number string) (*card.Card, error) {
	var d cardDoc
	err := s.cards.FindOne(ctx, byID(number)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("card %s: %w", number, err)
	}
	if d.Staged {
		p, err := s.settle(ctx, &d)
		if err != nil {
			return nil, fmt.Errorf("card %s: %w", number, err)
		}
		if p == nil {
			return nil, fmt.Errorf("card %s: %w", number, thuvienso.ErrNotFound)
		}
		d = *p
	}
	return d.card(), nil
}

// CurrentCard returns the account's current card, or thuvienso.ErrNotFound.
func (s *CardStore) CurrentCard(ctx context.Context, accountID string) (*card.Card, error) {
	var d cardDoc
	err := s.cards.FindOne(ctx, bson.D{{Key: "currentAccount", Value: accountID}}).Decode(&d)
	if err == nil {
		return d.card(), nil
	}
	if !errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, fmt.Errorf("current card of account %s: %w", accountID, err)
	}
	// None: a replacement may be between its two steps.
	staged, err := findAll[cardDoc](ctx, s.cards, bson.D{{Key: "accountId", Value: accountID}, {Key: "staged", Value: true}})
	if err != nil {
		return nil, fmt.Errorf("current card of account %s: %w", accountID, err)
	}
	for i := range staged {
		p, err := s.settle(ctx, &staged[i])
		if err != nil {
			return nil, fmt.Errorf("current card of account %s: %w", accountID, err)
		}
		if p != nil && p.Current {
			return p.card(), nil
		}
	}
	// The replacer may have promoted its card between the two queries.
	err = s.cards.FindOne(ctx, bson.D{{Key: "currentAccount", Value: accountID}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("current card of account %s: %w", accountID, err)
	}
	return d.card(), nil
}

// CardsOfAccount returns every card of the account, newest issue first.
func (s *CardStore) CardsOfAccount(ctx context.Context, accountID string) ([]*card.Card, error) {
	docs, err := findAll[cardDoc](ctx, s.cards, bson.D{{Key: "accountId", Value: accountID}},
		options.Find().SetSort(bson.D{{Key: "issuedAt", Value: -1}, {Key: "issuedAtNs", Value: -1}, {Key: "_id", Value: -1}}))
	if err != nil {
		return nil, fmt.Errorf("cards of account %s: %w", accountID, err)
	}
	out := make([]*card.Card, 0, len(docs))
	for i := range docs {
		d := &docs[i]
		if d.Staged {
			if d, err = s.settle(ctx, d); err != nil {
				return nil, fmt.Errorf("cards of account %s: %w", accountID, err)
			}
			if d == nil {
				continue
			}
		}
		out = append(out, d.card())
	}
	return out, nil
}

// CardsByStudentKey returns the current cards registered under these
// student keys, in one query.
func (s *CardStore) CardsByStudentKey(ctx context.Context, keys []string) ([]*card.Card, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	docs, err := findAll[cardDoc](ctx, s.cards, in("currentStudent", keys))
	if err != nil {
		return nil, fmt.Errorf("cards by student key: %w", err)
	}
	out := make([]*card.Card, 0, len(docs))
	for i := range docs {
		out = append(out, docs[i].card())
	}
	return out, nil
}

// ReplaceCard marks the current card oldNumber LOST and makes next the
// account's current card: stage next, win the old card by one conditional
// update, promote next (see CardStore).
func (s *CardStore) ReplaceCard(ctx context.Context, oldNumber string, next *card.Card, at time.Time) error {
	staged, err := s.stage(ctx, oldNumber, next)
	if err != nil {
		return fmt.Errorf("replacing card: %w", err)
	}
	if err := s.win(ctx, oldNumber, next.Number, at); err != nil {
		return fmt.Errorf("replacing card: %w", err)
	}
	if _, err := s.promote(ctx, staged); err != nil {
		return fmt.Errorf("replacing card %s by %s: %w", oldNumber, next.Number, err)
	}
	return nil
}

// stage checks that oldNumber is a current card of next's account and
// inserts next staged: not current, naming the card it replaces. A taken
// number fails here, before anything changed.
func (s *CardStore) stage(ctx context.Context, oldNumber string, next *card.Card) (*cardDoc, error) {
	old, err := s.Card(ctx, oldNumber)
	if err != nil {
		return nil, err
	}
	if !old.Current {
		return nil, fmt.Errorf("card %s: %w", oldNumber, card.ErrNotCurrent)
	}
	if next.AccountID != old.AccountID {
		return nil, fmt.Errorf("card %s of account %s: the new card %s is of account %q",
			oldNumber, old.AccountID, next.Number, next.AccountID)
	}
	next.Current = true
	staged := toCardDoc(next)
	staged.Current, staged.CurrentAccount, staged.CurrentStudent = false, "", ""
	staged.Staged, staged.Replaces = true, oldNumber
	wall := bson.DateTime(s.now().UnixMilli())
	staged.StagedAt = &wall
	if _, err := s.cards.InsertOne(ctx, staged); err != nil {
		if mongodrv.IsDuplicateKeyError(err) {
			err = card.ErrNumberTaken
		}
		return nil, fmt.Errorf("staging card %s: %w", next.Number, err)
	}
	return staged, nil
}

// win marks oldNumber LOST, replaced by nextNumber, with one update
// conditional on it being current: of concurrent replacements exactly one
// wins. A loser deletes its staged card and fails with card.ErrNotCurrent.
func (s *CardStore) win(ctx context.Context, oldNumber, nextNumber string, at time.Time) error {
	d, ns := toDate(at)
	err := s.cards.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: oldNumber}, {Key: "current", Value: true}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "current", Value: false}, {Key: "status", Value: string(card.StatusLost)},
				{Key: "replacedBy", Value: nextNumber}, {Key: "updatedAt", Value: d}, {Key: "updatedAtNs", Value: ns}}},
			{Key: "$unset", Value: bson.D{{Key: "currentAccount", Value: ""}, {Key: "currentStudent", Value: ""}}},
		}).Err()
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		// Another replacement won: take the staged card back.
		if _, derr := s.cards.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: nextNumber}, {Key: "staged", Value: true}}); derr != nil {
			return fmt.Errorf("card %s: %w (and removing the staged card %s: %v)", oldNumber, card.ErrNotCurrent, nextNumber, derr)
		}
		return fmt.Errorf("card %s: %w", oldNumber, card.ErrNotCurrent)
	}
	if err != nil {
		// Whether the update applied is unknown: the staged card stays, and
		// the next reader settles it either way.
		return fmt.Errorf("card %s: %w", oldNumber, err)
	}
	return nil
}

// promote makes the staged card d current and returns it as stored. When a
// reader promoted it first, that is fine; when it is gone (deleted as a
// leftover by a reader that took the replacement for a stalled one), it is
// inserted again as current.
func (s *CardStore) promote(ctx context.Context, d *cardDoc) (*cardDoc, error) {
	c := d.card()
	c.Current = true
	set := bson.D{{Key: "current", Value: true}, {Key: "currentAccount", Value: d.AccountID}}
	if k := c.StudentKey(); k != "" {
		set = append(set, bson.E{Key: "currentStudent", Value: k})
	}
	var out cardDoc
	err := s.cards.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: d.Number}, {Key: "staged", Value: true}},
		bson.D{{Key: "$set", Value: set}, {Key: "$unset", Value: bson.D{
			{Key: "staged", Value: ""}, {Key: "replaces", Value: ""}, {Key: "stagedAt", Value: ""}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if err == nil {
		return &out, nil
	}
	if !errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, fmt.Errorf("promoting card %s: %w", d.Number, s.cardWriteError(ctx, err, c))
	}
	err = s.cards.FindOne(ctx, byID(d.Number)).Decode(&out)
	switch {
	case err == nil && !out.Staged:
		return &out, nil
	case errors.Is(err, mongodrv.ErrNoDocuments):
		if _, err := s.cards.InsertOne(ctx, toCardDoc(c)); err != nil {
			return nil, fmt.Errorf("promoting card %s: %w", d.Number, s.cardWriteError(ctx, err, c))
		}
		return toCardDoc(c), nil
	case err != nil:
		return nil, fmt.Errorf("promoting card %s: %w", d.Number, err)
	}
	return nil, fmt.Errorf("promoting card %s: still staged", d.Number)
}

// settle decides a staged card a reader met: promoted and returned when
// its old card names it as replacement (an interrupted replacement); nil
// while its replacement is in progress; deleted and nil when its
// replacement lost or failed.
func (s *CardStore) settle(ctx context.Context, d *cardDoc) (*cardDoc, error) {
	var old cardDoc
	err := s.cards.FindOne(ctx, byID(d.Replaces)).Decode(&old)
	if err != nil && !errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, err
	}
	found := err == nil
	switch {
	case found && !old.Current && old.ReplacedBy == d.Number:
		p, err := s.promote(ctx, d)
		if errors.Is(err, card.ErrHasCard) || errors.Is(err, card.ErrStudentTaken) {
			return nil, nil // another current card got in: this one stays invisible
		}
		return p, err
	case found && old.Current && d.StagedAt != nil && s.now().Sub(d.StagedAt.Time()) < stagedTimeout:
		return nil, nil // in progress
	}
	_, err = s.cards.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.Number}, {Key: "staged", Value: true}})
	return nil, err
}

// UpdateCard applies u to the current card number with one conditional
// update and returns it.
func (s *CardStore) UpdateCard(ctx context.Context, number string, u card.Update, at time.Time) (*card.Card, error) {
	d, ns := toDate(at)
	set := bson.D{{Key: "updatedAt", Value: d}, {Key: "updatedAtNs", Value: ns}}
	if u.Status != nil {
		set = append(set, bson.E{Key: "status", Value: string(*u.Status)})
	}
	if u.BlockReason != nil {
		set = append(set, bson.E{Key: "blockReason", Value: string(*u.BlockReason)})
	}
	if u.BlockNote != nil {
		set = append(set, bson.E{Key: "blockNote", Value: *u.BlockNote})
	}
	if u.Symbology != nil {
		set = append(set, bson.E{Key: "symbology", Value: string(*u.Symbology)})
	}
	if u.ExpiresAt != nil {
		ed, ens := toDate(*u.ExpiresAt)
		set = append(set, bson.E{Key: "expiresAt", Value: ed}, bson.E{Key: "expiresAtNs", Value: ens})
	}
	filter := bson.D{{Key: "_id", Value: number}, {Key: "current", Value: true}}
	if u.IfBlockReason != nil {
		filter = append(filter, bson.E{Key: "blockReason", Value: string(*u.IfBlockReason)})
	}
	for attempt := 0; ; attempt++ {
		var out cardDoc
		err := s.cards.FindOneAndUpdate(ctx, filter, bson.D{{Key: "$set", Value: set}},
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
		if err == nil {
			return out.card(), nil
		}
		if !errors.Is(err, mongodrv.ErrNoDocuments) {
			return nil, fmt.Errorf("updating card %s: %w", number, err)
		}
		c, err := s.Card(ctx, number) // settles a staged card
		switch {
		case err != nil:
			return nil, fmt.Errorf("updating card: %w", err)
		case !c.Current:
			return nil, fmt.Errorf("updating card %s: %w", number, card.ErrNotCurrent)
		case u.IfBlockReason != nil && c.BlockReason != *u.IfBlockReason:
			return nil, fmt.Errorf("updating card %s: %w", number, card.ErrCardChanged)
		case attempt > 0:
			return nil, fmt.Errorf("updating card %s: it is current but the update did not apply", number)
		}
		// Just promoted by Card: once more.
	}
}

// cardLinkDoc is a guardian–child link as stored, keyed by the pair.
type cardLinkDoc struct {
	ID            string         `bson:"_id"`
	GuardianID    string         `bson:"guardianId"`
	ChildID       string         `bson:"childId"`
	Status        string         `bson:"status"`
	RequestedAt   bson.DateTime  `bson:"requestedAt"`
	RequestedAtNs int32          `bson:"requestedAtNs,omitempty"`
	ApprovedBy    string         `bson:"approvedBy"`
	ApprovedAt    *bson.DateTime `bson:"approvedAt,omitempty"`
	ApprovedAtNs  int32          `bson:"approvedAtNs,omitempty"`
}

// cardLinkID is the _id of a pair's link; the guardian ID's length makes it
// unambiguous whatever characters the IDs contain.
func cardLinkID(guardianID, childID string) string { return recordID(guardianID, childID) }

// link converts d back to the domain type.
func (d *cardLinkDoc) link() *card.Link {
	return &card.Link{
		GuardianID: d.GuardianID, ChildID: d.ChildID, Status: card.LinkStatus(d.Status),
		RequestedAt: fromDate(d.RequestedAt, d.RequestedAtNs), ApprovedBy: d.ApprovedBy,
		ApprovedAt: fromDatePtr(d.ApprovedAt, d.ApprovedAtNs),
	}
}

// CreateLink inserts a guardian–child link; card.ErrLinkExists when the
// pair has one.
func (s *CardStore) CreateLink(ctx context.Context, l *card.Link) error {
	d := &cardLinkDoc{ID: cardLinkID(l.GuardianID, l.ChildID), GuardianID: l.GuardianID, ChildID: l.ChildID,
		Status: string(l.Status), ApprovedBy: l.ApprovedBy}
	d.RequestedAt, d.RequestedAtNs = toDate(l.RequestedAt)
	d.ApprovedAt, d.ApprovedAtNs = toDatePtr(l.ApprovedAt)
	_, err := s.links.InsertOne(ctx, d)
	if mongodrv.IsDuplicateKeyError(err) {
		err = card.ErrLinkExists
	}
	if err != nil {
		return fmt.Errorf("linking %s to guardian %s: %w", l.ChildID, l.GuardianID, err)
	}
	return nil
}

// Link returns the link of a pair, or thuvienso.ErrNotFound.
func (s *CardStore) Link(ctx context.Context, guardianID, childID string) (*card.Link, error) {
	var d cardLinkDoc
	err := s.links.FindOne(ctx, byID(cardLinkID(guardianID, childID))).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("link of %s to guardian %s: %w", childID, guardianID, err)
	}
	return d.link(), nil
}

// ActivateLink makes a pending link active with one conditional update;
// an active link is returned unchanged.
func (s *CardStore) ActivateLink(ctx context.Context, guardianID, childID, approvedBy string, at time.Time) (*card.Link, error) {
	d, ns := toDate(at)
	var out cardLinkDoc
	err := s.links.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: cardLinkID(guardianID, childID)}, {Key: "status", Value: string(card.LinkPending)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: string(card.LinkActive)},
			{Key: "approvedBy", Value: approvedBy}, {Key: "approvedAt", Value: d}, {Key: "approvedAtNs", Value: ns}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&out)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return s.Link(ctx, guardianID, childID)
	}
	if err != nil {
		return nil, fmt.Errorf("activating link of %s to guardian %s: %w", childID, guardianID, err)
	}
	return out.link(), nil
}

// DeleteLink removes a link; thuvienso.ErrNotFound when there is none.
func (s *CardStore) DeleteLink(ctx context.Context, guardianID, childID string) error {
	res, err := s.links.DeleteOne(ctx, byID(cardLinkID(guardianID, childID)))
	if err == nil && res.DeletedCount == 0 {
		err = thuvienso.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("unlinking %s from guardian %s: %w", childID, guardianID, err)
	}
	return nil
}

// findLinks returns the links matching filter, oldest first.
func (s *CardStore) findLinks(ctx context.Context, filter bson.D, tie string) ([]*card.Link, error) {
	docs, err := findAll[cardLinkDoc](ctx, s.links, filter, options.Find().SetSort(bson.D{
		{Key: "requestedAt", Value: 1}, {Key: "requestedAtNs", Value: 1}, {Key: tie, Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := make([]*card.Link, 0, len(docs))
	for i := range docs {
		out = append(out, docs[i].link())
	}
	return out, nil
}

// LinksOfGuardian returns the guardian's links, oldest first.
func (s *CardStore) LinksOfGuardian(ctx context.Context, guardianID string) ([]*card.Link, error) {
	ls, err := s.findLinks(ctx, bson.D{{Key: "guardianId", Value: guardianID}}, "childId")
	if err != nil {
		return nil, fmt.Errorf("links of guardian %s: %w", guardianID, err)
	}
	return ls, nil
}

// LinksOfChild returns the child's links, oldest first.
func (s *CardStore) LinksOfChild(ctx context.Context, childID string) ([]*card.Link, error) {
	ls, err := s.findLinks(ctx, bson.D{{Key: "childId", Value: childID}}, "guardianId")
	if err != nil {
		return nil, fmt.Errorf("links of child %s: %w", childID, err)
	}
	return ls, nil
}
