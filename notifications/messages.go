package notifications

import (
	"strings"
	"time"
	"unicode/utf8"

	thuvienso "github.com/bacninh/thuvienso"
)

// Text is a notification as a person reads it.
type Text struct {
	Title, Body string
}

// LinkScheme starts the deep links of the apps.
const LinkScheme = "thuvienso://"

// maxBodyBytes keeps a push well within FCM's 4096-byte payload (which
// counts bytes, and Vietnamese takes two or three per letter).
const maxBodyBytes = 1024

// template is the text of one kind in one language. {title}, {library},
// {deadline}, {query} and {count} are filled from the notification's data
// (a saved search's "title" is its newest new title);
// a title and a query are put in quotation marks, a missing value is
// replaced by a general phrase (fallbacks).
type template struct{ title, body string }

// templates are the texts of every kind, in Vietnamese and English.
var templates = map[Kind]map[string]template{
	DueSoon: {
		"vi": {"Sắp đến hạn trả sách", "{title} cần được trả trước {deadline}. Bạn có thể gia hạn trong ứng dụng."},
		"en": {"Book due soon", "{title} is due back by {deadline}. You can renew it in the app."},
	},
	Overdue: {
		"vi": {"Sách đã quá hạn trả", "{title} đã quá hạn trả từ {deadline}. Vui lòng trả sách hoặc gia hạn sớm."},
		"en": {"Overdue book", "{title} was due back on {deadline}. Please return or renew it soon."},
	},
	HoldReady: {
		"vi": {"Sách đặt giữ đã sẵn sàng", "{title} đang chờ bạn tại {library} đến {deadline}."},
		"en": {"Your hold is ready", "{title} is waiting for you at {library} until {deadline}."},
	},
	HoldExpiring: {
		"vi": {"Sắp hết hạn giữ sách", "{title} chỉ được giữ cho bạn đến {deadline}."},
		"en": {"Hold ending soon", "{title} is held for you only until {deadline}."},
	},
	EbookExpiring: {
		"vi": {"Sách điện tử sắp hết hạn mượn", "Lượt mượn {title} kết thúc vào {deadline}. Bạn có thể gia hạn nếu không có ai đang chờ."},
		"en": {"E-book loan ending soon", "Your loan of {title} ends on {deadline}. You can renew it if no one is waiting."},
	},
	EbookHoldReserved: {
		"vi": {"Sách điện tử đã sẵn sàng cho bạn", "{title} được giữ cho bạn đến {deadline}. Hãy mượn trước thời hạn này."},
		"en": {"Your e-book is ready", "{title} is reserved for you until {deadline}. Borrow it before then."},
	},
	SavedSearch: {
		"vi": {"Có sách mới cho tìm kiếm đã lưu", "{count} đầu sách mới phù hợp với {query}, mới nhất là {title}."},
		"en": {"New titles for your saved search", "{count} new titles match {query}, the newest being {title}."},
	},
	LibraryNews: {
		"vi": {"Tin từ thư viện", ""},
		"en": {"News from your library", ""},
	},
}

// savedSearchOne is the text of a saved search with one new title.
var savedSearchOne = map[string]template{
	"vi": {"Có sách mới cho tìm kiếm đã lưu", "Có 1 đầu sách mới phù hợp với {query}: {title}."},
	"en": {"A new title for your saved search", "A new title matches {query}: {title}."},
}

// fallbacks fill a placeholder whose data is missing.
var fallbacks = map[string]map[string]string{
	"vi": {"title": "sách của bạn", "library": "thư viện", "deadline": "thời hạn ghi trong ứng dụng", "query": "tìm kiếm của bạn", "count": "Một số"},
	"en": {"title": "your book", "library": "the library", "deadline": "the date shown in the app", "query": "your search", "count": "Some"},
}

// Render returns the text of n in lang ("en", or Vietnamese otherwise).
// Library news carries its own text in its data: "title" and "body", with
// "titleEn" and "bodyEn" for English when given.
func Render(n *Notification, lang string) Text {
	if lang != "en" {
		lang = "vi"
	}
	if n.Kind == LibraryNews {
		t := Text{Title: n.Data["title"], Body: n.Data["body"]}
		if lang == "en" && n.Data["bodyEn"] != "" {
			t = Text{Title: n.Data["titleEn"], Body: n.Data["bodyEn"]}
		}
		if t.Title == "" {
			t.Title = templates[LibraryNews][lang].title
		}
		t.Body = truncate(t.Body, maxBodyBytes)
		return t
	}
	tpl, ok := templates[n.Kind][lang]
	if n.Kind == SavedSearch && n.Data["count"] == "1" {
		tpl = savedSearchOne[lang]
	}
	if !ok {
		return Text{Title: string(n.Kind)}
	}
	fill := func(s string) string {
		return placeholders.Replace(s, func(name string) string {
			v := n.Data[name]
			switch {
			case name == "deadline":
				v = formatDeadline(v, lang)
			case v != "" && (name == "title" || name == "query"):
				v = "“" + v + "”"
			}
			if v == "" {
				v = fallbacks[lang][name]
			}
			return v
		})
	}
	return Text{Title: tpl.title, Body: truncate(fill(tpl.body), maxBodyBytes)}
}

// replacer substitutes {name} placeholders.
type replacer struct{}

var placeholders replacer

// Replace returns s with every {name} replaced by value(name).
func (replacer) Replace(s string, value func(string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(value(s[i+1 : i+j]))
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// formatDeadline shows an RFC 3339 time in the province's zone: "09:26
// ngày 16/03/2025" or "16 Mar 2025, 09:26"; "" when it is not a time.
func formatDeadline(v, lang string) string {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return ""
	}
	t = t.In(thuvienso.Zone)
	if lang == "en" {
		return t.Format("2 Jan 2006, 15:04")
	}
	return t.Format("15:04 ngày 02/01/2006")
}

// truncate cuts s to at most n bytes at a letter boundary, with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Link is the deep link an app opens for n.
func Link(n *Notification) string {
	ebook := n.Data["titleId"] != ""
	switch n.Kind {
	case DueSoon, Overdue:
		return LinkScheme + "loans/" + n.SubjectID
	case EbookExpiring:
		return LinkScheme + "ebooks/loans/" + n.SubjectID
	case EbookHoldReserved:
		return LinkScheme + "ebooks/holds/" + n.SubjectID
	case HoldReady, HoldExpiring:
		if ebook {
			return LinkScheme + "ebooks/holds/" + n.SubjectID
		}
		return LinkScheme + "holds/" + n.SubjectID
	case SavedSearch:
		return LinkScheme + "saved-searches/" + n.SubjectID
	}
	return LinkScheme + "notifications/" + n.ID
}
