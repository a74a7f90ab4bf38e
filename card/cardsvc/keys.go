package cardsvc

import "github.com/bacninh/thuvienso/signing"

// KeyRing is the card key set (KEYS_DIR/card) as it follows its folder.
type KeyRing = signing.Ring

// LoadKeyRing loads (or creates, on first run) the card key set in dir,
// normally KEYS_DIR/card.
func LoadKeyRing(dir string) (*KeyRing, error) { return signing.LoadRing(dir) }

// StaticKeyRing wraps a key set that is never reloaded (tests, tools).
func StaticKeyRing(ks *signing.KeySet) *KeyRing { return signing.StaticRing(ks) }
