// Package notifications owns what readers are told and how: their devices
// (push tokens), their preferences (which kinds, how many days before a due
// date, quiet hours, language), the inbox where every notification is
// stored first, the message texts in Vietnamese and English, and delivery
// to every device of a reader through a Sender (Firebase Cloud Messaging in
// package fcm, or a log-only sender when no credentials are configured).
//
// Notifications come from four places, all driven by the Dispatcher: the
// durable event log (package events), which circulation and e-books write
// and which is turned into notifications at once (holds ready, e-book
// reservations, …); time-driven reminders computed from the open
// deadlines that Sources report (the due dates of loans, the pickup
// deadlines of ready holds, the ends of e-book loans); broadcasts, which
// librarians send to their library's readers and which are fanned out
// into every reader's inbox in batches; and saved searches, run weekly.
//
// # Exactly once
//
//   - Every notification has a deduplication key (reader, kind, subject,
//     moment) that the store keeps unique, so however many instances race
//     to create it, one notification exists. An event is marked handled
//     only after its notification exists, so a crash in between creates
//     nothing twice: the retry finds the key taken.
//   - A push is sent only by whoever claims it: a conditional update from
//     PENDING to SENDING that one caller wins. The tokens a push reached
//     are recorded with it, so a retry after a transient failure sends to
//     the other devices only. A claim that was never finished (the instance
//     died while sending) is not sent again but marked FAILED after its
//     lease: a push is sent at most once, and the inbox keeps the
//     notification whatever happens to the push.
package notifications

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
)

// Kind is what a notification is about; readers enable or disable kinds.
type Kind string

// Notification kinds.
const (
	// DueSoon: a loan is due in a few days (Preferences.DaysBeforeDue).
	DueSoon Kind = "DUE_SOON"
	// Overdue: a loan is past its due date (day 1 and day 7).
	Overdue Kind = "OVERDUE"
	// HoldReady: a held item waits at the pickup library.
	HoldReady Kind = "HOLD_READY"
	// HoldExpiring: a ready hold (or a reserved e-book) lapses tomorrow.
	HoldExpiring Kind = "HOLD_EXPIRING"
	// EbookExpiring: an e-book loan ends within two days.
	EbookExpiring Kind = "EBOOK_EXPIRING"
	// EbookHoldReserved: a copy of a held e-book is reserved for the reader.
	EbookHoldReserved Kind = "EBOOK_HOLD_RESERVED"
	// SavedSearch: new titles match a saved search.
	SavedSearch Kind = "SAVED_SEARCH"
	// LibraryNews: a message from a library to its readers.
	LibraryNews Kind = "LIBRARY_NEWS"
)

// Kinds lists every Kind.
var Kinds = []Kind{DueSoon, Overdue, HoldReady, HoldExpiring, EbookExpiring, EbookHoldReserved, SavedSearch, LibraryNews}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// PushState is where the push of a notification is.
type PushState string

// Push states. PENDING and SENDING are open; the others are final.
const (
	// PushPending: to be sent at Push.At (now, after quiet hours, or after
	// a retry delay).
	PushPending PushState = "PENDING"
	// PushSending: claimed by one sender until Push.ClaimedUntil.
	PushSending PushState = "SENDING"
	// PushSent: delivered to at least one device.
	PushSent PushState = "SENT"
	// PushFailed: no device could be reached (the inbox keeps it).
	PushFailed PushState = "FAILED"
	// PushSkipped: not pushed: the kind is disabled, or the reader has no
	// device.
	PushSkipped PushState = "SKIPPED"
)

// Push is the delivery state of one notification to the reader's devices.
type Push struct {
	State PushState
	// At is when the push may be sent (PENDING), or was finished (final
	// states).
	At time.Time
	// Attempts counts claims: each sending attempt makes one.
	Attempts int
	// ClaimedUntil ends the lease of a SENDING claim.
	ClaimedUntil *time.Time
	// SentTo lists the device tokens the push reached; they are never sent
	// it again.
	SentTo []string
	// Error says why the last attempt did not reach every device.
	Error string
}

// Notification is one entry of a reader's inbox.
type Notification struct {
	ID       string
	ReaderID string
	Kind     Kind
	// SubjectID is the loan, hold, saved search or message it is about.
	SubjectID string
	// Moment is the moment it is about: the deadline for HOLD_EXPIRING,
	// EBOOK_EXPIRING and holds ready or reserved; the reminder time for
	// DUE_SOON and OVERDUE, which have several per loan.
	Moment time.Time
	// DedupKey is DedupKey(ReaderID, Kind, SubjectID, Moment); the store
	// keeps it unique.
	DedupKey string
	// EventKey is the event it was made from, if any.
	EventKey string
	// Data holds what its text needs ("title", "library", "deadline" as
	// RFC 3339, "titleId", …); every value is a string.
	Data      map[string]string
	CreatedAt time.Time
	// ReadAt is set when the reader has read it.
	ReadAt *time.Time
	Push   Push
}

// Read reports whether the reader has read it.
func (n *Notification) Read() bool { return n.ReadAt != nil }

// DedupKey is the deduplication key of a notification: reader, kind,
// subject and moment (Unix seconds).
func DedupKey(readerID string, kind Kind, subjectID string, moment time.Time) string {
	return readerID + "|" + string(kind) + "|" + subjectID + "|" + strconv.FormatInt(moment.Unix(), 10)
}

// Platform is the kind of device a push token belongs to.
type Platform string

// Platforms.
const (
	Android Platform = "ANDROID"
	IOS     Platform = "IOS"
	Web     Platform = "WEB"
)

// Valid reports whether p is a known platform.
func (p Platform) Valid() bool { return p == Android || p == IOS || p == Web }

// Device is one app installation of a reader that receives pushes.
type Device struct {
	// Token is the FCM registration token; one device per token.
	Token    string
	ReaderID string
	Platform Platform
	// Locale is the app's language ("vi" or "en"); pushes use it unless
	// the reader chose a language in the preferences.
	Locale string
	// RegisteredAt is when the token was last registered.
	RegisteredAt time.Time
}

// Cursor is a position in a reader's inbox, which is ordered newest first
// (CreatedAt, then ID, descending).
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// CursorOf returns the position of n.
func CursorOf(n *Notification) Cursor { return Cursor{CreatedAt: n.CreatedAt, ID: n.ID} }

// ListQuery selects a page of one reader's inbox.
type ListQuery struct {
	ReaderID string
	// After continues after this position (nil: from the newest).
	After *Cursor
	// Limit bounds the page.
	Limit int
	// UnreadOnly leaves out read notifications.
	UnreadOnly bool
}

// PushFinish is the outcome of one claimed push (see Store.FinishPush).
type PushFinish struct {
	ID              string
	ClaimedAttempts int
	Push            Push
}

// Store keeps devices, preferences and notifications.
// Implementations: sqlite.NotificationStore, mongo.NotificationStore; the
// contract is package storetest.
type Store interface {
	// SaveDevice stores d under its token, replacing what the token had: a
	// token registered by another reader moves to this one.
	SaveDevice(ctx context.Context, d *Device) error
	// DeleteDevice removes the token when it belongs to readerID; it
	// reports whether it did.
	DeleteDevice(ctx context.Context, readerID, token string) (bool, error)
	// Devices returns a reader's devices, oldest registration first.
	Devices(ctx context.Context, readerID string) ([]*Device, error)
	// DevicesOf returns the devices of the readers, by reader, each
	// reader's oldest registration first (readers without any are left
	// out).
	DevicesOf(ctx context.Context, readerIDs []string) (map[string][]*Device, error)

	// Preferences returns the stored preferences of those of the readers
	// who saved any, by reader ID.
	Preferences(ctx context.Context, readerIDs []string) (map[string]*Preferences, error)
	// SavePreferences stores p, replacing the reader's previous ones.
	SavePreferences(ctx context.Context, p *Preferences) error

	// CreateNotification stores n (a new ID when empty) unless a
	// notification with its DedupKey exists; it reports whether this call
	// stored it.
	CreateNotification(ctx context.Context, n *Notification) (bool, error)
	// CreateNotifications is CreateNotification for many: it stores each
	// of ns whose DedupKey is not taken and reports, for each, whether
	// this call stored it.
	CreateNotifications(ctx context.Context, ns []*Notification) ([]bool, error)
	// Notification returns a notification, or thuvienso.ErrNotFound.
	Notification(ctx context.Context, id string) (*Notification, error)
	// NotificationByKey returns the notification with a dedup key, or
	// thuvienso.ErrNotFound.
	NotificationByKey(ctx context.Context, key string) (*Notification, error)
	// ExistingKeys returns which of the dedup keys are taken.
	ExistingKeys(ctx context.Context, keys []string) (map[string]bool, error)
	// Notifications returns a page of a reader's inbox, newest first.
	Notifications(ctx context.Context, q ListQuery) ([]*Notification, error)
	// CountNotifications counts a reader's notifications (unread ones only
	// when unreadOnly).
	CountNotifications(ctx context.Context, readerID string, unreadOnly bool) (int, error)
	// MarkRead sets ReadAt on the reader's unread notification id; it
	// reports false when it was read already, and fails with
	// thuvienso.ErrNotFound when the reader has no such notification.
	MarkRead(ctx context.Context, readerID, id string, at time.Time) (bool, error)
	// MarkAllRead sets ReadAt on every unread notification of the reader
	// and returns how many it changed.
	MarkAllRead(ctx context.Context, readerID string, at time.Time) (int, error)

	// DuePushes returns up to limit PENDING pushes whose At is at or before
	// now, soonest first.
	DuePushes(ctx context.Context, now time.Time, limit int) ([]*Notification, error)
	// ClaimPush moves a PENDING push whose At is at or before now to
	// SENDING until `until`, adding one to its Attempts, in one
	// conditional update, and returns the claimed notification; of many
	// callers one wins, the others get ErrNotClaimed.
	ClaimPush(ctx context.Context, id string, now, until time.Time) (*Notification, error)
	// ClaimPushes is ClaimPush for many: it claims those of ids whose push
	// is PENDING and due, each in a conditional update that one caller
	// wins, and returns the notifications it claimed (any order).
	ClaimPushes(ctx context.Context, ids []string, now, until time.Time) ([]*Notification, error)
	// FinishPush replaces the push of a notification that is SENDING with
	// claimedAttempts attempts (the caller's claim) by p; it reports false
	// when the claim is no longer the caller's.
	FinishPush(ctx context.Context, id string, claimedAttempts int, p Push) (bool, error)
	// FinishPushes is FinishPush for many; it returns how many of the
	// claims were still the caller's (and so were finished).
	FinishPushes(ctx context.Context, fs []PushFinish) (int, error)
	// FailStaleClaims marks FAILED the SENDING pushes whose claim ended
	// before now (their sender died), and returns how many.
	FailStaleClaims(ctx context.Context, now time.Time) (int, error)

	// CreateBroadcast stores b (a new ID when empty) unless its sender
	// has a broadcast with its IdempotencyKey (when not empty), and
	// returns the stored broadcast and whether this call stored it. Of
	// many callers with one key, one stores it.
	CreateBroadcast(ctx context.Context, b *Broadcast) (*Broadcast, bool, error)
	// Broadcast returns a broadcast, or thuvienso.ErrNotFound.
	Broadcast(ctx context.Context, id string) (*Broadcast, error)
	// Broadcasts returns a page of broadcasts, newest first.
	Broadcasts(ctx context.Context, q BroadcastQuery) ([]*Broadcast, error)
	// UnfinishedBroadcasts returns up to limit broadcasts whose fan-out
	// is not finished, oldest first.
	UnfinishedBroadcasts(ctx context.Context, limit int) ([]*Broadcast, error)
	// AdvanceBroadcast moves the cursor of an unfinished broadcast from
	// `from` to `to`, adds reached to its Recipients and sets FinishedAt
	// to finished (nil: not yet), in one conditional update; it reports
	// false when the broadcast's cursor is not `from` (another caller
	// moved it) or it is finished.
	AdvanceBroadcast(ctx context.Context, id, from, to string, reached int, finished *time.Time) (bool, error)

	// CreateSavedSearch stores s (a new ID when empty); a name the reader
	// has already fails with ErrSavedSearchNameTaken.
	CreateSavedSearch(ctx context.Context, s *StoredSearch) error
	// SavedSearch returns a saved search, or thuvienso.ErrNotFound.
	SavedSearch(ctx context.Context, id string) (*StoredSearch, error)
	// SavedSearches returns a reader's saved searches, oldest first
	// (CreatedAt, then ID).
	SavedSearches(ctx context.Context, readerID string) ([]*StoredSearch, error)
	// DeleteSavedSearch removes the reader's saved search id; it reports
	// whether it did.
	DeleteSavedSearch(ctx context.Context, readerID, id string) (bool, error)
	// DueSavedSearches returns up to limit saved searches whose NextRunAt
	// is at or before now, soonest first.
	DueSavedSearches(ctx context.Context, now time.Time, limit int) ([]*StoredSearch, error)
	// RecordSavedSearchRun sets LastRunAt, NextRunAt and Seen of the saved
	// search from run and increments its Version, when the stored Version
	// is version, in one conditional update; it reports false otherwise
	// (another run recorded first, or the search is gone).
	RecordSavedSearchRun(ctx context.Context, id string, version int, run SavedSearchRun) (bool, error)
}

// Errors of the notification domain.
var (
	// ErrNotClaimed: the push is not PENDING and due (another sender has
	// it, or it is finished).
	ErrNotClaimed = thuvienso.E(thuvienso.CodeConflict,
		"this notification is being sent or was sent already", "thông báo này đang được gửi hoặc đã được gửi")
	// ErrBadToken: the device token is empty or too long.
	ErrBadToken = thuvienso.Invalid("input.token",
		"the device token is missing or too long", "mã thiết bị bị thiếu hoặc quá dài")
	// ErrBadPlatform: the platform is not ANDROID, IOS or WEB.
	ErrBadPlatform = thuvienso.Invalid("input.platform",
		"the platform must be ANDROID, IOS or WEB", "nền tảng phải là ANDROID, IOS hoặc WEB")
	// ErrBadLanguage: the language is not vi or en.
	ErrBadLanguage = thuvienso.Invalid("input.language",
		"the language must be vi or en", "ngôn ngữ phải là vi hoặc en")
	// ErrBadKind: an unknown notification kind.
	ErrBadKind = thuvienso.Invalid("input.kinds",
		"unknown notification kind", "loại thông báo không hợp lệ")
	// ErrBadDaysBeforeDue: reminder days out of range.
	ErrBadDaysBeforeDue = thuvienso.Invalid("input.daysBeforeDue",
		fmt.Sprintf("reminder days must be whole days from 1 to %d, at most %d of them", MaxDaysBeforeDue, maxReminders),
		fmt.Sprintf("số ngày nhắc trước phải từ 1 đến %d, tối đa %d mốc", MaxDaysBeforeDue, maxReminders))
	// ErrBadQuietHours: a time of day that is not HH:MM.
	ErrBadQuietHours = thuvienso.Invalid("input.quietHours",
		"quiet hours must be given as HH:MM", "giờ yên lặng phải có dạng HH:MM")
	// ErrBadCursor: a page cursor that this service did not make.
	ErrBadCursor = thuvienso.Invalid("after", "the page cursor is invalid", "con trỏ trang không hợp lệ")
)
