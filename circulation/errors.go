package circulation

import thuvienso "github.com/bacninh/thuvienso"

// Errors the stores return (the service handles them or passes them on,
// wrapped with context).
var (
	// ErrStale: the hold or loan changed since it was read.
	ErrStale = thuvienso.E(thuvienso.CodeConflict,
		"it changed meanwhile; please try again", "dữ liệu vừa thay đổi; vui lòng thử lại")
	// ErrAlreadyOnHold: the reader has an active hold on this work.
	ErrAlreadyOnHold = thuvienso.E(thuvienso.CodeConflict,
		"you already have a hold on this title", "bạn đã đặt giữ tài liệu này")
	// ErrIdempotencyKeyUsed: the key was used for another request.
	ErrIdempotencyKeyUsed = thuvienso.E(thuvienso.CodeConflict,
		"this idempotency key was already used for another request", "khóa chống lặp này đã được dùng cho một yêu cầu khác")
	// ErrHoldSlotTaken: another active hold of the reader took this slot
	// (the service tries another, or answers ErrHoldLimit).
	ErrHoldSlotTaken = thuvienso.E(thuvienso.CodeConflict,
		"another of your holds took this place meanwhile; please try again",
		"một lượt đặt giữ khác của bạn vừa dùng vị trí này; vui lòng thử lại")
	// ErrLoanSlotTaken: another active loan of the reader took this slot.
	ErrLoanSlotTaken = thuvienso.E(thuvienso.CodeConflict,
		"another loan of this reader took this place meanwhile; please try again",
		"một lượt mượn khác của bạn đọc vừa dùng vị trí này; vui lòng thử lại")
	// ErrCopyAttached: the copy is already set aside for another hold.
	ErrCopyAttached = thuvienso.E(thuvienso.CodeConflict,
		"this copy is already set aside for a hold", "bản sách này đã được giữ cho một lượt đặt khác")
	// ErrClaimLost: the copy's claim changed hands since it was read.
	ErrClaimLost = thuvienso.E(thuvienso.CodeConflict,
		"this copy was just handled at another desk; please scan it again",
		"bản sách vừa được xử lý ở quầy khác; vui lòng quét lại")
	// ErrCopyOnLoan: the copy is on loan.
	ErrCopyOnLoan = thuvienso.E(thuvienso.CodeConflict,
		"this copy is on loan; check it in first", "bản sách này đang được mượn; hãy nhận trả trước")
)

// Errors of the service: what a reader or a librarian reads.
var (
	// ErrReaderNotFound: no account has this card number.
	ErrReaderNotFound = thuvienso.Invalid("input.cardNumber",
		"no reader has this card number", "không có bạn đọc nào có số thẻ này")
	// ErrItemNotFound: no copy has this barcode.
	ErrItemNotFound = thuvienso.Invalid("input.barcode",
		"no copy has this barcode", "không có bản sách nào có mã vạch này")
	// ErrWorkNotFound: the work does not exist.
	ErrWorkNotFound = thuvienso.Invalid("input.workId",
		"this title is not in the catalogue", "tài liệu này không có trong mục lục")
	// ErrItemNotOfWork: the copy named for a hold is of another work.
	ErrItemNotOfWork = thuvienso.Invalid("input.itemBarcode",
		"this copy is not a copy of the title", "bản sách này không thuộc tài liệu đã chọn")
	// ErrNotPickupPoint: holds cannot be collected at the library.
	ErrNotPickupPoint = thuvienso.Invalid("input.pickupLibraryId",
		"holds cannot be collected at this library; choose another",
		"thư viện này không nhận trả sách đặt giữ; hãy chọn thư viện khác")
	// ErrBadStartDate: a hold's start date is too far ahead.
	ErrBadStartDate = thuvienso.Invalid("input.startDate",
		"the start date must be within a year", "ngày bắt đầu phải trong vòng một năm tới")
	// ErrBadSuspension: a suspension must end in the future (within a year).
	ErrBadSuspension = thuvienso.Invalid("input.until",
		"the end of the suspension must be in the future, within a year",
		"thời điểm kết thúc tạm hoãn phải ở tương lai, trong vòng một năm")
	// ErrBadHistoryCursor: a history page cursor this service did not make.
	ErrBadHistoryCursor = thuvienso.Invalid("after",
		"the page cursor is invalid", "con trỏ trang không hợp lệ")
	// ErrBadExportFormat: a history export in a format other than CSV or JSON.
	ErrBadExportFormat = thuvienso.Invalid("format",
		"the history can be exported as CSV or JSON", "lịch sử đọc chỉ xuất được dạng CSV hoặc JSON")
	// ErrBadDate: a date is not YYYY-MM-DD.
	ErrBadDate = thuvienso.Invalid("input.date",
		"the date must be written YYYY-MM-DD", "ngày phải có dạng YYYY-MM-DD")

	// ErrNoHoldableCopy: no copy of the work can be lent to this reader at
	// this pickup library.
	ErrNoHoldableCopy = thuvienso.E(thuvienso.CodeNoCopyAvailable,
		"no copy of this title can be lent for pickup at this library",
		"không có bản nào của tài liệu này có thể cho mượn để nhận tại thư viện đã chọn")
	// ErrAlreadyBorrowed: the reader has a copy of the work on loan.
	ErrAlreadyBorrowed = thuvienso.E(thuvienso.CodeConflict,
		"you already have a copy of this title on loan", "bạn đang mượn một bản của tài liệu này")
	// ErrHoldLimit: the reader has as many holds as allowed.
	ErrHoldLimit = thuvienso.E(thuvienso.CodeLimitReached,
		"you have reached your limit of holds; collect or cancel one first",
		"bạn đã đặt giữ tối đa số tài liệu cho phép; hãy nhận hoặc hủy bớt")
	// ErrLoanLimit: the reader has as many loans as allowed.
	ErrLoanLimit = thuvienso.E(thuvienso.CodeLimitReached,
		"the reader has reached the loan limit; return an item first",
		"bạn đọc đã mượn tối đa số tài liệu cho phép; hãy trả bớt trước")
	// ErrHoldNotActive: the hold has ended.
	ErrHoldNotActive = thuvienso.E(thuvienso.CodeConflict,
		"this hold has ended", "lượt đặt giữ này đã kết thúc")
	// ErrHoldNotSuspendable: only a waiting hold can be suspended.
	ErrHoldNotSuspendable = thuvienso.E(thuvienso.CodeConflict,
		"only a hold that is still waiting can be suspended", "chỉ có thể tạm hoãn lượt đặt giữ đang chờ")
	// ErrPickupFixed: the copy is on its way or ready; the pickup library
	// can no longer change.
	ErrPickupFixed = thuvienso.E(thuvienso.CodeConflict,
		"the copy is already on its way or waiting for you; the pickup library can no longer change",
		"sách đã được chuyển đi hoặc đang chờ bạn nhận; không thể đổi thư viện nhận nữa")

	// ErrNotForLoan: the copy is for use in the library only.
	ErrNotForLoan = thuvienso.E(thuvienso.CodeConflict,
		"this copy is for reading in the library only", "bản sách này chỉ được đọc tại chỗ")
	// ErrCopyUnavailable: the copy is lost, damaged or being processed.
	ErrCopyUnavailable = thuvienso.E(thuvienso.CodeConflict,
		"this copy cannot be lent now (lost, damaged or being processed)",
		"bản sách này hiện không thể cho mượn (bị mất, hư hỏng hoặc đang xử lý)")
	// ErrCopyInTransit: the copy is on its way between libraries.
	ErrCopyInTransit = thuvienso.E(thuvienso.CodeConflict,
		"this copy is in transit; receive it first", "bản sách này đang được luân chuyển; hãy nhận sách trước")
	// ErrCopyHeldForOther: the copy waits on the hold shelf for another reader.
	ErrCopyHeldForOther = thuvienso.E(thuvienso.CodeConflict,
		"this copy is on the hold shelf for another reader", "bản sách này đang được giữ cho bạn đọc khác")
	// ErrNotLentToNetwork: the owning library lends only at its own desk.
	ErrNotLentToNetwork = thuvienso.E(thuvienso.CodeForbidden,
		"the library that owns this copy lends it only at its own desk",
		"thư viện sở hữu bản sách này chỉ cho mượn tại thư viện của mình")
	// ErrNotInTransit: receiving a copy that is not in transit.
	ErrNotInTransit = thuvienso.E(thuvienso.CodeConflict,
		"this copy is not in transit", "bản sách này không ở trạng thái luân chuyển")
	// ErrWrongDesk: the hold's copy is to be collected at another library.
	ErrWrongDesk = thuvienso.E(thuvienso.CodeConflict,
		"this copy is to be collected at another library", "bản sách này được nhận tại thư viện khác")

	// ErrLoanNotActive: the loan has ended.
	ErrLoanNotActive = thuvienso.E(thuvienso.CodeConflict,
		"this loan has ended", "lượt mượn này đã kết thúc")
	// ErrRenewOnHold: someone waits for the title.
	ErrRenewOnHold = thuvienso.E(thuvienso.CodeConflict,
		"another reader is waiting for this title, so the loan cannot be renewed; please return it by the due date",
		"có bạn đọc khác đang chờ tài liệu này nên không thể gia hạn; vui lòng trả đúng hạn")
	// ErrRenewLimit: the loan was renewed as often as allowed.
	ErrRenewLimit = thuvienso.E(thuvienso.CodeLimitReached,
		"this loan has been renewed as many times as allowed", "lượt mượn này đã được gia hạn tối đa số lần cho phép")
	// ErrRenewNotAllowed: loans of this kind are not renewed.
	ErrRenewNotAllowed = thuvienso.E(thuvienso.CodeConflict,
		"loans of this kind of copy cannot be renewed", "loại tài liệu này không được gia hạn")

	// ErrBlockedCardExpired: the reader's card has expired.
	ErrBlockedCardExpired = thuvienso.E(thuvienso.CodeForbidden,
		"the library card has expired; renew it at a library desk",
		"thẻ thư viện đã hết hạn; hãy gia hạn thẻ tại quầy thư viện")
	// ErrBlockedCardLost: the card shown was reported lost.
	ErrBlockedCardLost = thuvienso.E(thuvienso.CodeForbidden,
		"this library card was reported lost", "thẻ thư viện này đã được báo mất")
	// ErrBlockedLongOverdue: an item is overdue longer than allowed.
	ErrBlockedLongOverdue = thuvienso.E(thuvienso.CodeForbidden,
		"an item is long overdue; return it to borrow, hold or renew again",
		"có tài liệu đã quá hạn lâu; hãy trả tài liệu đó để tiếp tục mượn, đặt giữ hoặc gia hạn")
	// ErrBlockedTooManyOverdue: too many items are overdue.
	ErrBlockedTooManyOverdue = thuvienso.E(thuvienso.CodeForbidden,
		"too many items are overdue; return them to borrow, hold or renew again",
		"có quá nhiều tài liệu quá hạn; hãy trả bớt để tiếp tục mượn, đặt giữ hoặc gia hạn")
)
