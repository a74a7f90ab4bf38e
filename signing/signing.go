// Package signing owns the asymmetric key sets the service signs tokens with:
// one set for access tokens, another for digital library cards. A set has a
// current key (signs) and previous keys (still verify until their tokens
// expire), persists in a folder, is created on first run, rotates by
// command, and publishes its public half as a JWKS document.
package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Key is one Ed25519 signing key with its key id.
type Key struct {
	ID        string
	CreatedAt time.Time
	Private   ed25519.PrivateKey
}

// Public returns the key's public half.
func (k *Key) Public() ed25519.PublicKey {
	return k.Private.Public().(ed25519.PublicKey)
}

// KeySet is a current key and the previous ones, newest first.
// It is safe for concurrent use.
type KeySet struct {
	mu   sync.RWMutex
	keys []*Key // keys[0] is current
	dir  string // "" when not persisted
}

// keyFileSuffix ends the name of every key file in a key set's folder.
const keyFileSuffix = ".pem"

// fileName is where a key is stored: a PEM PKCS #8 private key file named
// <created-unix-nanos>-<kid>.pem, its kid and creation time in PEM headers.
func (k *Key) fileName() string {
	return fmt.Sprintf("%d-%s%s", k.CreatedAt.UnixNano(), k.ID, keyFileSuffix)
}

// LoadOrCreate reads the key set kept in dir, creating dir and a first key
// when there is none. Files are written with mode 0600. Several processes
// may start at once on an empty dir (server instances sharing KEYS_DIR):
// one of them creates the first key and the others wait for it and load
// it, so that they all sign with the same key.
func LoadOrCreate(dir string) (*KeySet, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("signing: create %s: %w", dir, err)
	}
	ks := &KeySet{dir: dir}
	if err := ks.load(); err != nil {
		return nil, err
	}
	if len(ks.keys) == 0 {
		if err := ks.createFirst(); err != nil {
			return nil, err
		}
	}
	return ks, nil
}

// firstKeyLock is the folder a process creates in a key set's folder while
// it makes the first key (creating a folder is atomic and exclusive).
const firstKeyLock = ".creating-first-key"

// firstKeyWait bounds how long a process waits for another one to create
// the first key.
const firstKeyWait = 10 * time.Second

// createFirst makes the set's first key unless another process does: the
// one that creates firstKeyLock writes the key, the others load it once it
// is there.
func (ks *KeySet) createFirst() error {
	lock := filepath.Join(ks.dir, firstKeyLock)
	deadline := time.Now().Add(firstKeyWait)
	for {
		err := os.Mkdir(lock, 0o700)
		if err == nil {
			defer os.Remove(lock)
			// Another process may have finished just before.
			if err := ks.load(); err != nil || len(ks.keys) > 0 {
				return err
			}
			_, err := ks.Rotate(0)
			return err
		}
		if !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("signing: create first key in %s: %w", ks.dir, err)
		}
		if err := ks.load(); err != nil || len(ks.keys) > 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("signing: another process has been creating the first key in %s for %v; "+
				"if none is running (one stopped midway), remove %s and start again", ks.dir, firstKeyWait, lock)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// NewEphemeral returns a key set with one fresh key that is never persisted
// (tests, one-off tools).
func NewEphemeral() (*KeySet, error) {
	k, err := newKey(time.Now())
	if err != nil {
		return nil, err
	}
	return &KeySet{keys: []*Key{k}}, nil
}

func newKey(now time.Time) (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("signing: generate key: %w", err)
	}
	// The kid is a thumbprint prefix of the public key: stable, unique, and
	// reveals nothing.
	sum := sha256.Sum256(priv.Public().(ed25519.PublicKey))
	return &Key{ID: base64.RawURLEncoding.EncodeToString(sum[:12]), CreatedAt: now.UTC(), Private: priv}, nil
}

func (ks *KeySet) load() error {
	entries, err := os.ReadDir(ks.dir)
	if err != nil {
		return fmt.Errorf("signing: read %s: %w", ks.dir, err)
	}
	var keys []*Key
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), keyFileSuffix) {
			continue
		}
		k, err := readKeyFile(filepath.Join(ks.dir, e.Name()))
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].CreatedAt.After(keys[j].CreatedAt) })
	ks.keys = keys
	return nil
}

func readKeyFile(path string) (*Key, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing: read key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing: %s is not a PEM private key", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing: parse %s: %w", path, err)
	}
	priv, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing: %s is not an Ed25519 key", path)
	}
	created, err := time.Parse(time.RFC3339Nano, block.Headers["Created"])
	if err != nil {
		return nil, fmt.Errorf("signing: %s has no Created header: %w", path, err)
	}
	kid := block.Headers["Kid"]
	if kid == "" {
		return nil, fmt.Errorf("signing: %s has no Kid header", path)
	}
	return &Key{ID: kid, CreatedAt: created, Private: priv}, nil
}

func (ks *KeySet) write(k *Key) error {
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return fmt.Errorf("signing: encode key: %w", err)
	}
	block := &pem.Block{Type: "PRIVATE KEY", Bytes: der, Headers: map[string]string{
		"Kid": k.ID, "Created": k.CreatedAt.Format(time.RFC3339Nano),
	}}
	tmp, err := os.CreateTemp(ks.dir, ".key-*")
	if err != nil {
		return fmt.Errorf("signing: write key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, block); err != nil {
		tmp.Close()
		return fmt.Errorf("signing: write key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("signing: write key: %w", err)
	}
	// Rename is atomic: a second process starting at the same time sees a
	// whole key file or none.
	if err := os.Rename(tmp.Name(), filepath.Join(ks.dir, k.fileName())); err != nil {
		return fmt.Errorf("signing: write key: %w", err)
	}
	return nil
}

// Rotate makes a new current key and keeps at most keep previous keys
// (keep <= 0 keeps them all). Tokens signed by a dropped key stop verifying,
// so keep enough to outlive the longest-lived token.
func (ks *KeySet) Rotate(keep int) (*Key, error) {
	k, err := newKey(time.Now())
	if err != nil {
		return nil, err
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.dir != "" {
		if err := ks.write(k); err != nil {
			return nil, err
		}
	}
	ks.keys = append([]*Key{k}, ks.keys...)
	if keep > 0 && len(ks.keys) > keep+1 {
		for _, old := range ks.keys[keep+1:] {
			if ks.dir != "" {
				if err := os.Remove(filepath.Join(ks.dir, old.fileName())); err != nil && !errors.Is(err, os.ErrNotExist) {
					return nil, fmt.Errorf("signing: drop old key: %w", err)
				}
			}
		}
		ks.keys = ks.keys[:keep+1]
	}
	return k, nil
}

// Current returns the key new tokens are signed with.
func (ks *KeySet) Current() *Key {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.keys[0]
}

// Lookup returns the key with this id, if the set still has it.
func (ks *KeySet) Lookup(kid string) (*Key, bool) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	for _, k := range ks.keys {
		if k.ID == kid {
			return k, true
		}
	}
	return nil, false
}

// Sign signs claims with the current key, putting its id in the "kid" header.
func (ks *KeySet) Sign(claims jwt.Claims) (string, error) {
	k := ks.Current()
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = k.ID
	s, err := t.SignedString(k.Private)
	if err != nil {
		return "", fmt.Errorf("signing: sign: %w", err)
	}
	return s, nil
}

// Verify parses token into claims, accepting only EdDSA signatures by a key
// of this set named in the "kid" header, and checking exp/nbf/iat and the
// options given (e.g. jwt.WithAudience).
func (ks *KeySet) Verify(token string, claims jwt.Claims, opts ...jwt.ParserOption) error {
	opts = append([]jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	}, opts...)
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, ok := ks.Lookup(kid)
		if !ok {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return k.Public(), nil
	}, opts...)
	return err
}

// JWKS returns the public keys as a JSON Web Key Set document (RFC 7517,
// OKP keys per RFC 8037), current key first.
func (ks *KeySet) JWKS() ([]byte, error) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	type jwk struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		Use string `json:"use"`
	}
	doc := struct {
		Keys []jwk `json:"keys"`
	}{}
	for _, k := range ks.keys {
		doc.Keys = append(doc.Keys, jwk{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Public()),
			Kid: k.ID, Alg: "EdDSA", Use: "sig"})
	}
	return json.Marshal(doc)
}
