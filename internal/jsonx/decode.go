package jsonx

import (
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// decodeFast is DecodeObject's first try: a decoder written for the one shape every parsed
// record has, a JSON object decoded into map[string]any with numbers as Number. It is here
// because no library decodes that shape without an allocation per value: goccy/go-json spent
// two thirds of its time in the allocator on an order record (internal/dev/benchingest profile),
// growing each map entry by entry and boxing each string into an interface on its own.
// decodeFast instead
//   - gathers an object's members first and makes its map at its final size;
//   - makes arrays at their final length;
//   - boxes strings and numbers into interfaces pointing into one shared slab per record;
//   - shares the bytes of unescaped strings and of numbers with the input (the input must not
//     change afterwards, as DecodeObject's doc says).
//
// It accepts only what encoding/json accepts, and returns the same values, except that an
// object naming a member twice is refused: dup is then the dotted path of the repeated key
// (with ok false). On anything else it does
// not handle — a syntax error, invalid UTF-8 inside a string, nesting over maxDepth, a value
// that is not an object — it returns ok false and DecodeObject takes the library path, which
// produces the errors and their offsets exactly as before. FuzzDecodeFast holds it to
// encoding/json.
func decodeFast(b []byte) (m map[string]any, dup string, ok bool) {
	d := decoders.Get().(*decoder)
	d.b, d.i, d.dup = b, 0, ""
	d.skipSpace()
	if d.i < len(b) && b[d.i] == '{' {
		var v any
		if v, ok = d.object(0); ok {
			d.skipSpace()
			if ok = d.i == len(b); ok {
				m = v.(map[string]any)
			}
		}
	}
	dup = d.dup
	d.release()
	return m, dup, ok
}

// maxDepth bounds nesting; deeper documents take the library path (encoding/json allows 10000).
const maxDepth = 1000

type member struct {
	k string
	v any
}

type decoder struct {
	b       []byte
	i       int
	members []member // the members of the objects being decoded, innermost last
	elems   []any    // the elements of the arrays being decoded, innermost last
	slab    []string // string and number values; the interfaces point into it
	buf     []byte   // unescaping
	dup     string   // the path of a repeated key, built from the inside out as objects unwind
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// release returns d to the pool, holding no value of the record just decoded. An object or
// array that completes clears its own members and truncates to them, so only a failed decode
// leaves any, all below the length.
func (d *decoder) release() {
	clear(d.members)
	clear(d.elems)
	d.members, d.elems = d.members[:0], d.elems[:0]
	// The slab belongs to the values just returned; the next record starts a new one.
	d.slab, d.b = nil, nil
	decoders.Put(d)
}

// eface is the layout of an interface{} value: its type, and a pointer to its value.
type eface struct {
	typ, data unsafe.Pointer
}

var (
	stringType = typeOf("")
	numberType = typeOf(Number(""))
)

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// box returns s as an interface of the type typ (string or Number) without an allocation of
// its own: the interface points at a slot of the slab, as the runtime's own conversion would
// point at a fresh copy. The slab is reallocated, never grown in place, so the slots already
// handed out stay where they are.
func (d *decoder) box(s string, typ unsafe.Pointer) (v any) {
	if len(d.slab) == cap(d.slab) {
		d.slab = make([]string, 0, 16)
	}
	d.slab = append(d.slab, s)
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, unsafe.Pointer(&d.slab[len(d.slab)-1])
	return v
}

func (d *decoder) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// value decodes the value at d.i, which is not white space.
func (d *decoder) value(depth int) (any, bool) {
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		s, ok := d.str()
		if !ok {
			return nil, false
		}
		return d.box(s, stringType), true
	case c == '-' || (c >= '0' && c <= '9'):
		s, ok := d.number()
		if !ok {
			return nil, false
		}
		return d.box(s, numberType), true
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

func (d *decoder) literal(word string) bool {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return false
	}
	d.i += len(word)
	return true
}

// open steps into the object or array at d.i, nested depth deep; empty reports that it
// closes at once, with end.
func (d *decoder) open(depth int, end byte) (empty, ok bool) {
	if depth > maxDepth {
		return false, false
	}
	d.i++
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == end {
		d.i++
		return true, true
	}
	return false, true
}

// object decodes the object at d.i ('{').
func (d *decoder) object(depth int) (any, bool) {
	start := len(d.members)
	if empty, ok := d.open(depth, '}'); !ok || empty {
		return map[string]any{}, ok
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, false
		}
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.skipSpace()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.skipSpace()
		v, ok := d.value(depth)
		if !ok {
			if d.dup != "" { // a repeated key further in: prefix its path with this member's
				d.dup = pathSegment(k) + "." + d.dup
			}
			return nil, false
		}
		d.members = append(d.members, member{k, v})
		closed, ok := d.sep('}')
		if !ok {
			return nil, false
		}
		if !closed {
			continue
		}
		ms := d.members[start:]
		m := make(map[string]any, mapHint(len(ms)))
		for _, e := range ms {
			m[e.k] = e.v
		}
		// A repeated key leaves the map smaller than the member list: encoding/json would keep
		// the last value, a silent choice between two values a producer sent. Comparing two
		// lengths costs nothing per record; only a refused record pays for finding the name.
		if len(m) != len(ms) {
			d.dup = pathSegment(repeated(ms))
			clear(ms)
			d.members = d.members[:start]
			return nil, false
		}
		clear(ms)
		d.members = d.members[:start]
		return m, true
	}
}

// repeated returns the first key of ms that an earlier member already has.
func repeated(ms []member) string {
	seen := make(map[string]bool, len(ms))
	for _, e := range ms {
		if seen[e.k] {
			return e.k
		}
		seen[e.k] = true
	}
	return ""
}

// sep steps over what follows a member or an element: a comma, or end, which closed reports.
func (d *decoder) sep(end byte) (closed, ok bool) {
	d.skipSpace()
	if d.i >= len(d.b) {
		return false, false
	}
	switch d.b[d.i] {
	case ',':
		d.i++
		d.skipSpace()
		return false, true
	case end:
		d.i++
		return true, true
	}
	return false, false
}

// mapHint is the size to make a map of n members with. Go's runtime keeps a map of up to
// eight entries in one group, and a full group turns into a table on any write, even to a key
// it holds (internal/runtime/maps, Go 1.26): records are normalised in place, so an
// eight-member object is made a table at once instead of being copied into one at its first
// write.
func mapHint(n int) int {
	if n == 8 {
		return 9
	}
	return n
}

// array decodes the array at d.i ('[').
func (d *decoder) array(depth int) (any, bool) {
	start := len(d.elems)
	if empty, ok := d.open(depth, ']'); !ok || empty {
		return []any{}, ok
	}
	for {
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		d.elems = append(d.elems, v)
		closed, ok := d.sep(']')
		if !ok {
			return nil, false
		}
		if !closed {
			continue
		}
		es := d.elems[start:]
		a := make([]any, len(es))
		copy(a, es)
		clear(es)
		d.elems = d.elems[:start]
		return a, true
	}
}

// number scans the number at d.i and returns its text, shared with the input.
func (d *decoder) number() (string, bool) {
	b, i := d.b, d.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	default:
		return "", false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return "", false
		}
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return "", false
		}
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		}
	}
	s := unsafe.String(&b[d.i], i-d.i)
	d.i = i
	return s, true
}

// str scans the string at d.i ('"'). Without escapes it shares the input's bytes.
func (d *decoder) str() (string, bool) {
	b := d.b
	start := d.i + 1
	ascii := true
	for i := start; i < len(b); i++ {
		if plain[b[i]] {
			continue
		}
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			if i == start {
				return "", true
			}
			s := unsafe.String(&b[start], i-start)
			if !ascii && !utf8.ValidString(s) {
				return "", false // encoding/json replaces invalid bytes; leave that to it
			}
			return s, true
		case c == '\\':
			return d.unescape(start, i)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// plain marks the bytes a string holds as they are: not a quote, a backslash, a control
// character or part of a multi-byte sequence.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// unescape decodes the string from start, whose first escape is at esc, into a new string.
func (d *decoder) unescape(start, esc int) (string, bool) {
	b := d.b
	buf := append(d.buf[:0], b[start:esc]...)
	i := esc
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
			d.buf = buf
			if !utf8.Valid(buf) {
				return "", false
			}
			return string(buf), true
		case c < 0x20:
			return "", false
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return "", false
		}
		i++
		switch b[i] {
		case '"', '\\', '/':
			buf = append(buf, b[i])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(b, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// A pair makes one rune; a lone half is U+FFFD, as encoding/json has it.
				r2, ok := rune(-1), false
				if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					r2, ok = hex4(b, i+3)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", false
		}
		i++
	}
	return "", false
}

// hex4 reads the four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
