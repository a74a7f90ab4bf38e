// Package demo owns the demo province: a believable network of Bắc Ninh's
// libraries (the provincial library, the eight district-level libraries, and
// commune, school, village and private libraries under them) with an
// administrator, a librarian for every library and a handful of readers, all
// sharing one demo password. The server seeds it into an empty database so
// that a fresh checkout has something to show.
//
// Seeding is safe to repeat: libraries are looked up by code and accounts by
// login before anything is created, so a run that failed half-way finishes
// the job the next time, and a complete run changes nothing.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/library"
	"github.com/bacninh/thuvienso/vietnamese"
)

// Password is the password of every demo account. It is for demonstrations
// only: a database seeded with it must never be exposed as a real service.
const Password = "thuvien123"

// StaffEmailDomain is the mail domain of the demo administrator and
// librarians.
const StaffEmailDomain = "thuvien.bacninh.gov.vn"

// Login is one demo account someone can log in with.
type Login struct {
	Role auth.Role
	// Category is the reader category (ADULT for staff).
	Category auth.Category
	Name     string
	// Login is what to type in the login field: the email address, or the
	// phone number for an account that has none.
	Login    string
	Password string
	// CardNumber is the account's library card number, also a valid login.
	CardNumber string
	// Library names the librarian's library, or the home library of a
	// reader or the administrator; LibraryCode is its code.
	Library     string
	LibraryCode string
	// Headline marks the few logins worth printing at start-up: the
	// administrator, the readers and the librarians of the provincial
	// library and of Từ Sơn.
	Headline bool
}

// Result is what Seed did.
type Result struct {
	// Logins are every demo account: headline ones first (administrator,
	// readers, headline librarians), then the other librarians in the order
	// of their libraries.
	Logins []Login
	// Libraries and Accounts count the demo libraries and accounts now in
	// the database; the Created counts are those this run added.
	Libraries, LibrariesCreated int
	Accounts, AccountsCreated   int
	// Duration is how long seeding took.
	Duration time.Duration
}

// Headline returns the logins worth printing at start-up.
func (r *Result) Headline() []Login {
	var out []Login
	for _, l := range r.Logins {
		if l.Headline {
			out = append(out, l)
		}
	}
	return out
}

// NeedsSeed reports whether the database has no libraries yet, which is
// when the server seeds the demo province.
func NeedsSeed(ctx context.Context, libraries library.Store) (bool, error) {
	n, err := libraries.CountLibraries(ctx)
	if err != nil {
		return false, fmt.Errorf("demo: count libraries: %w", err)
	}
	return n == 0, nil
}

// LibrarianEmail is the login of the demo librarian of the library with
// this code ("BN-TS" → "thuthu.bn-ts@thuvien.bacninh.gov.vn").
func LibrarianEmail(code string) string {
	return "thuthu." + strings.ToLower(code) + "@" + StaffEmailDomain
}

// headlineLibrarians are the libraries whose librarians are headline logins.
var headlineLibrarians = map[string]bool{"BN": true, "BN-TS": true}

// Seed creates the demo province: every library that does not exist yet (by
// code), then every demo account that does not exist yet (by login).
// Existing libraries and accounts are left as they are.
func Seed(ctx context.Context, libraries library.Store, accounts *auth.Service, logger *slog.Logger) (*Result, error) {
	if logger == nil {
		logger = slog.Default()
	}
	start := time.Now()
	res := &Result{}

	byCode, err := seedLibraries(ctx, libraries, res)
	if err != nil {
		return nil, err
	}
	logger.Debug("demo libraries ready", "libraries", res.Libraries, "created", res.LibrariesCreated,
		"elapsed", time.Since(start))

	jobs, err := accountJobs(byCode)
	if err != nil {
		return nil, err
	}
	if err := seedAccounts(ctx, accounts, jobs, logger); err != nil {
		return nil, err
	}
	for _, j := range jobs {
		res.Accounts++
		if j.created {
			res.AccountsCreated++
		}
		res.Logins = append(res.Logins, j.login)
	}
	res.Duration = time.Since(start)
	logger.Info("demo province seeded",
		"libraries", res.Libraries, "libraries_created", res.LibrariesCreated,
		"accounts", res.Accounts, "accounts_created", res.AccountsCreated,
		"duration", res.Duration.Round(time.Millisecond))
	return res, nil
}

// seedLibraries creates the missing demo libraries, parents first, and
// returns every demo library by code.
func seedLibraries(ctx context.Context, store library.Store, res *Result) (map[string]*library.Library, error) {
	byCode := make(map[string]*library.Library, len(sites))
	now := time.Now().UTC()
	for _, s := range sites {
		l, err := store.LibraryByCode(ctx, s.code)
		switch {
		case err == nil:
		case errors.Is(err, thuvienso.ErrNotFound):
			if l, err = s.library(byCode, now); err != nil {
				return nil, err
			}
			err = store.CreateLibrary(ctx, l)
			if errors.Is(err, library.ErrCodeTaken) {
				// Another instance seeding at the same moment won.
				l, err = store.LibraryByCode(ctx, s.code)
			} else if err == nil {
				res.LibrariesCreated++
			}
			if err != nil {
				return nil, fmt.Errorf("demo: create library %s: %w", s.code, err)
			}
		default:
			return nil, fmt.Errorf("demo: library %s: %w", s.code, err)
		}
		byCode[s.code] = l
		res.Libraries++
	}
	return byCode, nil
}

// library builds the library a site describes; its parent must be in byCode.
func (s site) library(byCode map[string]*library.Library, now time.Time) (*library.Library, error) {
	var parentID string
	if s.parent != "" {
		p, ok := byCode[s.parent]
		if !ok {
			return nil, fmt.Errorf("demo: library %s: parent %s is not listed before it", s.code, s.parent)
		}
		parentID = p.ID
	}
	hours := make([]library.OpeningHours, len(s.hours))
	copy(hours, s.hours)
	return &library.Library{
		ID:          uuid.Must(uuid.NewV7()).String(),
		Code:        s.code,
		Name:        vietnamese.Clean(s.name),
		Type:        s.typ,
		ParentID:    parentID,
		District:    vietnamese.Clean(s.district),
		Commune:     vietnamese.Clean(s.commune),
		Address:     vietnamese.Clean(s.address),
		Location:    &library.Point{Lat: s.lat, Lng: s.lng},
		Hours:       hours,
		PickupPoint: s.pickup,
		Contact:     s.contact,
		CreatedAt:   now,
		UpdatedAt:   now,
	}, nil
}

// accountJob is one demo account to make sure of.
type accountJob struct {
	in      auth.NewAccount
	key     string // normalised login, for the store lookup
	login   Login
	created bool
}

// accountJobs lists the demo accounts, headline ones first.
func accountJobs(byCode map[string]*library.Library) ([]*accountJob, error) {
	var headline, rest []*accountJob
	add := func(r reader, role auth.Role, libCode string, headlineLogin bool) error {
		lib := byCode[libCode]
		if lib == nil {
			return fmt.Errorf("demo: account %s: no library %s", r.name, libCode)
		}
		cardNumber, err := card.NumberFrom(r.cardBody)
		if err != nil {
			return fmt.Errorf("demo: account %s: %w", r.name, err)
		}
		category := r.category
		if category == "" {
			category = auth.CategoryAdult
		}
		in := auth.NewAccount{Name: r.name, Email: r.email, Phone: r.phone, Password: Password,
			HomeLibraryID: lib.ID, Category: category, Language: "vi", Role: role, CardNumber: cardNumber}
		if role == auth.RoleLibrarian {
			in.LibraryID = lib.ID
		}
		login := r.email
		if login == "" {
			login = strings.ReplaceAll(r.phone, " ", "")
		}
		j := &accountJob{in: in, key: auth.NormalizeLogin(login), login: Login{
			Role: role, Category: category, Name: vietnamese.Clean(r.name), Login: login, Password: Password,
			CardNumber: cardNumber, Library: lib.Name, LibraryCode: lib.Code, Headline: headlineLogin,
		}}
		if headlineLogin {
			headline = append(headline, j)
		} else {
			rest = append(rest, j)
		}
		return nil
	}
	if err := add(admin, auth.RoleAdmin, admin.home, true); err != nil {
		return nil, err
	}
	for _, r := range readers {
		if err := add(r, auth.RoleReader, r.home, true); err != nil {
			return nil, err
		}
	}
	for i, s := range sites {
		r := reader{name: librarianName(i), email: LibrarianEmail(s.code), cardBody: fmt.Sprintf("%010d", librarianBody+i)}
		if err := add(r, auth.RoleLibrarian, s.code, headlineLibrarians[s.code]); err != nil {
			return nil, err
		}
	}
	return append(headline, rest...), nil
}

// seedAccounts makes sure of every job's account, in order. The demo
// password is hashed once and the hash shared: hashing it for each of the
// seventy accounts would cost seconds of start-up.
func seedAccounts(ctx context.Context, accounts *auth.Service, jobs []*accountJob, logger *slog.Logger) error {
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for _, j := range jobs {
		j.in.PasswordHash = hash
		if err := ensureAccount(ctx, accounts, j, logger); err != nil {
			return err
		}
	}
	return nil
}

// ensureAccount creates j's account unless one with its login exists.
func ensureAccount(ctx context.Context, accounts *auth.Service, j *accountJob, logger *slog.Logger) error {
	if acc, err := accounts.Store.AccountByLogin(ctx, j.key); err == nil {
		j.login.CardNumber = acc.CardNumber
		return nil
	} else if !errors.Is(err, thuvienso.ErrNotFound) {
		return fmt.Errorf("demo: account %s: %w", j.key, err)
	}
	acc, err := accounts.CreateAccount(ctx, j.in)
	if errors.Is(err, auth.ErrEmailTaken) || errors.Is(err, auth.ErrPhoneTaken) || errors.Is(err, auth.ErrCardTaken) {
		// Another instance seeding at the same moment created it…
		if existing, lerr := accounts.Store.AccountByLogin(ctx, j.key); lerr == nil {
			j.login.CardNumber = existing.CardNumber
			return nil
		}
		// …or someone else holds the demo card number: take a random one.
		if errors.Is(err, auth.ErrCardTaken) {
			logger.Warn("demo card number taken; assigning a random one", "login", j.key, "card", j.in.CardNumber)
			in := j.in
			in.CardNumber = ""
			acc, err = accounts.CreateAccount(ctx, in)
		}
	}
	if err != nil {
		return fmt.Errorf("demo: account %s: %w", j.key, err)
	}
	j.created = true
	j.login.CardNumber = acc.CardNumber
	return nil
}
