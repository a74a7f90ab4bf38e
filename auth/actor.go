package auth

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
)

// Actor is the authenticated caller of one request.
type Actor struct {
	AccountID string
	SessionID string
	Role      Role
	// LibraryID is the library a librarian acts for.
	LibraryID string
	// ExpiresAt is when the access token the actor was authenticated with
	// expires, by the service's clock (zero when unknown).
	ExpiresAt time.Time
}

type actorKey struct{}

// WithActor returns ctx carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of the request, if it is logged in. Every
// reading of the caller's identity goes through it (RequireActor too), which
// is what lets ActorReads tell an answer that depends on who asks from one
// that does not.
func ActorFrom(ctx context.Context) (Actor, bool) {
	if r, _ := ctx.Value(actorReadsKey{}).(*ActorReads); r != nil && r.armed.Load() {
		r.read.Store(true)
	}
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// ActorReads records whether a request consulted its caller's identity
// (ActorFrom, anonymous or not) once armed. A response computed without
// consulting it is the same for every caller, so a shared cache may give it
// to anyone (server.ResponseCache); arming it after authentication and rate
// limiting leaves out the readings those make.
type ActorReads struct {
	armed, read atomic.Bool
}

type actorReadsKey struct{}

// WithActorReads returns ctx carrying a new, unarmed ActorReads.
func WithActorReads(ctx context.Context) (context.Context, *ActorReads) {
	r := &ActorReads{}
	return context.WithValue(ctx, actorReadsKey{}, r), r
}

// Arm starts recording.
func (r *ActorReads) Arm() { r.armed.Store(true) }

// Read reports whether the identity was consulted since Arm.
func (r *ActorReads) Read() bool { return r.read.Load() }

// RequireActor returns the actor, or ErrUnauthenticated for an anonymous request.
func RequireActor(ctx context.Context) (Actor, error) {
	a, ok := ActorFrom(ctx)
	if !ok {
		return Actor{}, thuvienso.ErrUnauthenticated
	}
	return a, nil
}

// IsAdmin reports whether the actor acts for the whole province.
func (a Actor) IsAdmin() bool { return a.Role == RoleAdmin }

// CanActForLibrary reports whether the actor may do staff work for the
// library: an admin anywhere, a librarian only at their own library.
func (a Actor) CanActForLibrary(libraryID string) bool {
	return a.IsAdmin() || (a.Role == RoleLibrarian && a.LibraryID != "" && a.LibraryID == libraryID)
}

// CanViewAccount reports whether the actor may read the account: their own,
// any account for an admin, and the readers registered at a librarian's
// library for that librarian.
func (a Actor) CanViewAccount(acc *Account) bool {
	switch {
	case acc.ID == a.AccountID, a.IsAdmin():
		return true
	case a.Role == RoleLibrarian:
		return acc.Role == RoleReader && acc.HomeLibraryID == a.LibraryID
	}
	return false
}

// RequireLibraryStaff returns ErrForbidden unless the actor may act for libraryID.
func (a Actor) RequireLibraryStaff(libraryID string) error {
	if !a.CanActForLibrary(libraryID) {
		return thuvienso.ErrForbidden
	}
	return nil
}

type clientKey struct{}

// WithClient returns ctx carrying where the request comes from; the HTTP
// layer sets it so that login limits can count per IP address.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns where the request comes from (zero when unknown).
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// AccountFinder finds accounts by ID; Store is one. Domains that act for
// readers (e-books, circulation) read their accounts through it.
type AccountFinder interface {
	AccountsByID(ctx context.Context, ids []string) ([]*Account, error)
}

// AccountMap returns the accounts with these IDs, by ID; IDs with no
// account are left out.
func AccountMap(ctx context.Context, f AccountFinder, ids []string) (map[string]*Account, error) {
	out := map[string]*Account{}
	if len(ids) == 0 {
		return out, nil
	}
	accs, err := f.AccountsByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	for _, a := range accs {
		out[a.ID] = a
	}
	return out, nil
}

// ActorAccount returns the account of the actor; UNAUTHENTICATED for an
// anonymous actor or one whose account is gone.
func ActorAccount(ctx context.Context, f AccountFinder, a Actor) (*Account, error) {
	if a.AccountID == "" {
		return nil, thuvienso.ErrUnauthenticated
	}
	accs, err := AccountMap(ctx, f, []string{a.AccountID})
	if err != nil {
		return nil, err
	}
	acc := accs[a.AccountID]
	if acc == nil {
		return nil, thuvienso.ErrUnauthenticated
	}
	return acc, nil
}
