package ebooks

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/locale"
)

// ---------------------------------------------------------------------------
// Content store

// Content is one opened file of a title.
type Content struct {
	io.ReadSeekCloser
	Size    int64
	ModTime time.Time
}

// ContentStore keeps the files of titles, by Title.ContentRef.
type ContentStore interface {
	// Open opens a file for reading, or fails with thuvienso.ErrNotFound.
	Open(ctx context.Context, ref string) (*Content, error)
	// Put stores a file, replacing any with the same ref.
	Put(ctx context.Context, ref string, r io.Reader) error
}

// FSContentStore is a ContentStore in a folder (the data folder's
// "ebooks" in the demo). Refs are slash-separated relative paths; nothing
// outside the folder can be reached (os.Root).
type FSContentStore struct {
	root *os.Root
	dir  string
}

// NewFSContentStore opens (creating) the folder dir.
func NewFSContentStore(dir string) (*FSContentStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("ebooks: content folder %s: %w", dir, err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("ebooks: content folder %s: %w", dir, err)
	}
	return &FSContentStore{root: r, dir: dir}, nil
}

// Close releases the folder.
func (c *FSContentStore) Close() error { return c.root.Close() }

// validRef reports whether ref is a clean relative path.
func validRef(ref string) bool {
	return ref != "" && fs.ValidPath(ref) && ref != "." && !strings.Contains(ref, `\`)
}

// Open implements ContentStore.
func (c *FSContentStore) Open(_ context.Context, ref string) (*Content, error) {
	if !validRef(ref) {
		return nil, fmt.Errorf("content %q: %w", ref, thuvienso.ErrNotFound)
	}
	f, err := c.root.Open(filepath.FromSlash(ref))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("content %q: %w", ref, thuvienso.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("content %q: %w", ref, err)
	}
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("content %q: %w", ref, thuvienso.ErrNotFound)
	}
	return &Content{ReadSeekCloser: f, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Put implements ContentStore: it writes a temporary file and renames it,
// so a reader never sees half a file.
func (c *FSContentStore) Put(_ context.Context, ref string, r io.Reader) error {
	if !validRef(ref) {
		return thuvienso.Invalid("ref", "invalid content reference", "tham chiếu nội dung không hợp lệ")
	}
	name := filepath.FromSlash(ref)
	if d := path.Dir(ref); d != "." {
		if err := c.root.MkdirAll(filepath.FromSlash(d), 0o750); err != nil {
			return fmt.Errorf("storing content %q: %w", ref, err)
		}
	}
	tmp := name + ".tmp-" + newID()
	f, err := c.root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("storing content %q: %w", ref, err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.root.Rename(tmp, name)
	}
	if err != nil {
		_ = c.root.Remove(tmp)
		return fmt.Errorf("storing content %q: %w", ref, err)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Signed links

// LinkSigner signs and checks content links with HMAC-SHA256.
//
// HMAC rather than an Ed25519 key set: the links are made and checked by
// the same service (no third party verifies them, so there is no public
// half to publish), they must be short enough for a URL, and checking one
// costs a hash. The secret is kept apart from the token keys, so leaking
// one set does not forge the other. A signer holds the current secret and
// earlier ones (still accepted after a rotation, for the few minutes a
// link lives).
type LinkSigner struct {
	keys []linkKey // keys[0] signs
}

type linkKey struct {
	id     string
	secret []byte
}

// NewLinkSigner returns a signer with current and earlier secrets (each
// at least 32 bytes).
func NewLinkSigner(current []byte, previous ...[]byte) (*LinkSigner, error) {
	ls := &LinkSigner{}
	for _, s := range append([][]byte{current}, previous...) {
		if len(s) < 32 {
			return nil, errors.New("ebooks: a content link secret needs at least 32 bytes")
		}
		sum := sha256.Sum256(s)
		ls.keys = append(ls.keys, linkKey{id: base64.RawURLEncoding.EncodeToString(sum[:6]), secret: s})
	}
	return ls, nil
}

// LoadOrCreateLinkSigner reads the secret kept in file path (base64), or
// creates it (mode 0600) on first run. Processes starting at once (server
// instances sharing KEYS_DIR) end up with one secret: it is written whole
// to a temporary file and linked into place, which fails for all but the
// first; the others read the first's.
func LoadOrCreateLinkSigner(path string) (*LinkSigner, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("ebooks: link secret: %w", err)
		}
		f, err := os.CreateTemp(filepath.Dir(path), ".link-secret-*")
		if err != nil {
			return nil, fmt.Errorf("ebooks: link secret: %w", err)
		}
		defer os.Remove(f.Name())
		_, err = f.WriteString(base64.StdEncoding.EncodeToString(secret) + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Link(f.Name(), path)
		}
		if errors.Is(err, fs.ErrExist) { // another process made it first
			return LoadOrCreateLinkSigner(path)
		}
		if err != nil {
			return nil, fmt.Errorf("ebooks: link secret: %w", err)
		}
		return NewLinkSigner(secret)
	}
	if err != nil {
		return nil, fmt.Errorf("ebooks: link secret: %w", err)
	}
	secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("ebooks: link secret %s: %w", path, err)
	}
	return NewLinkSigner(secret)
}

func (k linkKey) mac(loanID string, exp int64) []byte {
	m := hmac.New(sha256.New, k.secret)
	fmt.Fprintf(m, "thuvienso-ebook-content\x00%s\x00%d", loanID, exp)
	return m.Sum(nil)
}

// Sign returns the query string ("e=…&k=…&s=…") that lets loanID's content
// be fetched until exp.
func (ls *LinkSigner) Sign(loanID string, exp time.Time) string {
	k := ls.keys[0]
	e := exp.Unix()
	v := url.Values{}
	v.Set("e", strconv.FormatInt(e, 10))
	v.Set("k", k.id)
	v.Set("s", base64.RawURLEncoding.EncodeToString(k.mac(loanID, e)))
	return v.Encode()
}

// Verify checks query (as made by Sign) for loanID at now; it fails with
// ErrLinkInvalid when forged, for another loan, or expired.
func (ls *LinkSigner) Verify(loanID string, query url.Values, now time.Time) error {
	e, err := strconv.ParseInt(query.Get("e"), 10, 64)
	if err != nil {
		return ErrLinkInvalid
	}
	sig, err := base64.RawURLEncoding.DecodeString(query.Get("s"))
	if err != nil || len(sig) != sha256.Size {
		return ErrLinkInvalid
	}
	kid := query.Get("k")
	for _, k := range ls.keys {
		if k.id == kid && subtle.ConstantTimeCompare(k.mac(loanID, e), sig) == 1 {
			if now.Unix() >= e {
				return ErrLinkInvalid
			}
			return nil
		}
	}
	return ErrLinkInvalid
}

// ContentPath is where ContentHandler is mounted: a link is
// ContentPath + loanID + "?" + signature.
const ContentPath = "/ebooks/content/"

// ContentLink is a short-lived link to a loan's file.
type ContentLink struct {
	URL       string
	MediaType string
	ExpiresAt time.Time
}

// ContentLink returns a signed link to the file of the actor's active loan,
// valid for Config.LinkTTL and never past the loan's end.
func (s *Service) ContentLink(ctx context.Context, actor auth.Actor, loanID string) (*ContentLink, error) {
	l, err := s.ownLoan(ctx, actor, loanID)
	if err != nil {
		return nil, fmt.Errorf("content link of loan %s: %w", loanID, err)
	}
	return s.contentLink(ctx, l)
}

func (s *Service) contentLink(ctx context.Context, l *Loan) (*ContentLink, error) {
	if s.links == nil {
		return nil, fmt.Errorf("content link: %w", errors.New("ebooks: no link signer configured (WithContentLinks)"))
	}
	now := s.now()
	if !l.Active(now) {
		return nil, fmt.Errorf("content link of loan %s: %w", l.ID, ErrLoanNotActive)
	}
	title, err := s.store.Title(ctx, l.TitleID)
	if err != nil {
		return nil, fmt.Errorf("content link of loan %s: %w", l.ID, err)
	}
	exp := now.Add(s.cfg.LinkTTL)
	if l.EndsAt.Before(exp) {
		exp = l.EndsAt
	}
	exp = time.Unix(exp.Unix(), 0).UTC() // the link carries whole seconds
	return &ContentLink{
		URL:       s.baseURL + ContentPath + url.PathEscape(l.ID) + "?" + s.links.Sign(l.ID, exp),
		MediaType: title.Format.MediaType(), ExpiresAt: exp,
	}, nil
}

// ContentHandler serves the file of a loan from cs at ContentPath+loanID
// with a signed query. It refuses bad or expired signatures (403) and
// loans that have ended (410), and supports Range requests, so audiobooks
// and large PDFs can be streamed.
func (s *Service) ContentHandler(cs ContentStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			WriteProblem(w, r, http.StatusMethodNotAllowed, thuvienso.E(thuvienso.CodeBadUserInput, "method not allowed", "phương thức không được hỗ trợ"))
			return
		}
		loanID, ok := strings.CutPrefix(r.URL.Path, ContentPath)
		if !ok || loanID == "" || strings.Contains(loanID, "/") {
			WriteProblem(w, r, http.StatusNotFound, thuvienso.ErrNotFound)
			return
		}
		if s.links == nil {
			WriteProblem(w, r, http.StatusNotFound, thuvienso.ErrNotFound)
			return
		}
		now := s.now()
		if err := s.links.Verify(loanID, r.URL.Query(), now); err != nil {
			WriteProblem(w, r, http.StatusForbidden, err)
			return
		}
		l, err := s.store.Loan(r.Context(), loanID)
		if err != nil {
			WriteProblem(w, r, HTTPStatus(err), err)
			return
		}
		if !l.Active(now) {
			WriteProblem(w, r, http.StatusGone, ErrLoanNotActive)
			return
		}
		title, err := s.store.Title(r.Context(), l.TitleID)
		if err != nil {
			WriteProblem(w, r, HTTPStatus(err), err)
			return
		}
		c, err := cs.Open(r.Context(), title.ContentRef)
		if err != nil {
			WriteProblem(w, r, HTTPStatus(err), err)
			return
		}
		defer c.Close()
		name := path.Base(title.ContentRef)
		w.Header().Set("Content-Type", title.Format.MediaType())
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, strings.ReplaceAll(name, `"`, "")))
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "", c.ModTime, c)
	})
}

// HTTPStatus is the HTTP status of a failed request for err: 404, 401,
// 403, 400, 409 for a conflict or an exhausted limit or license, 500
// otherwise.
func HTTPStatus(err error) int {
	switch thuvienso.ErrorCode(err) {
	case thuvienso.CodeNotFound:
		return http.StatusNotFound
	case thuvienso.CodeUnauthenticated:
		return http.StatusUnauthorized
	case thuvienso.CodeForbidden:
		return http.StatusForbidden
	case thuvienso.CodeBadUserInput:
		return http.StatusBadRequest
	case thuvienso.CodeConflict, thuvienso.CodeNoCopyAvailable, thuvienso.CodeLimitReached:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// WriteProblem answers an HTTP request that failed with an RFC 9457
// problem document: the status, the error's code and its message in the
// request's language (an unexpected error shows as INTERNAL). The e-book
// content and OPDS endpoints use it.
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, err error) {
	var e *thuvienso.Error
	if !errors.As(err, &e) || e.Code == thuvienso.CodeInternal {
		e = thuvienso.ErrInternal
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "status": status, "code": e.Code,
		"title": e.Message(requestLang(r)),
	})
}

// requestLang is the language of the request: the one set on its context
// by the server's middleware, else its Accept-Language.
func requestLang(r *http.Request) string {
	if h := r.Header.Get("Accept-Language"); h != "" {
		return locale.Parse(h)
	}
	return locale.From(r.Context())
}
