// Package store names the set of domain stores one database provides, so the
// server can be wired to either implementation (package sqlite, the embedded
// default, or package mongo, production) and the contract suite (package
// storetest) can run the same tests against both.
package store

import (
	"context"
	"database/sql"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/catalog"
	"github.com/bacninh/thuvienso/circulation"
	"github.com/bacninh/thuvienso/ebooks"
	"github.com/bacninh/thuvienso/events"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/notifications"
)

// Set is every domain store of one database.
type Set struct {
	// Kind names the implementation ("sqlite", "mongo"), for logs and /readyz.
	Kind      string
	Libraries library.Store
	Auth      auth.Store
	Catalog   catalog.Store
	// Cards keeps library cards and guardian–child links.
	Cards card.Store
	// Ebooks keeps e-book titles, licenses, loans and holds.
	Ebooks ebooks.Store
	// Events is the durable log of reader-facing events.
	Events events.Store
	// Notifications keeps push devices, preferences and the inbox.
	Notifications notifications.Store
	// Circulation keeps holds, loans, copy claims and closed days.
	Circulation circulation.Store
	// Ping reports whether the database answers.
	Ping func(ctx context.Context) error
	// Close releases the database.
	Close func(ctx context.Context) error
	// SQLPools are the store's database/sql connection pools by name (the
	// SQLite store's "read" and "write"), whose waits /metrics shows; none
	// for MongoDB.
	SQLPools map[string]*sql.DB
}
