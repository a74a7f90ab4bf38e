package card

import (
	"context"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
)

// Symbology is how a card number is drawn as a barcode.
type Symbology string

// Symbologies. Code 128 is the default; Codabar is offered because many
// library scanners in the province are configured for it.
const (
	Code128 Symbology = "CODE128"
	Codabar Symbology = "CODABAR"
)

// Valid reports whether s is a known symbology.
func (s Symbology) Valid() bool { return s == Code128 || s == Codabar }

// BarcodeValue returns what the barcode of number encodes in symbology s:
// the number itself for Code 128; for Codabar the number between the start
// and stop characters A … A, which scanners strip.
func (s Symbology) BarcodeValue(number string) string {
	if s == Codabar {
		return "A" + number + "A"
	}
	return number
}

// Status is the state of a card.
type Status string

// Statuses. ACTIVE, BLOCKED and LOST are stored; EXPIRED is what an ACTIVE
// card whose expiry has passed reports (Card.StatusAt), so no job has to
// flip cards at midnight.
const (
	StatusActive  Status = "ACTIVE"
	StatusExpired Status = "EXPIRED"
	StatusBlocked Status = "BLOCKED"
	StatusLost    Status = "LOST"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusActive || s == StatusExpired || s == StatusBlocked || s == StatusLost
}

// BlockReason says why a card is blocked. Each has a message a reader can
// read (BlockReason.Message).
type BlockReason string

// Block reasons.
const (
	ReasonOverdue        BlockReason = "OVERDUE"
	ReasonFines          BlockReason = "FINES"
	ReasonDamagedItems   BlockReason = "DAMAGED_ITEMS"
	ReasonGuardian       BlockReason = "GUARDIAN_REQUEST"
	ReasonAdministrative BlockReason = "ADMINISTRATIVE"
)

var blockMessages = map[BlockReason][2]string{
	ReasonOverdue: {"the card is blocked because of overdue items; return them to unblock it",
		"Thẻ bị khóa vì có tài liệu quá hạn; hãy trả tài liệu để mở khóa thẻ"},
	ReasonFines: {"the card is blocked because of unpaid fees; pay them at a library desk",
		"Thẻ bị khóa vì còn phí chưa thanh toán; hãy thanh toán tại quầy thư viện"},
	ReasonDamagedItems: {"the card is blocked because of a lost or damaged item; please see a librarian",
		"Thẻ bị khóa vì làm mất hoặc hỏng tài liệu; vui lòng gặp thủ thư"},
	ReasonGuardian: {"the card is blocked at the request of the reader's guardian",
		"Thẻ bị khóa theo yêu cầu của người giám hộ"},
	ReasonAdministrative: {"the card is blocked by the library; please see a librarian",
		"Thẻ bị thư viện khóa; vui lòng gặp thủ thư"},
}

// Valid reports whether r is a known reason.
func (r BlockReason) Valid() bool { _, ok := blockMessages[r]; return ok }

// Message returns why a card is blocked, in English and Vietnamese.
func (r BlockReason) Message() (en, vi string) {
	m, ok := blockMessages[r]
	if !ok {
		m = blockMessages[ReasonAdministrative]
	}
	return m[0], m[1]
}

// Card is one library card. A reader has exactly one current card; cards
// reported lost stay, marked LOST and pointing at their replacement, so a
// lost card's number is recognised (and refused) when it is shown.
type Card struct {
	Number    string
	AccountID string
	Symbology Symbology
	// Status is the stored status: ACTIVE, BLOCKED or LOST. Use StatusAt
	// for what the card is now (EXPIRED included).
	Status Status
	// BlockReason and BlockNote are set while BLOCKED; the note is the
	// librarian's free text.
	BlockReason BlockReason
	BlockNote   string
	// Current is true for the account's current card (one per account) and
	// false for lost cards.
	Current bool
	// ReplacedBy is the number that replaced a LOST card.
	ReplacedBy    string
	HomeLibraryID string
	IssuedAt      time.Time
	// ExpiresAt is the first instant the card is no longer valid.
	ExpiresAt time.Time
	// School registration: the school library, the student's ID there and
	// their class; empty for cards not made by RegisterStudents.
	SchoolLibraryID string
	StudentID       string
	Class           string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// StatusAt returns the card's status at t: EXPIRED for an ACTIVE card from
// ExpiresAt on, else the stored status.
func (c *Card) StatusAt(t time.Time) Status {
	if c.Status == StatusActive && !t.Before(c.ExpiresAt) {
		return StatusExpired
	}
	return c.Status
}

// StudentKey is the unique key of a school registration: the school library
// and the student ID there. Empty for other cards.
func (c *Card) StudentKey() string {
	if c.SchoolLibraryID == "" || c.StudentID == "" {
		return ""
	}
	return StudentKey(c.SchoolLibraryID, c.StudentID)
}

// StudentKey joins a school library ID and a student ID into the key a
// school registration is unique by.
func StudentKey(schoolLibraryID, studentID string) string {
	return schoolLibraryID + "/" + studentID
}

// Update is a change to a card; nil fields are left as they are.
type Update struct {
	Status      *Status
	BlockReason *BlockReason
	BlockNote   *string
	Symbology   *Symbology
	ExpiresAt   *time.Time
	// IfBlockReason, when set, is a precondition: the update applies only
	// while the card's stored block reason is this one ("" for a card that
	// is not blocked); otherwise UpdateCard fails with ErrCardChanged and
	// changes nothing. A guardian's block or unblock uses it, so that it
	// never overwrites (and then lifts) a block the library set meanwhile.
	IfBlockReason *BlockReason
}

// LinkStatus is the state of a guardian–child link.
type LinkStatus string

// Link statuses. A guardian who gave the child's password is linked at
// once; one who did not waits for a librarian's approval.
const (
	LinkPending LinkStatus = "PENDING"
	LinkActive  LinkStatus = "ACTIVE"
)

// Link ties a guardian's account to a child's.
type Link struct {
	GuardianID  string
	ChildID     string
	Status      LinkStatus
	RequestedAt time.Time
	// ApprovedBy is the librarian who approved the link, or the guardian
	// themself when they proved it with the child's password.
	ApprovedBy string
	ApprovedAt *time.Time
}

// Store keeps cards and family links.
// Implementations: sqlite.CardStore, mongo.CardStore.
type Store interface {
	// CreateCard inserts c. A number already used fails with
	// ErrNumberTaken; a second current card for the account with
	// ErrHasCard; a student key already registered with ErrStudentTaken.
	CreateCard(ctx context.Context, c *Card) error
	// Card returns the card with this number, or thuvienso.ErrNotFound.
	Card(ctx context.Context, number string) (*Card, error)
	// CurrentCard returns the account's current card, or thuvienso.ErrNotFound.
	CurrentCard(ctx context.Context, accountID string) (*Card, error)
	// CardsOfAccount returns every card of the account, current and lost,
	// newest issue first.
	CardsOfAccount(ctx context.Context, accountID string) ([]*Card, error)
	// CardsByStudentKey returns the current cards registered under these
	// student keys (see StudentKey), any order. A student key is unique
	// among current cards: a lost card keeps its school, student ID and
	// class for the record, and its replacement carries them on.
	CardsByStudentKey(ctx context.Context, keys []string) ([]*Card, error)
	// ReplaceCard marks the current card oldNumber LOST (no longer
	// current, ReplacedBy next.Number, UpdatedAt at) and inserts next, of
	// the same account, as the account's current card (next.Current is set
	// true). When oldNumber is not a current card (already replaced, say) it
	// fails with ErrNotCurrent and changes nothing; when there is no such
	// card, with thuvienso.ErrNotFound; when next.Number is taken, with
	// ErrNumberTaken and changes nothing. Of concurrent replacements of one
	// card exactly one succeeds, and a reader never sees the account with
	// two current cards.
	ReplaceCard(ctx context.Context, oldNumber string, next *Card, at time.Time) error
	// UpdateCard applies u to a current card, sets its UpdatedAt to at and
	// returns it; ErrNotCurrent for a lost card, thuvienso.ErrNotFound for
	// none, ErrCardChanged when u.IfBlockReason does not hold.
	UpdateCard(ctx context.Context, number string, u Update, at time.Time) (*Card, error)

	// CreateLink inserts a guardian–child link; ErrLinkExists when the
	// pair is linked (or requested) already.
	CreateLink(ctx context.Context, l *Link) error
	// Link returns the link of a pair, or thuvienso.ErrNotFound.
	Link(ctx context.Context, guardianID, childID string) (*Link, error)
	// ActivateLink makes a pending link active, approved by approvedBy at
	// at, and returns it; an active link is returned unchanged;
	// thuvienso.ErrNotFound when there is none.
	ActivateLink(ctx context.Context, guardianID, childID, approvedBy string, at time.Time) (*Link, error)
	// DeleteLink removes a link; thuvienso.ErrNotFound when there is none.
	DeleteLink(ctx context.Context, guardianID, childID string) error
	// LinksOfGuardian returns the guardian's links, oldest first.
	LinksOfGuardian(ctx context.Context, guardianID string) ([]*Link, error)
	// LinksOfChild returns the child's links, oldest first.
	LinksOfChild(ctx context.Context, childID string) ([]*Link, error)
}

// Errors of the card domain.
var (
	// ErrNumberTaken is a store's answer to a card number already in use.
	ErrNumberTaken = thuvienso.E(thuvienso.CodeConflict, "this card number is already in use", "Số thẻ này đã được sử dụng")
	// ErrHasCard means the account already has a current card.
	ErrHasCard = thuvienso.E(thuvienso.CodeConflict, "this reader already has a card", "Bạn đọc này đã có thẻ")
	// ErrStudentTaken means the school already registered this student ID.
	ErrStudentTaken = thuvienso.E(thuvienso.CodeConflict, "this student ID is already registered at the school",
		"Mã học sinh này đã được đăng ký tại trường")
	// ErrNotCurrent means the card was replaced (reported lost).
	ErrNotCurrent = thuvienso.E(thuvienso.CodeConflict, "this card was replaced by a new one",
		"Thẻ này đã được thay bằng thẻ mới")
	// ErrCardChanged means the card changed between reading and writing it
	// (UpdateCard's IfBlockReason did not hold); reading it again shows why.
	ErrCardChanged = thuvienso.E(thuvienso.CodeConflict, "this card was changed meanwhile; please try again",
		"Thẻ vừa được thay đổi; vui lòng thử lại")
	// ErrLinkExists means the guardian and child are linked (or the link is
	// waiting for approval) already.
	ErrLinkExists = thuvienso.E(thuvienso.CodeConflict, "these accounts are already linked",
		"Hai tài khoản này đã được liên kết")

	// ErrTokenInvalid means a card code is malformed, forged, or signed by a
	// key that is no longer published.
	ErrTokenInvalid = thuvienso.E(thuvienso.CodeBadUserInput, "this card code is not valid",
		"Mã thẻ không hợp lệ").WithField("input.token")
	// ErrTokenExpired means a card code is past its validity; the reader's
	// app shows a fresh one.
	ErrTokenExpired = thuvienso.E(thuvienso.CodeBadUserInput, "this card code has expired; ask the reader to refresh it",
		"Mã thẻ đã hết hạn; hãy đề nghị bạn đọc làm mới mã").WithField("input.token")
	// ErrTokenReplayed means the same card code was shown before: a copy or
	// a screenshot.
	ErrTokenReplayed = thuvienso.E(thuvienso.CodeBadUserInput,
		"this card code was already used; ask the reader to show a fresh one",
		"Mã thẻ này đã được sử dụng; hãy đề nghị bạn đọc hiển thị mã mới").WithField("input.token")
	// ErrCardLost means the card was reported lost.
	ErrCardLost = thuvienso.E(thuvienso.CodeForbidden, "this card was reported lost and is no longer valid",
		"Thẻ này đã được báo mất và không còn giá trị")
	// ErrCardExpired means the card is past its expiry date.
	ErrCardExpired = thuvienso.E(thuvienso.CodeForbidden, "this card has expired; it can be renewed at a library desk",
		"Thẻ đã hết hạn; có thể gia hạn tại quầy thư viện")
	// ErrOfflinePassNotActive refuses an offline pass for a card that is not ACTIVE.
	ErrOfflinePassNotActive = thuvienso.E(thuvienso.CodeForbidden, "an offline pass is only issued for an active card",
		"Chỉ thẻ đang hoạt động mới được cấp thẻ ngoại tuyến")
	// ErrBadChildCredentials is the vague answer to a wrong child card number or password.
	ErrBadChildCredentials = thuvienso.E(thuvienso.CodeBadUserInput, "wrong card number or password of the child",
		"Sai số thẻ hoặc mật khẩu của trẻ").WithField("input.childPassword")
	// ErrNotAChild means the account cannot be linked as a child.
	ErrNotAChild = thuvienso.E(thuvienso.CodeBadUserInput, "only a child's or a student's reader account can be linked",
		"Chỉ có thể liên kết tài khoản bạn đọc thiếu nhi hoặc học sinh").WithField("input.childCardNumber")
	// ErrTooManyChildren limits the links of one guardian.
	ErrTooManyChildren = thuvienso.E(thuvienso.CodeLimitReached, "a guardian can link at most 10 children",
		"Mỗi người giám hộ liên kết được tối đa 10 trẻ")
)

// ErrBlocked returns the error of a blocked card, with the reason's message.
func ErrBlocked(reason BlockReason) *thuvienso.Error {
	en, vi := reason.Message()
	return thuvienso.E(thuvienso.CodeForbidden, en, vi)
}
