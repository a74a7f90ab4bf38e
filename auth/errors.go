package auth

import thuvienso "github.com/bacninh/thuvienso"

// Errors of the auth domain. Messages are what a reader reads.
var (
	// ErrBadCredentials is deliberately vague: it does not say whether the
	// login or the password was wrong.
	ErrBadCredentials = thuvienso.E(thuvienso.CodeUnauthenticated,
		"wrong login or password", "Sai tên đăng nhập hoặc mật khẩu")
	// ErrRefreshTokenReused means a refresh token was presented after it had
	// been exchanged: the login is revoked.
	ErrRefreshTokenReused = thuvienso.E(thuvienso.CodeUnauthenticated,
		"this login was ended because a refresh token was used twice; please log in again",
		"Phiên đăng nhập đã bị thu hồi vì mã làm mới được dùng hai lần; vui lòng đăng nhập lại")
	// ErrSessionEnded means the login was logged out, revoked or expired.
	ErrSessionEnded = thuvienso.E(thuvienso.CodeUnauthenticated,
		"your login has ended; please log in again", "Phiên đăng nhập đã kết thúc; vui lòng đăng nhập lại")
	// ErrTokenInvalid means an access or refresh token is malformed, expired or forged.
	ErrTokenInvalid = thuvienso.E(thuvienso.CodeUnauthenticated,
		"your access token is invalid or expired", "Mã truy cập không hợp lệ hoặc đã hết hạn")
	// ErrEmailTaken, ErrPhoneTaken and ErrCardTaken are returned by stores on a duplicate.
	ErrEmailTaken = &thuvienso.Error{Code: thuvienso.CodeConflict, Field: "input.email",
		EN: "this email is already registered", VI: "Email này đã được đăng ký"}
	ErrPhoneTaken = &thuvienso.Error{Code: thuvienso.CodeConflict, Field: "input.phone",
		EN: "this phone number is already registered", VI: "Số điện thoại này đã được đăng ký"}
	ErrCardTaken = thuvienso.E(thuvienso.CodeConflict, "this card number is already in use", "Số thẻ này đã được sử dụng")
)
