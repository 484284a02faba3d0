package clean

import (
	"fmt"
	"strings"
	"time"
)

// The scanner: one line against the compiled ops, into a Hit.

// Parse parses one line (without its newline) into h, which it resets first; h.Extra keeps
// its capacity, so a Hit reused across lines parses without allocating. Strings in h are
// substrings of line. Text after the last field of the format is ignored, as Apache's own
// tools and GoAccess do, so a format may name fewer fields than a line has. The error is a
// *LogError.
func (f *LogFormat) Parse(line string, h *Hit) error {
	extra := h.Extra[:0]
	*h = Hit{Extra: extra}
	pos := 0
	uStart, uEnd := -1, -1
	for i := range f.ops {
		o := &f.ops[i]
		if o.kind == kLiteral {
			if !strings.HasPrefix(line[pos:], o.lit) {
				return f.literalError(line, pos, i)
			}
			pos += len(o.lit)
			continue
		}
		end, err := o.end(line, pos)
		if err != nil {
			return err
		}
		v := line[pos:end]
		if err := f.set(o, v, pos, h); err != nil {
			return err
		}
		switch o.kind {
		case kURLPath:
			uStart, uEnd = pos, end
		case kQuery:
			if uEnd == pos && uStart >= 0 {
				h.Path = line[uStart:end] // %U%q side by side: one substring, no copy
			} else if v != "" && v != "-" {
				h.Path += v
			}
		}
		pos = end
	}
	if f.bytesFromOut {
		h.Bytes = h.BytesOut
	}
	return nil
}

// ParseBytes is Parse for a line in a byte slice. It copies the line into one string (one
// allocation) so that h owns its strings and the caller may reuse line's buffer.
func (f *LogFormat) ParseBytes(line []byte, h *Hit) error { return f.Parse(string(line), h) }

// end finds where o's field ends in line, starting at pos.
func (o *op) end(line string, pos int) (int, error) {
	rest := line[pos:]
	switch {
	case o.kind == kTimeCLF:
		// [10/Oct/2000:13:55:36 -0700] has a space inside: it ends at its bracket.
		if j := strings.IndexByte(rest, ']'); len(rest) > 0 && rest[0] == '[' && j > 0 {
			return pos + j + 1, nil
		}
		return 0, &LogError{Column: pos + 1, Field: o.name, Reason: ReasonBadTime, Err: ErrBadTime,
			Msg: "no [time] where the format has %t"}
	case o.quoted:
		for i := 0; ; {
			j := strings.IndexByte(rest[i:], '"')
			if j < 0 {
				return 0, &LogError{Column: pos + 1, Field: o.name, Reason: ReasonLogSyntax, Err: ErrLogSyntax,
					Msg: "quoted field is not closed"}
			}
			i += j
			// A quote preceded by an odd number of backslashes is escaped (\" inside, \\" closing).
			bs := 0
			for k := i - 1; k >= 0 && rest[k] == '\\'; k-- {
				bs++
			}
			if bs%2 == 0 {
				return pos + i, nil
			}
			i++
		}
	case o.untilQuery:
		// %U%q: the path ends at '?' or, with no query, where %q ends.
		end := len(rest)
		if o.stop != 0 {
			if j := strings.IndexByte(rest, o.stop); j >= 0 {
				end = j
			}
		}
		if j := strings.IndexByte(rest[:end], '?'); j >= 0 {
			end = j
		}
		return pos + end, nil
	case o.stop != 0:
		// A missing stop byte is reported by the literal that should follow, which names the field.
		i := 0
		for n := 0; ; n++ {
			j := strings.IndexByte(rest[i:], o.stop)
			if j < 0 {
				return len(line), nil
			}
			if n == o.nstop {
				return pos + i + j, nil
			}
			i += j + 1
		}
	}
	return len(line), nil
}

// literalError reports the literal at ops[i] missing at pos: the field it introduces is
// missing or, when none follows, the one before it ran on.
func (f *LogFormat) literalError(line string, pos, i int) error {
	name := "end"
	if i+1 < len(f.ops) {
		name = f.ops[i+1].name
	} else if i > 0 {
		name = f.ops[i-1].name
	}
	found := line[pos:]
	if len(found) > 12 {
		found = found[:12] + "…"
	}
	msg := fmt.Sprintf("expected %q, found %q", f.ops[i].lit, found)
	if pos == len(line) {
		msg = fmt.Sprintf("line ends where %q was expected", f.ops[i].lit)
	}
	return &LogError{Column: pos + 1, Field: name, Reason: ReasonLogSyntax, Err: ErrLogSyntax, Msg: msg}
}

func dash(v string) string {
	if v == "-" {
		return ""
	}
	return v
}

// set stores v, the text of o's field found at pos, into h.
func (f *LogFormat) set(o *op, v string, pos int, h *Hit) error {
	switch o.kind {
	case kHost:
		if v == "" || v == "-" {
			return &LogError{Column: pos + 1, Field: o.name, Reason: ReasonLogSyntax, Err: ErrLogSyntax, Msg: "empty client host"}
		}
		h.Host = v
	case kIdent:
		h.Ident = dash(v)
	case kUser:
		h.User = dash(v)
	case kTimeCLF, kTimeLocal:
		s := v
		if o.kind == kTimeCLF {
			if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
				return timeError(o, v, pos)
			}
			s = s[1 : len(s)-1]
		}
		t, ok := parseCLFTime(s)
		if !ok {
			return timeError(o, v, pos)
		}
		h.Time = t
	case kTimeLayout:
		t, err := time.Parse(o.layout, v)
		if err != nil {
			return timeError(o, v, pos)
		}
		h.Time = t
	case kTimeEpoch:
		d, ok := parseDecimal(v, o.unit)
		if !ok || d < 0 {
			return timeError(o, v, pos)
		}
		h.Time = time.Unix(0, int64(d)).UTC()
	case kRequest:
		h.Request = v
		h.Method, h.Path, h.Protocol = SplitRequestLine(v)
	case kMethod:
		h.Method = dash(v)
	case kURLPath:
		h.Path = dash(v)
	case kQuery:
		// Joined with the path by Parse.
	case kQueryArgs:
		if v != "" && v != "-" {
			h.Path += "?" + v
		}
	case kRequestURI:
		h.Path = dash(v)
	case kProtocol:
		h.Protocol = dash(v)
	case kStatus:
		n, ok := parseUint(v)
		if !ok || n < 100 || n > 599 {
			return &LogError{Column: pos + 1, Field: o.name, Reason: ReasonBadStatus, Err: ErrBadStatus,
				Msg: fmt.Sprintf("status %q is not a number from 100 to 599", v)}
		}
		h.Status = int(n)
	case kBytes, kBytesIn, kBytesOut, kPort:
		var n int64
		if v != "-" {
			var ok bool
			if n, ok = parseUint(v); !ok {
				return numberError(o, v, pos)
			}
		}
		switch o.kind {
		case kBytes:
			h.Bytes = n
		case kBytesIn:
			h.BytesIn = n
		case kBytesOut:
			h.BytesOut = n
		case kPort:
			h.Port = int(n)
		}
	case kDuration, kDurationDec:
		if v == "-" {
			return nil
		}
		unit := o.unit
		if o.kind == kDurationDec {
			unit = time.Second
		}
		d, ok := parseDecimal(v, unit)
		if !ok || (o.kind == kDuration && strings.IndexByte(v, '.') >= 0) {
			return numberError(o, v, pos)
		}
		// The first non-zero duration wins: formats list %D before %T, and %T is whole seconds.
		if h.Duration == 0 {
			h.Duration = d
		}
	case kReferer:
		h.Referer = dash(v)
	case kUserAgent:
		h.UserAgent = dash(v)
	case kVHost:
		h.VHost = dash(v)
	case kRemoteIP:
		h.RemoteIP = dash(v)
	case kLocalIP:
		h.LocalIP = dash(v)
	case kExtra:
		h.Extra = append(h.Extra, Field{Name: o.name, Value: dash(v)})
	}
	return nil
}

func timeError(o *op, v string, pos int) error {
	return &LogError{Column: pos + 1, Field: o.name, Reason: ReasonBadTime, Err: ErrBadTime, Msg: fmt.Sprintf("time %q does not read", v)}
}

func numberError(o *op, v string, pos int) error {
	return &LogError{Column: pos + 1, Field: o.name, Reason: ReasonBadNumber, Err: ErrBadNumber,
		Msg: fmt.Sprintf("%q is not a number or -", v)}
}

// parseUint reads 1 to 18 decimal digits, which cannot overflow an int64.
func parseUint(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	return n, true
}

// parseDecimal reads digits with an optional fraction ("0.123") as a count of unit.
func parseDecimal(s string, unit time.Duration) (time.Duration, bool) {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	n, ok := parseUint(intPart)
	if !ok || (hasFrac && (frac == "" || len(frac) > 9)) {
		return 0, false
	}
	d := time.Duration(n) * unit
	if hasFrac {
		f, ok := parseUint(frac)
		if !ok {
			return 0, false
		}
		scale := int64(1)
		for range len(frac) {
			scale *= 10
		}
		d += time.Duration(f * int64(unit) / scale)
	}
	return d, true
}
