package auth

import (
	"fmt"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	thuvienso "github.com/bacninh/thuvienso"
)

// passwordParams are argon2id's cost settings: OWASP's recommended minimum
// (19 MiB, 2 passes, 1 lane), about 25 ms per hash on the target machine.
// They are part of each encoded hash, so raising them later keeps old hashes
// verifiable.
var passwordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Password length bounds, in characters. The upper bound keeps a login
// request from buying seconds of hashing.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

// ValidatePassword checks a new password against the policy; field names the
// input field for the error.
func ValidatePassword(field, password string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return thuvienso.Invalid(field, fmt.Sprintf("the password needs at least %d characters", MinPasswordLength),
			fmt.Sprintf("Mật khẩu cần ít nhất %d ký tự", MinPasswordLength))
	}
	if n > MaxPasswordLength {
		return thuvienso.Invalid(field, fmt.Sprintf("the password may have at most %d characters", MaxPasswordLength),
			fmt.Sprintf("Mật khẩu tối đa %d ký tự", MaxPasswordLength))
	}
	return nil
}

// HashPassword returns the encoded argon2id hash of password (PHC string
// format, salt and parameters included).
func HashPassword(password string) (string, error) {
	h, err := argon2id.CreateHash(password, passwordParams)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// CheckPassword reports whether password matches the encoded hash, in
// constant time.
func CheckPassword(password, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return err == nil && ok
}

// dummyHash is verified against when a login names no account, so that an
// unknown login costs as much time as a wrong password and timing does not
// reveal which accounts exist.
var dummyHash, _ = HashPassword("not-a-real-password")
