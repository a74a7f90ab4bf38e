package library

import thuvienso "github.com/bacninh/thuvienso"

// Errors of the library domain. Messages are what a librarian reads.
var (
	// ErrCodeTaken is returned by stores when another library already has
	// the code being created or updated.
	ErrCodeTaken = &thuvienso.Error{Code: thuvienso.CodeConflict, Field: "input.code",
		EN: "another library already has this code", VI: "Mã thư viện này đã được dùng cho một thư viện khác"}
)
