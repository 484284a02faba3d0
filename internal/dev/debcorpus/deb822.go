package debcorpus

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Sentinel errors wrapped by ParseError.
var (
	// ErrOrphanContinuation: a line starting with a space or tab before any field of its stanza.
	ErrOrphanContinuation = errors.New("continuation line before any field")
	// ErrNoColon: a field line without the "Name: value" colon.
	ErrNoColon = errors.New("field line has no colon")
	// ErrEmptyName: a field line starting with the colon.
	ErrEmptyName = errors.New("field name is empty")
)

// ParseError reports a malformed Deb822 line, with its 1-based line number.
type ParseError struct {
	Line int
	Text string // the offending line, cut to 80 bytes
	Err  error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("deb822 line %d: %v: %q", e.Line, e.Err, e.Text)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Field is one "Name: value" field. Value holds the text after the colon with surrounding
// blanks trimmed, then one "\n"-prefixed line per continuation line with its first blank
// (the continuation marker) removed: "Tag: a,\n b" gives Value "a,\nb".
type Field struct {
	Name  string
	Value string
}

// Stanza is one Deb822 paragraph in file order. Line is the 1-based line of its first field.
type Stanza struct {
	Line   int
	Fields []Field
}

// Get returns the value of the first field named name (Deb822 names are case-insensitive).
func (s Stanza) Get(name string) (string, bool) {
	for _, f := range s.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// maxLine bounds one physical line. Packages files carry Depends/Provides lines of a few KB;
// 4 MiB leaves room for anything apt itself accepts without letting a corrupt file eat memory.
const maxLine = 4 << 20

// Reader reads Deb822 stanzas (Debian Packages, Sources, Translation-*, control files):
// "Name: value" fields, continuation lines starting with a space or tab, stanzas separated by
// blank lines (lines of only spaces and tabs count as blank, as Debian policy allows), and
// "#" comment lines outside values skipped.
type Reader struct {
	sc   *bufio.Scanner
	line int
	err  error
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	return &Reader{sc: sc}
}

// Next returns the next stanza, or io.EOF after the last one. A *ParseError stops the reader:
// later calls return the same error.
func (r *Reader) Next() (Stanza, error) {
	if r.err != nil {
		return Stanza{}, r.err
	}
	var st Stanza
	// The value of the field being read is built in b, so that a long description of many
	// continuation lines costs one allocation rather than one per line.
	var b strings.Builder
	open := false // a field is open in b
	flush := func() {
		if open {
			st.Fields[len(st.Fields)-1].Value = b.String()
			b.Reset()
			open = false
		}
	}
	for r.sc.Scan() {
		r.line++
		line := strings.TrimSuffix(r.sc.Text(), "\r")
		if strings.TrimLeft(line, " \t") == "" {
			if len(st.Fields) > 0 {
				flush()
				return st, nil
			}
			continue
		}
		switch c := line[0]; {
		case c == ' ' || c == '\t':
			if !open {
				return r.fail(line, ErrOrphanContinuation)
			}
			b.WriteByte('\n')
			b.WriteString(line[1:])
		case c == '#':
			// A comment; Debian control files allow them, apt's lists never carry them.
		default:
			i := strings.IndexByte(line, ':')
			if i < 0 {
				return r.fail(line, ErrNoColon)
			}
			name := strings.TrimSpace(line[:i])
			if name == "" {
				return r.fail(line, ErrEmptyName)
			}
			flush()
			if len(st.Fields) == 0 {
				st.Line = r.line
			}
			st.Fields = append(st.Fields, Field{Name: name})
			b.WriteString(strings.Trim(line[i+1:], " \t"))
			open = true
		}
	}
	if err := r.sc.Err(); err != nil {
		r.err = fmt.Errorf("deb822 after line %d: %w", r.line, err)
		return Stanza{}, r.err
	}
	if len(st.Fields) > 0 {
		flush()
		return st, nil
	}
	r.err = io.EOF
	return Stanza{}, io.EOF
}

func (r *Reader) fail(line string, err error) (Stanza, error) {
	if len(line) > 80 {
		line = line[:80]
	}
	r.err = &ParseError{Line: r.line, Text: line, Err: err}
	return Stanza{}, r.err
}
