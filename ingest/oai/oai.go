// Package oai owns the OAI-PMH 2.0 protocol: a harvesting client (Identify,
// ListRecords with resumption tokens, incremental harvests with from/until,
// sets, deleted records), its retry policy (exponential backoff with jitter on
// network errors and 5xx, honouring Retry-After on 503 and 429), OAI error
// responses, and the HarvestState a caller persists per repository between
// harvests. Metadata is handed over as raw XML; package ingest maps it.
package oai

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Namespace is the OAI-PMH 2.0 namespace.
const Namespace = "http://www.openarchives.org/OAI/2.0/"

// Error is an error response of the repository (<error code="…">).
type Error struct {
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message == "" {
		return "OAI-PMH error " + e.Code
	}
	return "OAI-PMH error " + e.Code + ": " + e.Message
}

// OAI-PMH error codes.
const (
	CodeBadArgument             = "badArgument"
	CodeBadResumptionToken      = "badResumptionToken"
	CodeBadVerb                 = "badVerb"
	CodeCannotDisseminateFormat = "cannotDisseminateFormat"
	CodeIDDoesNotExist          = "idDoesNotExist"
	CodeNoRecordsMatch          = "noRecordsMatch"
	CodeNoMetadataFormats       = "noMetadataFormats"
	CodeNoSetHierarchy          = "noSetHierarchy"
)

// IsCode reports whether err is an OAI-PMH error response with the code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Header is a record header.
type Header struct {
	Identifier string
	// Datestamp as the repository wrote it (day or second granularity).
	Datestamp string
	SetSpecs  []string
	Deleted   bool
}

// Time parses the datestamp; zero when it is not a valid OAI date.
func (h Header) Time() time.Time {
	t, _ := ParseDatestamp(h.Datestamp)
	return t
}

// Record is one harvested record: its header and, unless deleted, its
// metadata as the XML of the single element inside <metadata>.
type Record struct {
	Header   Header
	Metadata []byte
}

// Page is one ListRecords response.
type Page struct {
	ResponseDate time.Time
	Records      []Record
	// ResumptionToken is "" on the last page.
	ResumptionToken  string
	CompleteListSize int
	Cursor           int
}

// Identify is the repository's self-description.
type Identify struct {
	RepositoryName    string   `xml:"repositoryName"`
	BaseURL           string   `xml:"baseURL"`
	ProtocolVersion   string   `xml:"protocolVersion"`
	AdminEmails       []string `xml:"adminEmail"`
	EarliestDatestamp string   `xml:"earliestDatestamp"`
	// DeletedRecord is "no", "transient" or "persistent".
	DeletedRecord string `xml:"deletedRecord"`
	// Granularity is "YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ssZ".
	Granularity string `xml:"granularity"`
}

// Granularities of OAI datestamps.
const (
	GranularityDay    = "YYYY-MM-DD"
	GranularitySecond = "YYYY-MM-DDThh:mm:ssZ"
)

// ParseDatestamp parses an OAI-PMH datestamp of either granularity (UTC).
func ParseDatestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("datestamp %q: %w", s, err)
	}
	return t, nil
}

// FormatDatestamp formats t for a from/until argument in the granularity.
func FormatDatestamp(t time.Time, granularity string) string {
	if granularity == GranularityDay {
		return t.UTC().Format("2006-01-02")
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// wire types of a response.
type response struct {
	XMLName      xml.Name   `xml:"OAI-PMH"`
	ResponseDate string     `xml:"responseDate"`
	Errors       []xmlError `xml:"error"`
	Identify     *Identify  `xml:"Identify"`
	ListRecords  *struct {
		Records []xmlRecord `xml:"record"`
		Token   *xmlToken   `xml:"resumptionToken"`
	} `xml:"ListRecords"`
	GetRecord *struct {
		Records []xmlRecord `xml:"record"`
	} `xml:"GetRecord"`
}

type xmlError struct {
	Code    string `xml:"code,attr"`
	Message string `xml:",chardata"`
}

type xmlToken struct {
	Value            string `xml:",chardata"`
	CompleteListSize string `xml:"completeListSize,attr"`
	Cursor           string `xml:"cursor,attr"`
}

type xmlRecord struct {
	Header struct {
		Status     string   `xml:"status,attr"`
		Identifier string   `xml:"identifier"`
		Datestamp  string   `xml:"datestamp"`
		SetSpecs   []string `xml:"setSpec"`
	} `xml:"header"`
	Metadata *struct {
		Inner []byte `xml:",innerxml"`
	} `xml:"metadata"`
}

func (x *xmlRecord) record() Record {
	r := Record{Header: Header{
		Identifier: strings.TrimSpace(x.Header.Identifier),
		Datestamp:  strings.TrimSpace(x.Header.Datestamp),
		SetSpecs:   x.Header.SetSpecs,
		Deleted:    x.Header.Status == "deleted",
	}}
	if x.Metadata != nil && !r.Header.Deleted {
		r.Metadata = []byte(strings.TrimSpace(string(x.Metadata.Inner)))
	}
	return r
}

// decode parses a response body and turns an error response into *Error
// (the first one; noRecordsMatch is left to the caller).
func decode(body []byte) (*response, error) {
	var resp response
	if err := xml.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("OAI-PMH response: %w", err)
	}
	if len(resp.Errors) > 0 {
		e := resp.Errors[0]
		return &resp, &Error{Code: strings.TrimSpace(e.Code), Message: strings.TrimSpace(e.Message)}
	}
	return &resp, nil
}
