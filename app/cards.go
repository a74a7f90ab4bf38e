package app

import (
	"fmt"
	"path/filepath"

	"github.com/bacninh/thuvienso/card/cardsvc"
	"github.com/bacninh/thuvienso/nonce"
)

// maxNonces bounds the nonces of verified card codes one instance keeps in
// memory (alone, or while Redis is down): far more codes than the
// province's desks verify within a day, the longest a code lives.
const maxNonces = 200_000

// openCards loads the card key set (KEYS_DIR/card, generated on first run
// and followed when `thuvienso keys rotate -set card` rotates it) and
// builds the card service. The nonces of verified codes are shared through
// Redis when it is configured, so that a code replayed at another instance
// is refused too (while Redis is down, each instance checks its own); else
// they are kept in this process.
func (a *App) openCards() error {
	ring, err := cardsvc.LoadKeyRing(filepath.Join(a.Config.KeysDir, "card"))
	if err != nil {
		return fmt.Errorf("card keys: %w", err)
	}
	a.CardKeys = ring
	if a.Redis != nil {
		a.Nonces = a.Redis.FallbackNonces(maxNonces)
	} else {
		a.Nonces = nonce.NewMemory(maxNonces)
	}
	a.Cards = &cardsvc.Service{
		Store: a.Stores.Cards, Accounts: a.Stores.Auth, Auth: a.Auth, Libraries: a.Libraries,
		Keys: ring, Nonces: a.Nonces, Limiter: a.Limiter, Locker: a.Locker, Logger: a.Logger,
	}
	return nil
}

// mountCards serves the card key set's public keys at
// /.well-known/jwks.json (cacheable, for verifiers offline) and the
// printable cards at /cards/{number}/{file}.
func (a *App) mountCards() {
	a.Server.Handle(cardsvc.JWKSPattern, a.Cards.JWKSHandler())
	a.Server.Handle(cardsvc.PrintPattern, a.Cards.PrintHandler(a.Auth.Authenticate))
}
