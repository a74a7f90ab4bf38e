-- Notifications: devices (push tokens), preferences and the inbox.

CREATE TABLE notification_devices (
	token         TEXT PRIMARY KEY, -- one device per FCM token; a token moves between readers
	reader_id     TEXT NOT NULL,
	platform      TEXT NOT NULL,
	locale        TEXT NOT NULL,
	registered_at TEXT NOT NULL
) STRICT;

CREATE INDEX notification_devices_reader ON notification_devices (reader_id, registered_at, token);

CREATE TABLE notification_preferences (
	reader_id       TEXT PRIMARY KEY,
	disabled        TEXT NOT NULL, -- JSON array of kinds
	days_before_due TEXT NOT NULL, -- JSON array of whole days
	quiet_start     INTEGER NOT NULL, -- minutes after midnight, Asia/Ho_Chi_Minh
	quiet_end       INTEGER NOT NULL,
	language        TEXT NOT NULL,
	updated_at      TEXT NOT NULL
) STRICT;

CREATE TABLE notifications (
	id                 TEXT PRIMARY KEY,
	reader_id          TEXT NOT NULL,
	kind               TEXT NOT NULL,
	subject_id         TEXT NOT NULL,
	moment             TEXT NOT NULL,
	dedup_key          TEXT NOT NULL UNIQUE, -- reader|kind|subject|moment: one notification each
	event_key          TEXT NOT NULL,
	data               TEXT NOT NULL, -- JSON object of strings
	created_at         TEXT NOT NULL,
	read_at            TEXT,
	push_state         TEXT NOT NULL,
	push_at            TEXT NOT NULL,
	push_attempts      INTEGER NOT NULL,
	push_claimed_until TEXT,
	push_sent_to       TEXT NOT NULL, -- JSON array of tokens
	push_error         TEXT NOT NULL
) STRICT;

CREATE INDEX notifications_inbox ON notifications (reader_id, created_at, id);
CREATE INDEX notifications_unread ON notifications (reader_id, created_at, id) WHERE read_at IS NULL;
CREATE INDEX notifications_pending ON notifications (push_at, id) WHERE push_state = 'PENDING';
CREATE INDEX notifications_sending ON notifications (push_claimed_until) WHERE push_state = 'SENDING';
