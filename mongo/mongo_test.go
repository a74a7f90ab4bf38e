package mongo_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/mongo"
	"github.com/bacninh/thuvienso/store"
	"github.com/bacninh/thuvienso/storetest"
)

// startFerretDB runs an embedded FerretDB v1 (SQLite backend in a temporary
// folder, TCP on a free port of 127.0.0.1) for the rest of the test and
// returns its URI.
func startFerretDB(t *testing.T) string {
	t.Helper()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + t.TempDir() + "/",
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		t.Fatalf("starting FerretDB: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.Run(ctx); err != nil {
			t.Errorf("FerretDB: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return f.MongoDBURI() // waits until the listener is up
}

// ferretOptions are what DESIGN.md requires with FerretDB: one connection,
// which serialises commands and makes its answers correct.
func ferretOptions() *options.ClientOptions {
	return options.Client().SetMaxPoolSize(1).SetTimeout(30 * time.Second)
}

// opener returns a storetest.Open that opens a new, uniquely named database
// on uri for each test and drops it afterwards.
func opener(uri, prefix string, opts ...*options.ClientOptions) storetest.Open {
	return func(t *testing.T) *store.Set {
		t.Helper()
		name := uniqueName(prefix)
		db, err := mongo.Open(t.Context(), uri, name, opts...)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := db.Database().Drop(ctx); err != nil {
				t.Errorf("dropping %s: %v", name, err)
			}
			if err := db.Close(ctx); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return db.Stores()
	}
}

// uniqueName returns prefix plus random hex: a database name no other run uses.
func uniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// eachServer runs f as a subtest against the embedded FerretDB
// ("mongo-ferretdb", always) and against the real MongoDB at MONGODB_URI
// ("mongo-real", skipped when it is unset).
func eachServer(t *testing.T, f func(t *testing.T, uri string, opts ...*options.ClientOptions)) {
	t.Run("mongo-ferretdb", func(t *testing.T) { f(t, startFerretDB(t), ferretOptions()) })
	t.Run("mongo-real", func(t *testing.T) { f(t, realMongoDB(t)) })
}

// realMongoDB returns MONGODB_URI, or skips t when it is unset.
func realMongoDB(t *testing.T) string {
	t.Helper()
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		t.Skip("MONGODB_URI is not set: not run against a real MongoDB")
	}
	return uri
}

func TestContract(t *testing.T) {
	t.Run("mongo-ferretdb", func(t *testing.T) {
		// One connection serialises FerretDB's commands: the suite is told,
		// and sizes its largest concurrency tests to it.
		storetest.RunWithOptions(t, opener(startFerretDB(t), "thuvienso_test_", ferretOptions()),
			storetest.Options{SerialisedCommands: true})
	})
	t.Run("mongo-real", func(t *testing.T) {
		storetest.Run(t, opener(realMongoDB(t), "thuvienso_test_"))
	})
}

// dropAfter drops the database name on uri when t ends.
func dropAfter(t *testing.T, uri, name string, opts ...*options.ClientOptions) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := mongo.Open(ctx, uri, name, opts...)
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer db.Close(ctx)
		if err := db.Database().Drop(ctx); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
}

// Opening a database that already has its indexes (a restart, or a second
// instance beside the first) works, sees the data, and keeps the unique
// indexes.
func TestReopen(t *testing.T) {
	eachServer(t, func(t *testing.T, uri string, opts ...*options.ClientOptions) {
		ctx := t.Context()
		name := uniqueName("thuvienso_test_reopen_")
		dropAfter(t, uri, name, opts...)
		first, err := mongo.Open(ctx, uri, name, opts...)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := first.Stores().Libraries.CreateLibrary(ctx, &library.Library{ID: "lib-1", Code: "BN", Type: library.TypeProvincial}); err != nil {
			t.Fatalf("CreateLibrary: %v", err)
		}
		second, err := mongo.Open(ctx, uri, name, opts...) // beside the first
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		defer second.Close(context.Background())
		if err := first.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		third, err := mongo.Open(ctx, uri, name, opts...) // after a close
		if err != nil {
			t.Fatalf("reopening: %v", err)
		}
		defer third.Close(context.Background())
		for i, db := range []*mongo.DB{second, third} {
			s := db.Stores()
			if _, err := s.Libraries.LibraryByCode(ctx, "BN"); err != nil {
				t.Fatalf("LibraryByCode through Open %d: %v", i+2, err)
			}
			err := s.Libraries.CreateLibrary(ctx, &library.Library{ID: "lib-2", Code: "BN", Type: library.TypeProvincial})
			if !errors.Is(err, library.ErrCodeTaken) {
				t.Fatalf("CreateLibrary with a taken code through Open %d: %v", i+2, err)
			}
		}
	})
}

// Several processes starting at once may Open a new database together.
func TestConcurrentOpen(t *testing.T) {
	eachServer(t, func(t *testing.T, uri string, opts ...*options.ClientOptions) {
		ctx := t.Context()
		name := uniqueName("thuvienso_test_open_")
		dropAfter(t, uri, name, opts...)
		const n = 4
		dbs := make([]*mongo.DB, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { dbs[i], errs[i] = mongo.Open(ctx, uri, name, opts...) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Open %d: %v", i, err)
			}
			defer dbs[i].Close(context.Background())
		}
		if err := dbs[0].Stores().Libraries.CreateLibrary(ctx, &library.Library{ID: "lib-1", Code: "BN", Type: library.TypeProvincial}); err != nil {
			t.Fatalf("CreateLibrary: %v", err)
		}
		err := dbs[n-1].Stores().Libraries.CreateLibrary(ctx, &library.Library{ID: "lib-2", Code: "BN", Type: library.TypeProvincial})
		if !errors.Is(err, library.ErrCodeTaken) {
			t.Fatalf("CreateLibrary with a taken code: %v", err)
		}
	})
}
