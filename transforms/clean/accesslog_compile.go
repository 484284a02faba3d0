package clean

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Compiling an Apache LogFormat string into ops.

// kind is what a field op stores.
type kind uint8

const (
	kLiteral kind = iota
	kHost
	kIdent
	kUser
	kTimeCLF    // %t: [10/Oct/2000:13:55:36 -0700]
	kTimeLocal  // nginx $time_local: the same without brackets
	kTimeLayout // %{strftime}t, nginx $time_iso8601: time.Parse with a layout
	kTimeEpoch  // %{sec}t, %{msec}t, %{usec}t, nginx $msec (seconds with a fraction)
	kRequest
	kMethod
	kURLPath     // %U, nginx $uri
	kQuery       // %q: "" or "?a=b"
	kQueryArgs   // nginx $args: "a=b" without "?"
	kRequestURI  // nginx $request_uri: path and query
	kProtocol    // %H
	kStatus      // %s, %>s
	kBytes       // %b, %B
	kBytesIn     // %I
	kBytesOut    // %O
	kReferer     // %{Referer}i
	kUserAgent   // %{User-Agent}i
	kVHost       // %v, %V
	kDuration    // %D, %T, %{ms}T …: integer in unit
	kDurationDec // nginx $request_time: seconds with a decimal fraction
	kRemoteIP    // %a
	kLocalIP     // %A
	kPort        // %p
	kExtra
)

var kindNames = [...]string{
	kLiteral: "literal", kHost: "host", kIdent: "ident", kUser: "user", kTimeCLF: "time", kTimeLocal: "time",
	kTimeLayout: "time", kTimeEpoch: "time", kRequest: "request", kMethod: "method", kURLPath: "path",
	kQuery: "query", kQueryArgs: "query", kRequestURI: "path", kProtocol: "protocol", kStatus: "status",
	kBytes: "bytes", kBytesIn: "bytes_in", kBytesOut: "bytes_out", kReferer: "referer", kUserAgent: "user_agent",
	kVHost: "vhost", kDuration: "duration", kDurationDec: "duration", kRemoteIP: "remote_ip",
	kLocalIP: "local_ip", kPort: "port",
}

// text kinds may contain spaces; the others are atoms that end at a space when nothing follows.
func (k kind) text() bool {
	switch k {
	case kRequest, kReferer, kUserAgent, kURLPath, kQuery, kQueryArgs, kRequestURI, kExtra, kTimeLayout:
		return true
	}
	return false
}

type op struct {
	kind kind
	lit  string // the literal, for kLiteral
	name string // the field's name in errors and Extra
	// How the field ends: at the stop byte (the next literal's first byte), or at the end of
	// the line when stop is 0. Quoted fields skip backslash-escaped bytes while looking for it.
	stop   byte
	quoted bool
	// nstop is how many stop bytes the field itself contains (a time layout with spaces).
	nstop int
	// untilQuery ends a %U at '?' when %q follows with no literal between.
	untilQuery bool
	unit       time.Duration // for kDuration and kTimeEpoch
	layout     string        // for kTimeLayout
}

// LogFormat is a compiled access-log format. It is immutable and safe for concurrent use.
type LogFormat struct {
	spec string
	ops  []op
	// bytesFromOut: the format has %O but no %b or %B, so Hit.Bytes is %O.
	bytesFromOut bool
}

// String is the format as given to CompileLogFormat.
func (f *LogFormat) String() string { return f.spec }

// CompileLogFormat compiles an access-log format: a name (common, combined, vhost_combined,
// combinedio, nginx), an Apache LogFormat string (`%h %l %u %t "%r" %>s %b`, with `\"` for a
// quote as in httpd.conf, or a plain quote), or an nginx log_format string
// (`$remote_addr - $remote_user [$time_local] "$request" …`). Apache's conditions and
// modifiers (%400,501{User-agent}i, %>s, %{c}a) are accepted; directives without a Hit field
// go to Hit.Extra. Two directives need a literal between them, except %U%q.
func CompileLogFormat(format string) (*LogFormat, error) {
	spec := format
	if named, ok := namedFormats[strings.ToLower(strings.TrimSpace(format))]; ok {
		format = named
	}
	if strings.TrimSpace(format) == "" {
		return nil, errors.New("clean: the log format is empty")
	}
	f := &LogFormat{spec: spec}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.ops = append(f.ops, op{kind: kLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(format); {
		c := format[i]
		switch {
		case c == '\\' && i+1 < len(format):
			// httpd.conf escapes, which people paste along with the format.
			switch format[i+1] {
			case 'n':
				lit.WriteByte('\n')
			case 't':
				lit.WriteByte('\t')
			default:
				lit.WriteByte(format[i+1])
			}
			i += 2
		case c == '%' && i+1 < len(format) && format[i+1] == '%':
			lit.WriteByte('%')
			i += 2
		case c == '%':
			o, n, err := apacheDirective(format[i:])
			if err != nil {
				return nil, fmt.Errorf("clean: log format %q at byte %d: %w", spec, i+1, err)
			}
			flush()
			f.ops = append(f.ops, o)
			i += n
		case c == '$' && i+1 < len(format) && (isVarByte(format[i+1]) || format[i+1] == '{'):
			o, n, err := nginxVariable(format[i:])
			if err != nil {
				return nil, fmt.Errorf("clean: log format %q at byte %d: %w", spec, i+1, err)
			}
			flush()
			f.ops = append(f.ops, o)
			i += n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	if err := f.link(); err != nil {
		return nil, fmt.Errorf("clean: log format %q: %w", spec, err)
	}
	return f, nil
}

// MustCompileLogFormat is CompileLogFormat that panics, for formats fixed in code.
func MustCompileLogFormat(format string) *LogFormat {
	f, err := CompileLogFormat(format)
	if err != nil {
		panic(err)
	}
	return f
}

// link decides how each field ends from the literals around it.
func (f *LogFormat) link() error {
	hasB, hasO := false, false
	nfields := 0
	for i := range f.ops {
		o := &f.ops[i]
		if o.kind == kLiteral {
			continue
		}
		nfields++
		switch o.kind {
		case kBytes:
			hasB = true
		case kBytesOut:
			hasO = true
		}
		var prev, next *op
		if i > 0 {
			prev = &f.ops[i-1]
		}
		if i+1 < len(f.ops) {
			next = &f.ops[i+1]
		}
		switch {
		case next == nil:
			if !o.kind.text() {
				o.stop = ' ' // tolerate fields the format does not name after the last one
			}
		case next.kind == kLiteral:
			o.stop = next.lit[0]
			o.quoted = prev != nil && prev.kind == kLiteral && strings.HasSuffix(prev.lit, `"`) && o.stop == '"'
			switch o.kind {
			case kTimeLayout:
				o.nstop = strings.Count(o.layout, string(o.stop))
			case kTimeLocal:
				o.nstop = strings.Count(clfLayout, string(o.stop))
			}
		case o.kind == kURLPath && next.kind == kQuery:
			o.untilQuery = true
		default:
			return fmt.Errorf("fields %s and %s have no literal between them to tell where one ends", o.name, next.name)
		}
	}
	if nfields == 0 {
		return errors.New("no field directive (%h, %t, $remote_addr, …)")
	}
	for i := range f.ops {
		if f.ops[i].untilQuery {
			f.ops[i].stop = f.ops[i+1].stop
		}
	}
	f.bytesFromOut = hasO && !hasB
	return nil
}

// apacheDirective reads one %-directive at the start of s: %[<>][!][status,…][{param}]X.
func apacheDirective(s string) (op, int, error) {
	i := 1
	for i < len(s) && (s[i] == '<' || s[i] == '>' || s[i] == '!' || s[i] == ',' || (s[i] >= '0' && s[i] <= '9')) {
		i++
	}
	param := ""
	if i < len(s) && s[i] == '{' {
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return op{}, 0, errors.New("unclosed { in directive")
		}
		param = s[i+1 : i+end]
		i += end + 1
	}
	if i >= len(s) {
		return op{}, 0, fmt.Errorf("directive %q has no letter", s)
	}
	letter := s[i]
	name := s[:i+1]
	o := op{name: name}
	switch letter {
	case 'h':
		o.kind = kHost
		if param == "c" { // %{c}h: the peer of the connection
			o.kind = kExtra
		}
	case 'a':
		o.kind = kRemoteIP
		if param == "c" {
			o.kind = kExtra
		}
	case 'A':
		o.kind = kLocalIP
	case 'l':
		o.kind = kIdent
	case 'u':
		o.kind = kUser
	case 't':
		if err := timeDirective(&o, param); err != nil {
			return op{}, 0, err
		}
	case 'r':
		o.kind = kRequest
	case 'm':
		o.kind = kMethod
	case 'U':
		o.kind = kURLPath
	case 'q':
		o.kind = kQuery
	case 'H':
		o.kind = kProtocol
	case 's':
		o.kind = kStatus
	case 'b', 'B':
		o.kind = kBytes
	case 'I':
		o.kind = kBytesIn
	case 'O':
		o.kind = kBytesOut
	case 'v', 'V':
		o.kind = kVHost
	case 'D':
		o.kind, o.unit = kDuration, time.Microsecond
	case 'T':
		o.kind, o.unit = kDuration, time.Second
		switch param {
		case "", "s":
		case "ms":
			o.unit = time.Millisecond
		case "us":
			o.unit = time.Microsecond
		default:
			return op{}, 0, fmt.Errorf("%%{%s}T: unit is not s, ms or us", param)
		}
	case 'p':
		o.kind = kPort
		if param == "remote" {
			o.kind = kExtra
		}
	case 'i':
		switch strings.ToLower(param) {
		case "referer", "referrer":
			o.kind = kReferer
		case "user-agent":
			o.kind = kUserAgent
		default:
			o.kind = kExtra
		}
	case 'e', 'o', 'n', 'C', 'f', 'k', 'L', 'P', 'R', 'X', 'S', '^':
		o.kind = kExtra
		if letter == '^' { // %{VARNAME}^ti / ^to: trailers, two letters
			if i+2 >= len(s) {
				return op{}, 0, fmt.Errorf("directive %q is cut short", s)
			}
			i += 2
			o.name = s[:i+1]
		}
	default:
		return op{}, 0, fmt.Errorf("unknown directive %%%c", letter)
	}
	if o.kind != kExtra {
		o.name = kindNames[o.kind]
	}
	return o, i + 1, nil
}

// timeDirective sets o for %t or %{format}t.
func timeDirective(o *op, param string) error {
	param = strings.TrimPrefix(strings.TrimPrefix(param, "begin:"), "end:")
	switch param {
	case "":
		o.kind = kTimeCLF
	case "sec":
		o.kind, o.unit = kTimeEpoch, time.Second
	case "msec":
		o.kind, o.unit = kTimeEpoch, time.Millisecond
	case "usec":
		o.kind, o.unit = kTimeEpoch, time.Microsecond
	case "msec_frac", "usec_frac":
		o.kind = kExtra
	default:
		layout, err := strftimeLayout(param)
		if err != nil {
			return err
		}
		if layout == clfLayout {
			o.kind = kTimeLocal
		} else {
			o.kind, o.layout = kTimeLayout, layout
		}
	}
	return nil
}

// strftimeLayout turns a strftime format into a Go time layout.
func strftimeLayout(f string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b.WriteString("2006")
		case 'y':
			b.WriteString("06")
		case 'm':
			b.WriteString("01")
		case 'd':
			b.WriteString("02")
		case 'e':
			b.WriteString("_2")
		case 'b', 'h':
			b.WriteString("Jan")
		case 'B':
			b.WriteString("January")
		case 'a':
			b.WriteString("Mon")
		case 'A':
			b.WriteString("Monday")
		case 'H':
			b.WriteString("15")
		case 'I':
			b.WriteString("03")
		case 'M':
			b.WriteString("04")
		case 'S':
			b.WriteString("05")
		case 'p':
			b.WriteString("PM")
		case 'z':
			b.WriteString("-0700")
		case 'Z':
			b.WriteString("MST")
		case 'j':
			b.WriteString("002")
		case 'T':
			b.WriteString("15:04:05")
		case 'F':
			b.WriteString("2006-01-02")
		case 'D':
			b.WriteString("01/02/06")
		case 'R':
			b.WriteString("15:04")
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("time format %%%c is not supported in %%{…}t", f[i])
		}
	}
	return b.String(), nil
}
