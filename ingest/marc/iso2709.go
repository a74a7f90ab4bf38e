package marc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Reader reads ISO 2709 records one at a time from a stream.
type Reader struct {
	br     *bufio.Reader
	pos    int
	off    int64
	failed error
}

// NewReader returns a Reader over r. It buffers at most one maximal record.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, MaxRecordLen+1)}
}

// Next returns the next record and its bytes as ISO 2709 UTF-8 (a fresh
// slice; for an ASCII MARC-8 record, leader/09 is set to 'a'). At the end of
// the input it returns io.EOF. A damaged record yields a *RecordError and the
// reader moves on to the next record; any other error comes from the
// underlying reader and ends the stream.
func (r *Reader) Next() (*Record, []byte, error) {
	if r.failed != nil {
		return nil, nil, r.failed
	}
	// Skip white space and NULs that some exporters put between records.
	for {
		b, err := r.br.ReadByte()
		if err == io.EOF {
			r.failed = io.EOF
			return nil, nil, io.EOF
		}
		if err != nil {
			r.failed = err
			return nil, nil, err
		}
		if b == '\n' || b == '\r' || b == ' ' || b == '\t' || b == 0 || b == 0x1A {
			r.off++
			continue
		}
		_ = r.br.UnreadByte()
		break
	}
	r.pos++
	start := r.off
	data, err := r.br.ReadSlice(RecordTerminator)
	r.off += int64(len(data))
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		// Discard up to the next record terminator.
		for errors.Is(err, bufio.ErrBufferFull) {
			data, err = r.br.ReadSlice(RecordTerminator)
			r.off += int64(len(data))
		}
		if err != nil && err != io.EOF {
			r.failed = err
		}
		return nil, nil, &RecordError{Position: r.pos, Offset: start, Err: ErrTooLong}
	case err == io.EOF:
		return nil, nil, &RecordError{Position: r.pos, Offset: start,
			Err: fmt.Errorf("%w: %d bytes at the end of the input without a record terminator", ErrLength, len(data))}
	case err != nil:
		r.failed = err
		return nil, nil, err
	}
	raw := append([]byte(nil), data...)
	rec, err := Parse(raw)
	if err != nil {
		var re *RecordError
		if errors.As(err, &re) {
			re.Position, re.Offset = r.pos, start
			return nil, nil, re
		}
		return nil, nil, &RecordError{Position: r.pos, Offset: start, Err: err}
	}
	if raw[9] != 'a' {
		raw[9] = 'a'
	}
	return rec, raw, nil
}

// digits parses an unsigned decimal of ASCII digits; ok is false otherwise.
func digits(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func isTagByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// Parse decodes one complete ISO 2709 record (ending with the record
// terminator). It checks the record length, the base address, every
// directory entry and field terminator, and the character coding (see the
// package documentation). On failure it returns a *RecordError (Position and
// Offset zero) with the 001 when that could be read.
func Parse(data []byte) (*Record, error) {
	fail := func(id string, err error) (*Record, error) { return nil, &RecordError{ID: id, Err: err} }
	if len(data) < LeaderLen+2 {
		return fail("", fmt.Errorf("%w: %d bytes is shorter than a leader and its terminators", ErrLength, len(data)))
	}
	if data[len(data)-1] != RecordTerminator {
		return fail("", fmt.Errorf("%w: no record terminator", ErrLength))
	}
	n, ok := digits(data[0:5])
	if !ok {
		return fail("", fmt.Errorf("%w: record length %q is not five digits", ErrLeader, data[0:5]))
	}
	if n != len(data) {
		return fail("", fmt.Errorf("%w: leader says %d bytes, the record has %d", ErrLength, n, len(data)))
	}
	base, ok := digits(data[12:17])
	if !ok {
		return fail("", fmt.Errorf("%w: base address %q is not five digits", ErrLeader, data[12:17]))
	}
	if base < LeaderLen+1 || base > len(data)-1 || data[base-1] != FieldTerminator {
		return fail("", fmt.Errorf("%w: base address %d does not follow the directory", ErrDirectory, base))
	}
	dir := data[LeaderLen : base-1]
	if len(dir)%12 != 0 {
		return fail("", fmt.Errorf("%w: directory length %d is not a multiple of 12", ErrDirectory, len(dir)))
	}
	utf := data[9] == 'a'
	s := string(data) // one copy; every value below is a substring of it
	rec := &Record{Leader: s[:LeaderLen], Fields: make([]Field, 0, len(dir)/12)}
	if !utf {
		rec.Leader = rec.Leader[:9] + "a" + rec.Leader[10:]
	}
	end := len(data) - 1
	id := ""
	for i := 0; i < len(dir); i += 12 {
		e := dir[i : i+12]
		if !isTagByte(e[0]) || !isTagByte(e[1]) || !isTagByte(e[2]) {
			return fail(id, fmt.Errorf("%w: entry %d has tag %q", ErrDirectory, i/12+1, e[0:3]))
		}
		tag := s[LeaderLen+i : LeaderLen+i+3]
		length, ok1 := digits(e[3:7])
		offset, ok2 := digits(e[7:12])
		if !ok1 || !ok2 {
			return fail(id, fmt.Errorf("%w: entry %d (%s) has a non-numeric length or start", ErrDirectory, i/12+1, tag))
		}
		from, to := base+offset, base+offset+length
		if length < 1 || to > end {
			return fail(id, fmt.Errorf("%w: field %s (entry %d) lies outside the record", ErrDirectory, tag, i/12+1))
		}
		if data[to-1] != FieldTerminator {
			return fail(id, fmt.Errorf("%w: field %s does not end with a field terminator", ErrField, tag))
		}
		content := data[from : to-1]
		if err := checkCoding(content, utf); err != nil {
			return fail(id, fmt.Errorf("field %s: %w", tag, err))
		}
		if IsControl(tag) {
			v := s[from : to-1]
			if tag == "001" && id == "" {
				id = v
			}
			rec.Fields = append(rec.Fields, Field{Tag: tag, Value: v})
			continue
		}
		f, err := parseDataField(tag, s[from:to-1])
		if err != nil {
			return fail(id, err)
		}
		rec.Fields = append(rec.Fields, f)
	}
	return rec, nil
}

// checkCoding verifies a field's bytes: valid UTF-8 in a UTF-8 record, ASCII
// only in a MARC-8 one.
func checkCoding(b []byte, utf bool) error {
	if utf {
		if !utf8.Valid(b) {
			return ErrEncoding
		}
		return nil
	}
	for _, c := range b {
		if c >= 0x80 || c == 0x1B {
			return ErrMARC8
		}
	}
	return nil
}

func parseDataField(tag, c string) (Field, error) {
	if len(c) < 2 {
		return Field{}, fmt.Errorf("%w: data field %s has no indicators", ErrField, tag)
	}
	f := Field{Tag: tag, Ind1: c[0], Ind2: c[1]}
	if f.Ind1 == SubfieldDelim || f.Ind2 == SubfieldDelim {
		return Field{}, fmt.Errorf("%w: data field %s has no indicators", ErrField, tag)
	}
	c = c[2:]
	if c == "" {
		return f, nil
	}
	if c[0] != SubfieldDelim {
		return Field{}, fmt.Errorf("%w: data field %s has data before its first subfield", ErrField, tag)
	}
	n := 0
	for i := 0; i < len(c); i++ {
		if c[i] == SubfieldDelim {
			n++
		}
	}
	f.Subfields = make([]Subfield, 0, n)
	for len(c) > 0 {
		c = c[1:] // the delimiter
		next := len(c)
		for i := 0; i < len(c); i++ {
			if c[i] == SubfieldDelim {
				next = i
				break
			}
		}
		part := c[:next]
		c = c[next:]
		if part == "" {
			continue // empty subfield: nothing to keep
		}
		f.Subfields = append(f.Subfields, Subfield{Code: part[0], Value: part[1:]})
	}
	return f, nil
}

// Encode returns r as an ISO 2709 record, UTF-8 (leader/09 'a'), computing
// the record length, base address and directory. It fails when a field or
// the record exceeds the format's limits or a tag is not three characters.
func (r *Record) Encode() ([]byte, error) {
	if len(r.Leader) != LeaderLen {
		return nil, fmt.Errorf("%w: leader has %d characters, want %d", ErrLeader, len(r.Leader), LeaderLen)
	}
	var body, dir []byte
	for _, f := range r.Fields {
		if len(f.Tag) != 3 {
			return nil, fmt.Errorf("%w: tag %q", ErrDirectory, f.Tag)
		}
		start := len(body)
		if f.IsControl() {
			body = append(body, f.Value...)
		} else {
			body = append(body, ind(f.Ind1), ind(f.Ind2))
			for _, s := range f.Subfields {
				body = append(body, SubfieldDelim, s.Code)
				body = append(body, s.Value...)
			}
		}
		body = append(body, FieldTerminator)
		length := len(body) - start
		if length > 9999 || start > 99999 {
			return nil, fmt.Errorf("%w: field %s too long for ISO 2709", ErrTooLong, f.Tag)
		}
		dir = append(dir, f.Tag...)
		dir = append(dir, pad(length, 4)...)
		dir = append(dir, pad(start, 5)...)
	}
	base := LeaderLen + len(dir) + 1
	total := base + len(body) + 1
	if total > MaxRecordLen {
		return nil, ErrTooLong
	}
	out := make([]byte, 0, total)
	out = append(out, pad(total, 5)...)
	out = append(out, r.Leader[5:9]...)
	out = append(out, 'a', '2', '2')
	out = append(out, pad(base, 5)...)
	out = append(out, r.Leader[17:20]...)
	out = append(out, "4500"...)
	out = append(out, dir...)
	out = append(out, FieldTerminator)
	out = append(out, body...)
	out = append(out, RecordTerminator)
	return out, nil
}

func ind(b byte) byte {
	if b == 0 {
		return ' '
	}
	return b
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
