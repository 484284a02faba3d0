package clean

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/beamline/beamline/internal/jsonx"
	"github.com/beamline/beamline/transforms/record"
)

// ParseSpec says how payloads are parsed.
type ParseSpec struct {
	// Format is json, csv or text.
	Format string `json:"format" yaml:"format"`
	// Columns name CSV fields when records carry no header (record.Header).
	Columns []string `json:"columns,omitempty" yaml:"columns,omitempty"`
	// Delimiter is the CSV delimiter; 0 means comma.
	Delimiter rune `json:"delimiter,omitempty" yaml:"delimiter,omitempty"`
	// MaxBytes rejects larger payloads as too_large; 0 means DefaultMaxBytes, -1 no limit.
	MaxBytes int `json:"max_bytes,omitempty" yaml:"max_bytes,omitempty"`
	// TextField names the field a text line goes to; empty means "line".
	TextField string `json:"text_field,omitempty" yaml:"text_field,omitempty"`
}

// DefaultMaxBytes is the default payload limit: BigQuery's streaming row limit is 10 MB and
// Pub/Sub's message limit 10 MB, but a single 1 MB log or event line is almost always a bug
// upstream, and one such record held in memory per key is what makes workers fall over.
const DefaultMaxBytes = 512 << 10

// Parser is the pure core of Parse.
type Parser struct {
	spec    ParseSpec
	columns []string
	// The last header seen and its columns; not safe for concurrent use, like a DoFn.
	lastHeader []byte
	lastCols   []string
	lastDup    *dupColumn
}

// dupColumn is a column name a CSV header repeats, with its 1-based positions.
type dupColumn struct {
	name          string
	first, second int
}

// duplicateColumn returns the first column name cols repeats, or nil.
func duplicateColumn(cols []string) *dupColumn {
	for j := range cols {
		for i := range j {
			if cols[i] == cols[j] {
				return &dupColumn{cols[j], i + 1, j + 1}
			}
		}
	}
	return nil
}

// NewParser checks spec and returns a Parser.
func NewParser(spec ParseSpec) (*Parser, error) {
	switch spec.Format {
	case "json", "text":
	case "csv":
		if spec.Delimiter == '"' || spec.Delimiter == '\n' || spec.Delimiter == '\r' {
			return nil, fmt.Errorf("clean: ParseSpec.Delimiter %q cannot be a quote or newline", spec.Delimiter)
		}
	default:
		return nil, fmt.Errorf("clean: ParseSpec.Format %q is not json, csv or text", spec.Format)
	}
	if d := duplicateColumn(spec.Columns); d != nil {
		return nil, fmt.Errorf("clean: ParseSpec.Columns names %q twice (columns %d and %d)", d.name, d.first, d.second)
	}
	if spec.MaxBytes == 0 {
		spec.MaxBytes = DefaultMaxBytes
	}
	if spec.TextField == "" {
		spec.TextField = "line"
	}
	return &Parser{spec: spec, columns: spec.Columns}, nil
}

// Parse fills r.Data from r.Payload, or returns why it cannot.
func (p *Parser) Parse(r *record.Record) *Error {
	if err := ReadError(r); err != nil {
		return err
	}
	allowed := uint32(ctlTab)
	switch p.spec.Format {
	case "text":
		allowed = ctlAll
	case "csv":
		allowed = ctlCSV // a quoted field may hold line ends (io/files frames CSV records)
	}
	if err := checkBytes(r.Payload, p.spec.MaxBytes, allowed); err != nil {
		return err
	}
	switch p.spec.Format {
	case "json":
		m, err := jsonx.DecodeObject(r.Payload)
		if err != nil {
			return jsonError(err)
		}
		r.Data = m
	case "csv":
		m, err := p.parseCSV(r)
		if err != nil {
			return err
		}
		r.Data = m
	case "text":
		r.Data = map[string]any{p.spec.TextField: string(r.Payload)}
	}
	return nil
}

// ReadError returns the failure the reader marked r with (record.AttrReadError: io/files
// marks a record over its size limit, a UTF-16 file, a truncated gzip stream, …), or nil.
// Parse calls it first; any other parser of records read from files should too, so that such
// records reach the dead letter under the reader's reason code.
func ReadError(r *record.Record) *Error {
	reason, ok := r.Attributes[record.AttrReadError]
	if !ok {
		return nil
	}
	return &Error{Reason: reason, Msg: r.Attributes[record.AttrReadMessage]}
}

// Masks of the C0 control characters a format allows (bit c for character c).
const (
	ctlTab = 1 << '\t'
	ctlCSV = ctlTab | 1<<'\n' | 1<<'\r'
	ctlAll = 1<<32 - 1
)

// CheckBytes applies the byte-level checks every format shares. Tabs are allowed everywhere;
// other C0 control characters (CR and LF included: a line reader has removed the line's own)
// only in text, where logs may legitimately carry them.
func CheckBytes(b []byte, maxBytes int, text bool) *Error {
	if text {
		return checkBytes(b, maxBytes, ctlAll)
	}
	return checkBytes(b, maxBytes, ctlTab)
}

// checkBytes is CheckBytes with the allowed control characters as a mask; NUL never is.
func checkBytes(b []byte, maxBytes int, allowed uint32) *Error {
	if maxBytes > 0 && len(b) > maxBytes {
		return reject(ReasonTooLarge, nil, "record is %d bytes, over the limit of %d", len(b), maxBytes)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return reject(ReasonEmpty, nil, "record is empty or white space only (%d bytes)", len(b))
	}
	ascii := true
	for i := 0; i < len(b); {
		// This runs on every record, so it skips eight plain bytes (0x20-0x7f) at a time: a
		// word has a byte below 0x20 or from 0x80 up iff (x - 0x20…) | x has a high bit set.
		if i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			if ((x-0x2020202020202020)|x)&0x8080808080808080 == 0 {
				i += 8
				continue
			}
		}
		c := b[i]
		switch {
		case c == 0:
			return reject(ReasonNUL, nil, "NUL byte at byte %d", i)
		case c >= 0x80:
			ascii = false
		case c < 0x20 && allowed&(1<<c) == 0:
			return reject(ReasonControlChar, nil, "control character 0x%02x at byte %d", c, i)
		}
		i++
	}
	if !ascii {
		if !utf8.Valid(b) {
			return reject(ReasonInvalidUTF8, nil, "invalid UTF-8 at byte %d", firstInvalidUTF8(b))
		}
		if bytes.HasPrefix(b, bom) {
			return reject(ReasonBOM, nil, "byte-order mark at the start of a record that is not the start of its file")
		}
	}
	return nil
}

var bom = []byte{0xEF, 0xBB, 0xBF}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

func jsonError(err error) *Error {
	var se *jsonx.SyntaxError
	var de *jsonx.DuplicateKeyError
	switch {
	case errors.As(err, &de):
		return reject(fieldReason(ReasonDuplicateField, de.Path), err, "JSON %v: refused rather than keep one value", err)
	case errors.As(err, &se) && se.Truncated:
		return reject(ReasonJSONTruncated, err, "%v", err)
	case errors.As(err, &se):
		return reject(ReasonJSONSyntax, err, "%v", err)
	case errors.Is(err, jsonx.ErrNotObject):
		return reject(ReasonJSONNotObject, err, "%v", err)
	case errors.Is(err, jsonx.ErrTrailing):
		return reject(ReasonJSONTrailing, err, "%v", err)
	}
	return reject(ReasonJSONType, err, "%v", err)
}

func (p *Parser) parseCSV(r *record.Record) (map[string]any, *Error) {
	cols := p.columns
	if len(r.Header) > 0 {
		// Every record of a file carries the same header: parse it once per file.
		if !bytes.Equal(r.Header, p.lastHeader) {
			h, err := p.splitCSV(r.Header)
			if err != nil {
				return nil, reject(ReasonCSVSyntax, err, "header line of %s: %v", r.Origin, err)
			}
			p.lastHeader, p.lastCols, p.lastDup = append(p.lastHeader[:0], r.Header...), h, duplicateColumn(h)
		}
		cols = p.lastCols
		// A header naming a column twice would map the record by whichever came last: every
		// record of the file is refused instead, with the name and both positions.
		if d := p.lastDup; d != nil {
			return nil, reject(fieldReason(ReasonDuplicateField, d.name), nil,
				"the header of %s names column %q twice (columns %d and %d)", r.Origin, d.name, d.first, d.second)
		}
	}
	if len(cols) == 0 {
		return nil, reject(ReasonCSVFieldCount, nil, "no CSV header or columns to map fields by")
	}
	fields, err := p.splitCSV(r.Payload)
	if err != nil {
		return nil, reject(ReasonCSVSyntax, err, "%v", err)
	}
	if len(fields) != len(cols) {
		return nil, reject(ReasonCSVFieldCount, nil, "%d fields, header has %d", len(fields), len(cols))
	}
	m := make(map[string]any, len(cols))
	for i, c := range cols {
		m[c] = fields[i]
	}
	return m, nil
}

// splitCSV splits one CSV line (RFC 4180: fields optionally in double quotes, "" for a quote
// inside them) with the same strictness as encoding/csv. It is written here because
// encoding/csv reads from an io.Reader through a 4 KB buffer it allocates per reader, which
// costs more than the parse itself for one line already in memory.
func (p *Parser) splitCSV(line []byte) ([]string, error) {
	// A CR that ends the record is what is left of a CRLF line end, as encoding/csv reads it.
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	comma := byte(',')
	if p.spec.Delimiter != 0 {
		if p.spec.Delimiter >= utf8.RuneSelf {
			return p.readCSV(line)
		}
		comma = byte(p.spec.Delimiter)
	}
	s := string(line) // one copy; unquoted fields are slices of it
	var fields []string
	for i := 0; ; {
		if i < len(s) && s[i] == '"' {
			var b strings.Builder
			j := i + 1
			for {
				k := strings.IndexByte(s[j:], '"')
				if k < 0 {
					return nil, &csv.ParseError{StartLine: 1, Line: 1, Column: i + 1, Err: errors.New("quoted field is not closed")}
				}
				b.WriteString(s[j : j+k])
				j += k + 1
				if j < len(s) && s[j] == '"' { // "" inside quotes
					b.WriteByte('"')
					j++
					continue
				}
				break
			}
			fields = append(fields, b.String())
			switch {
			case j == len(s):
				return fields, nil
			case s[j] == comma:
				i = j + 1
			default:
				return nil, &csv.ParseError{StartLine: 1, Line: 1, Column: j + 1, Err: csv.ErrQuote}
			}
			continue
		}
		end := strings.IndexByte(s[i:], comma)
		field := s[i:]
		if end >= 0 {
			field = s[i : i+end]
		}
		if q := strings.IndexByte(field, '"'); q >= 0 {
			return nil, &csv.ParseError{StartLine: 1, Line: 1, Column: i + q + 1, Err: csv.ErrBareQuote}
		}
		fields = append(fields, field)
		if end < 0 {
			return fields, nil
		}
		i += end + 1
	}
}

// readCSV is splitCSV through encoding/csv, for delimiters that are not one byte.
func (p *Parser) readCSV(line []byte) ([]string, error) {
	cr := csv.NewReader(bytes.NewReader(line))
	cr.Comma = p.spec.Delimiter
	cr.FieldsPerRecord = -1
	fields, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("no fields")
	}
	if err != nil {
		return nil, err
	}
	if _, err := cr.Read(); err != io.EOF {
		return nil, errors.New("more than one CSV record on the line")
	}
	return fields, nil
}
