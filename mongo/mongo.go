// Package mongo owns the production store: a MongoDB database (official
// driver v2, MONGODB_URI, a replica set), its collections and indexes, and
// the implementations of the domain store interfaces on top of it
// (library.Store as LibraryStore, auth.Store as AuthStore, catalog.Store
// as CatalogStore).
//
// It relies only on what MongoDB guarantees and what the embedded FerretDB
// of the tests also does right: single-document atomic updates with the
// precondition in the filter (FindOneAndUpdate, UpdateOne), unique indexes
// for invariants, simple indexed finds; joins in Go, batched by id. It uses
// no multi-document transactions, $lookup, $facet, $text, TTL or partial
// indexes. The contract every store must meet is package storetest.
//
// Documents are explicit structs with bson tags. Times are BSON dates (UTC,
// milliseconds, queryable) plus the sub-millisecond nanoseconds in a
// sibling field "<name>Ns", so a time round-trips exactly as the contract
// requires. Optional unique values (email, phone, card number) are left out
// of the document when empty, never stored as "" or null, so that the
// unique indexes do not make absent values collide.
//
// What FerretDB v1.24.2 (SQLite backend, the tests' embedded server) does
// and does not do, found while making the contract suite pass on it:
//
//   - Unique indexes work, and an InsertOne that violates one fails with
//     code 11000 (mongo.IsDuplicateKeyError is true), but the message names
//     no index ("E11000 duplicate key error collection: db.coll"), so which
//     field collided is found by looking the values up afterwards.
//   - An update (ReplaceOne) that violates a unique index is refused, but
//     as an internal error (code 1, "UNIQUE constraint failed"), not as a
//     duplicate key error; UpdateLibrary therefore checks, after a failed
//     replace, whether another library holds the code.
//   - The "sparse" index option is accepted and ignored. Its unique indexes
//     are SQLite expression indexes on the JSON field, so a missing field is
//     SQL NULL and never collides, while an explicit null or "" would: hence
//     empty optional values are left out of documents (omitempty), which is
//     also what a sparse unique index on real MongoDB needs.
//   - partialFilterExpression is refused ("not implemented"); not used.
//   - FindOneAndUpdate with the precondition in the filter ({usedAt: null},
//     which matches a missing field) and ReturnDocument After works.
//   - A createIndexes command naming more than one index that already
//     exists crashes the command (a recovered "slice bounds out of range"
//     panic in validateIndexesForCreation; the connection is dropped), so a
//     second Open of a database failed. ensureIndexes therefore creates one
//     index per command; that works on both, concurrently too.
//   - With more than one pooled connection FindOneAndUpdate is not atomic:
//     64 concurrent uses of one refresh token gave 10 to 30 "successes"
//     instead of 1. With SetMaxPoolSize(1), as the tests connect, exactly
//     one succeeds. Unique indexes hold either way (SQLite enforces them).
//     Concurrency is proven on SQLite and on a real MongoDB, not on FerretDB.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/bacninh/thuvienso/store"
)

// Collection names.
const (
	collLibraries     = "libraries"
	collAccounts      = "accounts"
	collSessions      = "sessions"
	collRefreshTokens = "refreshTokens"
)

// Index names, fixed so duplicate-key messages of MongoDB can be matched.
const (
	idxLibraryCode    = "code_unique"
	idxAccountEmail   = "email_unique"
	idxAccountPhone   = "phone_unique"
	idxAccountCard    = "cardNumber_unique"
	idxLibraryDist    = "district_code"
	idxLibraryType    = "type_code"
	idxSessionAccount = "accountId"
	idxTokenSession   = "sessionId"
)

// DB is a connected MongoDB database with its indexes in place. It is safe
// for concurrent use.
type DB struct {
	client *mongodrv.Client
	db     *mongodrv.Database
}

// Open connects to uri, uses the named database and creates the indexes
// the stores need (idempotently; several processes may Open at once).
// opts are applied after the URI, e.g. options.Client().SetMaxPoolSize(1)
// for FerretDB in tests.
func Open(ctx context.Context, uri, database string, opts ...*options.ClientOptions) (*DB, error) {
	if database == "" {
		return nil, errors.New("mongo: open: database name is empty")
	}
	all := append([]*options.ClientOptions{options.Client().ApplyURI(uri)}, opts...)
	client, err := mongodrv.Connect(all...)
	if err != nil {
		return nil, fmt.Errorf("mongo: connecting: %w", err)
	}
	d := &DB{client: client, db: client.Database(database)}
	if err := d.Ping(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("mongo: open: %w", err)
	}
	if err := d.ensureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("mongo: open: %w", err)
	}
	return d, nil
}

// ensureIndexes creates every index the stores rely on. Creating an index
// that exists with the same definition is a no-op.
func (d *DB) ensureIndexes(ctx context.Context) error {
	unique := func(name string) *options.IndexOptionsBuilder {
		return options.Index().SetName(name).SetUnique(true)
	}
	// Sparse: accounts without the field are not in the index, so they do
	// not collide with each other (FerretDB ignores the option; see above).
	uniqueSparse := func(name string) *options.IndexOptionsBuilder {
		return unique(name).SetSparse(true)
	}
	plain := func(name string) *options.IndexOptionsBuilder { return options.Index().SetName(name) }
	indexes := map[string][]mongodrv.IndexModel{
		collLibraries: {
			{Keys: bson.D{{Key: "code", Value: 1}}, Options: unique(idxLibraryCode)},
			{Keys: bson.D{{Key: "district", Value: 1}, {Key: "code", Value: 1}}, Options: plain(idxLibraryDist)},
			{Keys: bson.D{{Key: "type", Value: 1}, {Key: "code", Value: 1}}, Options: plain(idxLibraryType)},
		},
		collAccounts: {
			{Keys: bson.D{{Key: "email", Value: 1}}, Options: uniqueSparse(idxAccountEmail)},
			{Keys: bson.D{{Key: "phone", Value: 1}}, Options: uniqueSparse(idxAccountPhone)},
			{Keys: bson.D{{Key: "cardNumber", Value: 1}}, Options: uniqueSparse(idxAccountCard)},
		},
		collSessions: {
			{Keys: bson.D{{Key: "accountId", Value: 1}}, Options: plain(idxSessionAccount)},
		},
		collRefreshTokens: {
			{Keys: bson.D{{Key: "sessionId", Value: 1}}, Options: plain(idxTokenSession)},
		},
	}
	// One index per command: FerretDB v1.24.2 panics on a createIndexes
	// that names more than one index that already exists (see above).
	for coll, ms := range catalogIndexes() {
		indexes[coll] = ms
	}
	for coll, ms := range cardIndexes() {
		indexes[coll] = ms
	}
	for coll, ms := range ebookIndexes() {
		indexes[coll] = ms
	}
	for coll, ms := range notificationIndexes() {
		indexes[coll] = ms
	}
	for _, coll := range []string{collLibraries, collAccounts, collSessions, collRefreshTokens,
		collWorks, collWorkKeys, collRecords, collItems, collEbookTitles, collEbookLicenses, collEbookLoans,
		collEbookHolds, collEvents, collCards, collCardLinks, collNotifications, collNotificationDevs, collBroadcasts, collSavedSearches} {
		for _, m := range indexes[coll] {
			if _, err := d.db.Collection(coll).Indexes().CreateOne(ctx, m); err != nil {
				return fmt.Errorf("creating indexes of %s: %w", coll, err)
			}
		}
	}
	for _, coll := range circulationCollections {
		for _, m := range circulationIndexes()[coll] {
			if _, err := d.db.Collection(coll).Indexes().CreateOne(ctx, m); err != nil {
				return fmt.Errorf("creating indexes of %s: %w", coll, err)
			}
		}
	}
	return nil
}

// Stores returns every domain store of this database. Close of the Set
// disconnects d.
func (d *DB) Stores() *store.Set {
	return &store.Set{
		Kind:      "mongo",
		Libraries: &LibraryStore{c: d.db.Collection(collLibraries)},
		Auth: &AuthStore{
			accounts: d.db.Collection(collAccounts),
			sessions: d.db.Collection(collSessions),
			tokens:   d.db.Collection(collRefreshTokens),
		},
		Catalog: newCatalogStore(d.db),
		Cards:   newCardStore(d.db),
		Ebooks:  newEbookStore(d.db),
		Events:  newEventStore(d.db),
		Ping:    d.Ping,
		Close:   d.Close,

		Notifications: newNotificationStore(d.db),

		Circulation: newCirculationStore(d.db),
	}
}

// Database returns the underlying database, for tools and tests (dropping a
// test database, say); stores never need it.
func (d *DB) Database() *mongodrv.Database { return d.db }

// Ping reports whether the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return fmt.Errorf("mongo: ping: %w", err)
	}
	return nil
}

// Close disconnects the client.
func (d *DB) Close(ctx context.Context) error {
	if err := d.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: close: %w", err)
	}
	return nil
}

// newID returns a new time-ordered ID for a document the caller gave none.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// toDate splits t into a BSON date (whole milliseconds, UTC) and the
// nanoseconds below the millisecond.
func toDate(t time.Time) (bson.DateTime, int32) {
	return bson.DateTime(t.UnixMilli()), int32(t.Nanosecond() % int(time.Millisecond))
}

// fromDate joins what toDate split, in UTC.
func fromDate(d bson.DateTime, ns int32) time.Time {
	return time.UnixMilli(int64(d)).Add(time.Duration(ns)).UTC()
}

// toDatePtr is toDate for an optional time.
func toDatePtr(t *time.Time) (*bson.DateTime, int32) {
	if t == nil {
		return nil, 0
	}
	d, ns := toDate(*t)
	return &d, ns
}

// fromDatePtr is fromDate for an optional time.
func fromDatePtr(d *bson.DateTime, ns int32) *time.Time {
	if d == nil {
		return nil
	}
	t := fromDate(*d, ns)
	return &t
}

// duplicateIndex reports whether err is a duplicate-key error and, when the
// server names it (MongoDB does, FerretDB does not), the index at fault.
func duplicateIndex(err error) (index string, dup bool) {
	if !mongodrv.IsDuplicateKeyError(err) {
		return "", false
	}
	msg := err.Error()
	for _, name := range []string{idxLibraryCode, idxAccountEmail, idxAccountPhone, idxAccountCard, "_id_"} {
		if strings.Contains(msg, "index: "+name+" ") {
			return name, true
		}
	}
	return "", true
}

// exists reports whether a document matches filter.
func exists(ctx context.Context, c *mongodrv.Collection, filter any) (bool, error) {
	err := c.FindOne(ctx, filter, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return false, nil
	}
	return err == nil, err
}

// findAs runs a find and decodes every document with conv.
func findAs[D any, T any](ctx context.Context, c *mongodrv.Collection, filter any, opts *options.FindOptionsBuilder, conv func(*D) (T, error)) ([]T, error) {
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	var out []T
	for cur.Next(ctx) {
		var d D
		if err := cur.Decode(&d); err != nil {
			return nil, err
		}
		v, err := conv(&d)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, cur.Err()
}
