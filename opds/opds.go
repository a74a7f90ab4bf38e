// Package opds serves the e-book collection as OPDS 2.0 feeds, so that
// OPDS reading apps (Thorium, the Palace app, …) can browse, borrow and
// read it: a catalog with navigation, search, a format facet and paging,
// publications whose acquisition links carry availability, copies and
// holds, and an authenticated bookshelf of the reader's loans and holds.
// Lending itself is package ebooks; this package only speaks OPDS.
package opds

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/ebooks"
)

// Media types of OPDS 2.0 documents.
const (
	FeedType        = "application/opds+json"
	PublicationType = "application/opds-publication+json"
)

// Link relations the feeds use.
const (
	relBorrow      = "http://opds-spec.org/acquisition/borrow"
	relAcquisition = "http://opds-spec.org/acquisition"
	relShelf       = "http://opds-spec.org/shelf"
)

// Root is where the feeds are mounted.
const Root = "/opds"

// PageSize is the number of publications in one catalog page.
const PageSize = 50

// Handler serves the feeds.
type Handler struct {
	Ebooks *ebooks.Service
	// Authenticate returns the actor of a bearer access token.
	Authenticate func(ctx context.Context, token string) (auth.Actor, error)
}

// Routes mounts the feeds on mux (any ServeMux-like Handle).
func (h *Handler) Routes(handle func(pattern string, handler http.Handler)) {
	handle("GET "+Root, http.HandlerFunc(h.root))
	handle("GET "+Root+"/catalog", http.HandlerFunc(h.catalog))
	handle("GET "+Root+"/publications/{id}", http.HandlerFunc(h.publication))
	handle("POST "+Root+"/publications/{id}/borrow", http.HandlerFunc(h.borrow))
	handle("GET "+Root+"/bookshelf", http.HandlerFunc(h.bookshelf))
}

// Feed is an OPDS 2.0 feed.
type Feed struct {
	Metadata     FeedMetadata  `json:"metadata"`
	Links        []Link        `json:"links"`
	Navigation   []Link        `json:"navigation,omitempty"`
	Facets       []Facet       `json:"facets,omitempty"`
	Publications []Publication `json:"publications,omitempty"`
}

// FeedMetadata describes a feed.
type FeedMetadata struct {
	Title         string `json:"title"`
	NumberOfItems *int   `json:"numberOfItems,omitempty"`
	ItemsPerPage  int    `json:"itemsPerPage,omitempty"`
	Modified      string `json:"modified,omitempty"`
}

// Facet is a group of links that narrow a feed.
type Facet struct {
	Metadata FeedMetadata `json:"metadata"`
	Links    []Link       `json:"links"`
}

// Link is a Readium/OPDS link object.
type Link struct {
	Href       string      `json:"href"`
	Type       string      `json:"type,omitempty"`
	Rel        string      `json:"rel,omitempty"`
	Title      string      `json:"title,omitempty"`
	Templated  bool        `json:"templated,omitempty"`
	Properties *Properties `json:"properties,omitempty"`
}

// Properties are the OPDS link properties the feeds use.
type Properties struct {
	NumberOfItems       *int          `json:"numberOfItems,omitempty"`
	IndirectAcquisition []Acquisition `json:"indirectAcquisition,omitempty"`
	Availability        *Availability `json:"availability,omitempty"`
	Copies              *Copies       `json:"copies,omitempty"`
	Holds               *Holds        `json:"holds,omitempty"`
}

// Acquisition names what an indirect acquisition finally gives.
type Acquisition struct {
	Type string `json:"type"`
}

// Availability is the state of an acquisition link for the reader.
type Availability struct {
	// State is available, unavailable, reserved (waiting in the queue) or
	// ready (a copy is reserved for the reader).
	State string `json:"state"`
	Since string `json:"since,omitempty"`
	Until string `json:"until,omitempty"`
}

// Copies counts a title's copies.
type Copies struct {
	Total     int `json:"total"`
	Available int `json:"available"`
}

// Holds counts a title's queue and the reader's place in it.
type Holds struct {
	Total    int  `json:"total"`
	Position *int `json:"position,omitempty"`
}

// Publication is an OPDS publication.
type Publication struct {
	Metadata PublicationMetadata `json:"metadata"`
	Links    []Link              `json:"links"`
}

// PublicationMetadata is the Readium metadata of a publication.
type PublicationMetadata struct {
	Type        string   `json:"@type"`
	Title       string   `json:"title"`
	Identifier  string   `json:"identifier"`
	Author      []string `json:"author,omitempty"`
	Language    string   `json:"language,omitempty"`
	Publisher   string   `json:"publisher,omitempty"`
	Description string   `json:"description,omitempty"`
	Modified    string   `json:"modified,omitempty"`
}

func stamp(t time.Time) string { return t.In(thuvienso.Zone).Format(time.RFC3339) }

// root is the start feed: navigation, search, the shelf and the newest page.
func (h *Handler) root(w http.ResponseWriter, r *http.Request) {
	f := Feed{
		Metadata: FeedMetadata{Title: "Thư viện số Bắc Ninh — Sách điện tử"},
		Links: []Link{
			{Href: Root, Type: FeedType, Rel: "self"},
			{Href: Root + "/catalog{?query}", Type: FeedType, Rel: "search", Templated: true},
			{Href: Root + "/bookshelf", Type: FeedType, Rel: relShelf, Title: "Tủ sách của tôi"},
		},
		Navigation: []Link{
			{Href: Root + "/catalog", Type: FeedType, Title: "Tất cả sách điện tử", Rel: "subsection"},
			{Href: Root + "/catalog?format=EPUB", Type: FeedType, Title: "Sách EPUB", Rel: "subsection"},
			{Href: Root + "/catalog?format=PDF", Type: FeedType, Title: "Sách PDF", Rel: "subsection"},
			{Href: Root + "/catalog?format=AUDIOBOOK", Type: FeedType, Title: "Sách nói", Rel: "subsection"},
			{Href: Root + "/bookshelf", Type: FeedType, Title: "Tủ sách của tôi", Rel: relShelf},
		},
	}
	write(w, FeedType, f)
}

// formatNames are the format facet's labels.
var formatNames = map[ebooks.Format]string{ebooks.FormatEPUB: "EPUB", ebooks.FormatPDF: "PDF", ebooks.FormatAudiobook: "Sách nói"}

// catalog is one page of titles, by ?query, ?format and ?after.
func (h *Handler) catalog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query, format, after := strings.TrimSpace(q.Get("query")), ebooks.Format(q.Get("format")), q.Get("after")
	ts, err := h.Ebooks.Titles(r.Context(), ebooks.TitleQuery{Text: query, Format: format, AfterID: after, Limit: PageSize + 1})
	if err != nil {
		ebooks.WriteProblem(w, r, ebooks.HTTPStatus(err), err)
		return
	}
	next := ""
	if len(ts) > PageSize {
		ts = ts[:PageSize]
		next = catalogURL(query, format, ts[len(ts)-1].ID)
	}
	pubs, err := h.publications(r.Context(), ts)
	if err != nil {
		ebooks.WriteProblem(w, r, ebooks.HTTPStatus(err), err)
		return
	}
	title := "Sách điện tử"
	if query != "" {
		title = "Kết quả tìm kiếm: " + query
	}
	f := Feed{
		Metadata: FeedMetadata{Title: title, ItemsPerPage: PageSize},
		Links: []Link{
			{Href: catalogURL(query, format, after), Type: FeedType, Rel: "self"},
			{Href: Root, Type: FeedType, Rel: "start"},
			{Href: Root + "/catalog{?query}", Type: FeedType, Rel: "search", Templated: true},
		},
		Publications: pubs,
	}
	if next != "" {
		f.Links = append(f.Links, Link{Href: next, Type: FeedType, Rel: "next"})
	}
	facet := Facet{Metadata: FeedMetadata{Title: "Định dạng"}}
	for _, fm := range append([]ebooks.Format{""}, ebooks.Formats...) {
		l := Link{Href: catalogURL(query, fm, ""), Type: FeedType, Title: formatNames[fm]}
		if fm == "" {
			l.Title = "Tất cả"
		}
		if fm == format {
			l.Rel = "self"
		}
		facet.Links = append(facet.Links, l)
	}
	f.Facets = []Facet{facet}
	write(w, FeedType, f)
}

func catalogURL(query string, format ebooks.Format, after string) string {
	v := url.Values{}
	if query != "" {
		v.Set("query", query)
	}
	if format != "" {
		v.Set("format", string(format))
	}
	if after != "" {
		v.Set("after", after)
	}
	if len(v) == 0 {
		return Root + "/catalog"
	}
	return Root + "/catalog?" + v.Encode()
}

// publications describes titles for anyone: a borrow link with the
// title's copies, queue and whether a copy is free now.
func (h *Handler) publications(ctx context.Context, ts []*ebooks.Title) ([]Publication, error) {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	av, err := h.Ebooks.Availability(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Publication, len(ts))
	for i, t := range ts {
		out[i] = publication(t, borrowLink(t, av[t.ID]))
	}
	return out, nil
}

// borrowLink is the acquisition link of a title not (yet) the reader's.
func borrowLink(t *ebooks.Title, a *ebooks.Availability) Link {
	p := &Properties{IndirectAcquisition: []Acquisition{{Type: t.Format.MediaType()}}, Availability: &Availability{State: "unavailable"}}
	if a != nil {
		if a.AvailableNow {
			p.Availability.State = "available"
		}
		if !a.Unlimited {
			p.Copies = &Copies{Total: a.Copies, Available: a.AvailableCopies}
		}
		p.Holds = &Holds{Total: a.Holds}
	}
	return Link{Href: Root + "/publications/" + url.PathEscape(t.ID) + "/borrow", Type: PublicationType, Rel: relBorrow, Properties: p}
}

// publication is the OPDS form of a title with one acquisition link.
func publication(t *ebooks.Title, acquire Link) Publication {
	typ := "http://schema.org/EBook"
	if t.Format == ebooks.FormatAudiobook {
		typ = "http://schema.org/Audiobook"
	}
	return Publication{
		Metadata: PublicationMetadata{Type: typ, Title: t.Name, Identifier: "urn:thuvienso:ebook:" + t.ID, Author: t.Authors,
			Language: t.Language, Publisher: t.Publisher, Description: t.Summary, Modified: stamp(t.CreatedAt)},
		Links: []Link{
			{Href: Root + "/publications/" + url.PathEscape(t.ID), Type: PublicationType, Rel: "self"},
			acquire,
		},
	}
}

// publication serves one title.
func (h *Handler) publication(w http.ResponseWriter, r *http.Request) {
	t, err := h.Ebooks.Title(r.Context(), r.PathValue("id"))
	if err != nil {
		ebooks.WriteProblem(w, r, ebooks.HTTPStatus(err), err)
		return
	}
	pubs, err := h.publications(r.Context(), []*ebooks.Title{t})
	if err != nil {
		ebooks.WriteProblem(w, r, ebooks.HTTPStatus(err), err)
		return
	}
	write(w, PublicationType, pubs[0])
}

// borrow lends the title to the reader, or puts them in the queue when no
// copy is free (what an OPDS app's "borrow" button expects), and answers
// with the publication as it now stands for them.
func (h *Handler) borrow(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	_, err := h.Ebooks.Borrow(r.Context(), a, ebooks.BorrowInput{TitleID: r.PathValue("id"), HoldIfUnavailable: true,
		IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		ebooks.WriteProblem(w, r, ebooks.HTTPStatus(err), err)
		return
	}
	shelf, err := h.shelf(r.Context(), a)
	if err != nil {
		ebooks.WriteProblem(w, r, ebooks.HTTPStatus(err), err)
		return
	}
	for _, p := range shelf {
		if p.Metadata.Identifier == "urn:thuvienso:ebook:"+r.PathValue("id") {
			writeStatus(w, http.StatusCreated, PublicationType, p)
			return
		}
	}
	ebooks.WriteProblem(w, r, http.StatusInternalServerError, errors.New("opds: the borrowed title is not on the shelf"))
}

// bookshelf lists the reader's active loans (with a link to read) and
// holds (reserved while waiting, ready when a copy waits for them).
func (h *Handler) bookshelf(w http.ResponseWriter, r *http.Request) {
	a, ok := h.actor(w, r)
	if !ok {
		return
	}
	pubs, err := h.shelf(r.Context(), a)
	if err != nil {
		ebooks.WriteProblem(w, r, ebooks.HTTPStatus(err), err)
		return
	}
	n := len(pubs)
	write(w, FeedType, Feed{
		Metadata:     FeedMetadata{Title: "Tủ sách của tôi", NumberOfItems: &n},
		Links:        []Link{{Href: Root + "/bookshelf", Type: FeedType, Rel: "self"}, {Href: Root, Type: FeedType, Rel: "start"}},
		Publications: pubs,
	})
}

// shelf is the reader's loans, then holds, as publications.
func (h *Handler) shelf(ctx context.Context, a auth.Actor) ([]Publication, error) {
	loans, err := h.Ebooks.MyLoans(ctx, a, false)
	if err != nil {
		return nil, err
	}
	holds, err := h.Ebooks.MyHolds(ctx, a, false)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, l := range loans {
		ids = append(ids, l.TitleID)
	}
	for _, hs := range holds {
		ids = append(ids, hs.TitleID)
	}
	ts, err := h.Ebooks.TitlesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := map[string]*ebooks.Title{}
	for _, t := range ts {
		byID[t.ID] = t
	}
	var out []Publication
	for _, l := range loans {
		t := byID[l.TitleID]
		if t == nil {
			continue
		}
		link, err := h.Ebooks.ContentLink(ctx, a, l.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, publication(t, Link{Href: link.URL, Type: link.MediaType, Rel: relAcquisition,
			Properties: &Properties{Availability: &Availability{State: "available", Since: stamp(l.StartedAt), Until: stamp(l.EndsAt)}}}))
	}
	for _, hs := range holds {
		t := byID[hs.TitleID]
		if t == nil {
			continue
		}
		pos := hs.Position
		p := &Properties{IndirectAcquisition: []Acquisition{{Type: t.Format.MediaType()}},
			Availability: &Availability{State: "reserved", Since: stamp(hs.CreatedAt)}, Holds: &Holds{Total: hs.QueueLength, Position: &pos}}
		if hs.State == ebooks.HoldReserved && hs.ReservedUntil != nil {
			p.Availability = &Availability{State: "ready", Until: stamp(*hs.ReservedUntil)}
		}
		out = append(out, publication(t, Link{Href: Root + "/publications/" + url.PathEscape(t.ID) + "/borrow", Type: PublicationType,
			Rel: relBorrow, Properties: p}))
	}
	return out, nil
}

// actor authenticates the request's bearer token, answering 401 with a
// challenge when there is none or it is invalid.
func (h *Handler) actor(w http.ResponseWriter, r *http.Request) (auth.Actor, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	var a auth.Actor
	var err error = thuvienso.ErrUnauthenticated
	if ok && token != "" {
		a, err = h.Authenticate(r.Context(), token)
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="thuvienso"`)
		ebooks.WriteProblem(w, r, http.StatusUnauthorized, thuvienso.ErrUnauthenticated)
		return auth.Actor{}, false
	}
	return a, true
}

func write(w http.ResponseWriter, contentType string, v any) {
	writeStatus(w, http.StatusOK, contentType, v)
}

// writeStatus answers with a document. Feeds change with every loan, so
// clients revalidate; the bookshelf is private to its reader.
func writeStatus(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "private, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
