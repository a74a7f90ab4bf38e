package oai

import (
	"context"
	"fmt"
	"time"
)

// HarvestState is what a caller persists per library (one repository,
// metadata format and set) between harvests, so that the next harvest is
// incremental and an interrupted one resumes where it stopped.
type HarvestState struct {
	MetadataPrefix string
	Set            string
	// Granularity of the repository's datestamps, from Identify.
	Granularity string
	// From is the from argument of the next harvest: the responseDate of the
	// first page of the last complete harvest, in the repository's
	// granularity. Empty means a full harvest.
	From string
	// ResumptionToken is set while a harvest is unfinished: the next Harvest
	// resumes from it.
	ResumptionToken string
	// Started is the responseDate of the first page of the harvest in
	// progress; it becomes From when the harvest completes.
	Started time.Time
	// LastDatestamp is the latest record datestamp seen.
	LastDatestamp string
	// LastResponseDate is the responseDate of the last page handled.
	LastResponseDate time.Time
	// LastCompleted is the start of the last complete harvest.
	LastCompleted time.Time
	// Pages and Records count what the harvest in progress (or the last
	// complete one) delivered.
	Pages, Records int
}

// Harvest runs ListRecords from where st says — the resumption token of an
// unfinished harvest, else st.From — following resumption tokens to the end
// and calling fn with each page, deleted records included. st is updated
// only after fn accepts a page, so a failure (of the network, the
// repository or fn) leaves st ready to resume with that page again: every
// record is delivered at least once. When the list is complete st.From moves
// to the start of this harvest.
//
// A badResumptionToken error (an expired token) clears the token, so the
// next Harvest starts again from st.From.
func (c *Client) Harvest(ctx context.Context, st *HarvestState, fn func(*Page) error) error {
	if st.MetadataPrefix == "" {
		return fmt.Errorf("harvest: metadataPrefix is required")
	}
	if st.Granularity == "" {
		id, err := c.Identify(ctx)
		if err != nil {
			return fmt.Errorf("harvest: %w", err)
		}
		st.Granularity = id.Granularity
		if st.Granularity != GranularitySecond {
			st.Granularity = GranularityDay
		}
	}
	if st.ResumptionToken == "" {
		st.Started, st.Pages, st.Records = time.Time{}, 0, 0
	}
	for {
		req := ListRecordsRequest{ResumptionToken: st.ResumptionToken}
		if req.ResumptionToken == "" {
			req = ListRecordsRequest{MetadataPrefix: st.MetadataPrefix, Set: st.Set, From: st.From}
		}
		page, err := c.ListRecords(ctx, req)
		if err != nil {
			if IsCode(err, CodeBadResumptionToken) {
				st.ResumptionToken, st.Started = "", time.Time{}
			}
			return fmt.Errorf("harvest: %w", err)
		}
		if req.ResumptionToken == "" {
			st.Started = page.ResponseDate
		}
		if err := fn(page); err != nil {
			return fmt.Errorf("harvest: handling page %d: %w", st.Pages+1, err)
		}
		st.Pages++
		st.Records += len(page.Records)
		for _, r := range page.Records {
			if later(r.Header.Datestamp, st.LastDatestamp) {
				st.LastDatestamp = r.Header.Datestamp
			}
		}
		if !page.ResponseDate.IsZero() {
			st.LastResponseDate = page.ResponseDate
		}
		if page.ResumptionToken != "" && page.ResumptionToken == req.ResumptionToken {
			return fmt.Errorf("harvest: the repository returned resumption token %q again", page.ResumptionToken)
		}
		st.ResumptionToken = page.ResumptionToken
		if st.ResumptionToken == "" {
			st.complete()
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("harvest: %w", err)
		}
	}
}

// complete moves From to the start of the finished harvest.
func (st *HarvestState) complete() {
	start := st.Started
	if start.IsZero() {
		start, _ = ParseDatestamp(st.LastDatestamp)
	}
	if !start.IsZero() {
		st.From = FormatDatestamp(start, st.Granularity)
		st.LastCompleted = start
	}
	st.Started = time.Time{}
}

// later reports whether datestamp a is after b (an empty b is before all).
func later(a, b string) bool {
	ta, err := ParseDatestamp(a)
	if err != nil {
		return false
	}
	tb, err := ParseDatestamp(b)
	return err != nil || ta.After(tb)
}
