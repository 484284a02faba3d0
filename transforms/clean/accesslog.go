package clean

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Apache and nginx access logs.
//
// A LogFormat is compiled once from an Apache LogFormat string (or an nginx log_format, or a
// named format) into a list of ops — literals to match and fields to cut out — and then
// parses each line with a hand-written byte scanner into a Hit, without allocating: the
// strings of a Hit are substrings of the line, and its time is built without time.Parse.

// Named log formats, as Apache's and nginx's default configurations define them.
const (
	// FormatCommon is Apache's common log format (CLF).
	FormatCommon = `%h %l %u %t "%r" %>s %b`
	// FormatCombined is Apache's combined log format (Debian's apache2.conf logs %O where
	// upstream logs %b; both are the response size at the same position).
	FormatCombined = `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"`
	// FormatVhostCombined is Debian's vhost_combined: combined with the virtual host and port first.
	FormatVhostCombined = `%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`
	// FormatCombinedIO is combined followed by bytes received and sent (mod_logio).
	FormatCombinedIO = `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %I %O`
	// FormatNginxCombined is nginx's predefined combined format.
	FormatNginxCombined = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
)

// namedFormats maps the names CompileLogFormat accepts to their format strings.
var namedFormats = map[string]string{
	"common":         FormatCommon,
	"clf":            FormatCommon,
	"combined":       FormatCombined,
	"vhost_combined": FormatVhostCombined,
	"combinedio":     FormatCombinedIO,
	"nginx":          FormatNginxCombined,
	"nginx_combined": FormatNginxCombined,
}

// Hit is one access-log line.
//
// Strings are substrings of the parsed line (Parse never copies): they stay valid as long as
// the line does, which for a Go string is as long as anything refers to it. Optional fields
// the server logged as "-" are empty, except Request, which keeps the request line exactly as
// logged ("-" included) because it is the evidence when the request was not HTTP. Escape
// sequences written by the server (\" \\ \xhh) are kept as logged; Unescape decodes them.
type Hit struct {
	Host  string // %h: client IP address or host name (IPv4, IPv6 or a resolved name)
	Ident string // %l: identd user, almost always empty
	User  string // %u: authenticated user
	// Time is %t in the offset the server logged it in, so Time.Day() is the server's day.
	Time time.Time
	// Request is %r, the request line as logged.
	Request string
	// Method, Path and Protocol come from Request when it is an HTTP request line ("GET
	// /a?b=1 HTTP/1.1", or "GET /a" from an HTTP/0.9 client), or from %m, %U%q and %H. They
	// are empty when the request was not HTTP: a TLS handshake sent to a plain-HTTP port, a
	// port scanner's bytes, an empty request. Path includes the query string.
	Method   string
	Path     string
	Protocol string
	Status   int   // %>s / %s
	Bytes    int64 // %b / %B: response body bytes, "-" as 0; %O when the format has neither
	Referer  string
	// UserAgent is %{User-Agent}i.
	UserAgent string
	VHost     string        // %v / %V
	Duration  time.Duration // %D, %T, %{ms}T, nginx $request_time
	BytesIn   int64         // %I: bytes received, headers included
	BytesOut  int64         // %O: bytes sent, headers included
	RemoteIP  string        // %a
	LocalIP   string        // %A
	Port      int           // %p: the server's port
	// Extra holds every other directive of the format, named as written (%{X-Forwarded-For}i,
	// %k, $upstream_response_time), in format order.
	Extra []Field

	// Where the line came from; ParseAccessLog fills these from the record, Parse leaves them.
	Source   string
	Origin   string
	Line     int64 // 1-based line number within Origin, 0 when unknown
	RecordID string
}

// Field is a named value of a Hit that has no field of its own.
type Field struct {
	Name  string
	Value string
}

// URLPath is Path without its query string.
func (h *Hit) URLPath() string {
	if i := strings.IndexByte(h.Path, '?'); i >= 0 {
		return h.Path[:i]
	}
	return h.Path
}

// Query is the query string of Path, without the "?".
func (h *Hit) Query() string {
	if i := strings.IndexByte(h.Path, '?'); i >= 0 {
		return h.Path[i+1:]
	}
	return ""
}

// IsHTTP reports whether the request line was an HTTP request.
func (h *Hit) IsHTTP() bool { return h.Method != "" }

// ExtraValue returns the value of the Extra field named name.
func (h *Hit) ExtraValue(name string) (string, bool) {
	for _, f := range h.Extra {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// Clone returns a copy of h whose strings share no memory with the parsed line, for a
// caller that parsed a []byte it is going to reuse (see ParseBytes).
func (h *Hit) Clone() Hit {
	c := *h
	for _, p := range []*string{&c.Host, &c.Ident, &c.User, &c.Request, &c.Method, &c.Path, &c.Protocol,
		&c.Referer, &c.UserAgent, &c.VHost, &c.RemoteIP, &c.LocalIP} {
		*p = strings.Clone(*p)
	}
	if h.Extra != nil {
		c.Extra = make([]Field, len(h.Extra))
		for i, f := range h.Extra {
			c.Extra[i] = Field{strings.Clone(f.Name), strings.Clone(f.Value)}
		}
	}
	return c
}

// Reason codes of access-log lines.
const (
	// ReasonLogSyntax: the line does not have the format's shape; the detail names the field
	// (log_syntax:referer when a common-format line is read as combined).
	ReasonLogSyntax = "log_syntax"
	// ReasonLogComment: a line starting with '#', which log analysers skip.
	ReasonLogComment = "log_comment"
	ReasonBadTime    = "bad_time"
	ReasonBadStatus  = "bad_status"
	// ReasonBadNumber: a size, duration or port that is not a number (or "-"); detail is the field.
	ReasonBadNumber = "bad_number"
)

// Sentinel errors a *LogError wraps.
var (
	ErrLogSyntax = errors.New("line does not match the log format")
	ErrBadTime   = errors.New("bad time")
	ErrBadStatus = errors.New("bad HTTP status")
	ErrBadNumber = errors.New("bad number")
)

// LogError is an access-log line that does not parse: where, which field, and why.
type LogError struct {
	// Column is the 1-based byte offset in the line where the failing field (or the literal
	// expected before it) starts.
	Column int
	// Field is the field's name: host, time, request, status, bytes, referer, user_agent, …
	// or the directive as written for a field without a name.
	Field string
	// Reason is a code (ReasonLogSyntax, ReasonBadTime, …) and Msg says what was found.
	Reason string
	Msg    string
	Err    error
}

func (e *LogError) Error() string {
	return fmt.Sprintf("column %d, %s: %s", e.Column, e.Field, e.Msg)
}

func (e *LogError) Unwrap() error { return e.Err }

// ReasonCode is the dead-letter reason: bad_time and bad_status alone, the others with the field.
func (e *LogError) ReasonCode() string {
	switch e.Reason {
	case ReasonBadTime, ReasonBadStatus:
		return e.Reason
	}
	return fieldReason(e.Reason, e.Field)
}

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

func isVarByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// nginxVariable reads one $variable or ${variable} at the start of s.
func nginxVariable(s string) (op, int, error) {
	var name string
	var n int
	if s[1] == '{' {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return op{}, 0, errors.New("unclosed ${")
		}
		name, n = s[2:end], end+1
	} else {
		n = 1
		for n < len(s) && isVarByte(s[n]) {
			n++
		}
		name = s[1:n]
	}
	o := op{name: "$" + name}
	switch name {
	case "remote_addr":
		o.kind = kHost
	case "remote_user":
		o.kind = kUser
	case "time_local":
		o.kind = kTimeLocal
	case "time_iso8601":
		o.kind, o.layout = kTimeLayout, time.RFC3339
	case "msec":
		o.kind, o.unit = kTimeEpoch, time.Second
	case "request":
		o.kind = kRequest
	case "request_method":
		o.kind = kMethod
	case "request_uri":
		o.kind = kRequestURI
	case "uri", "document_uri":
		o.kind = kURLPath
	case "args", "query_string":
		o.kind = kQueryArgs
	case "server_protocol":
		o.kind = kProtocol
	case "status":
		o.kind = kStatus
	case "body_bytes_sent":
		o.kind = kBytes
	case "bytes_sent":
		o.kind = kBytesOut
	case "request_length":
		o.kind = kBytesIn
	case "http_referer":
		o.kind = kReferer
	case "http_user_agent":
		o.kind = kUserAgent
	case "host", "server_name":
		o.kind = kVHost
	case "request_time":
		o.kind = kDurationDec
	case "server_addr":
		o.kind = kLocalIP
	case "server_port":
		o.kind = kPort
	default:
		o.kind = kExtra
	}
	if o.kind != kExtra {
		o.name = kindNames[o.kind]
	}
	return o, n, nil
}

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

// SplitRequestLine splits an HTTP request line "METHOD target HTTP/x.y" into its parts. It
// returns three empty strings when the line is not HTTP: no method token, no target, a last
// word that is not HTTP/<digit>[.<digit>], control bytes, or Apache's "-" for no request. A
// line of two words is an HTTP/0.9 request (protocol ""), which only GET may be. Spaces
// around the target are trimmed; spaces inside it are kept, as the client sent them.
func SplitRequestLine(r string) (method, target, protocol string) {
	sp := strings.IndexByte(r, ' ')
	if sp <= 0 {
		return "", "", ""
	}
	method = r[:sp]
	for i := 0; i < len(method); i++ {
		if !isTokenByte(method[i]) {
			return "", "", ""
		}
	}
	rest := r[sp+1:]
	if last := strings.LastIndexByte(rest, ' '); last >= 0 && isHTTPVersion(rest[last+1:]) {
		target, protocol = rest[:last], rest[last+1:]
	} else if method == "GET" && last < 0 {
		target = rest // HTTP/0.9
	} else {
		return "", "", ""
	}
	target = strings.Trim(target, " ")
	if target == "" {
		return "", "", ""
	}
	for i := 0; i < len(target); i++ {
		if target[i] < 0x20 || target[i] == 0x7f {
			return "", "", ""
		}
	}
	return method, target, protocol
}

// isTokenByte reports whether c may appear in an HTTP method (RFC 9110 tchar).
func isTokenByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isHTTPVersion reports whether s is HTTP/<digit> or HTTP/<digit>.<digit>.
func isHTTPVersion(s string) bool {
	if len(s) < 6 || s[:5] != "HTTP/" || !isDigit(s[5]) {
		return false
	}
	return len(s) == 6 || (len(s) == 8 && s[6] == '.' && isDigit(s[7]))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseCLFTime reads "10/Oct/2000:13:55:36 -0700" at fixed positions. time.Parse would do
// the same work through a general layout interpreter and allocate a *Location per offset;
// this is a few comparisons and one lookup of a cached zone.
func parseCLFTime(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}
	day, ok1 := digits2(s[0:2])
	month := monthOf(s[3:6])
	y1, ok2 := digits2(s[7:9])
	y2, ok3 := digits2(s[9:11])
	hour, ok4 := digits2(s[12:14])
	minute, ok5 := digits2(s[15:17])
	sec, ok6 := digits2(s[18:20])
	zh, ok7 := digits2(s[22:24])
	zm, ok8 := digits2(s[24:26])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && ok8) || month == 0 || (s[21] != '+' && s[21] != '-') {
		return time.Time{}, false
	}
	year := y1*100 + y2
	if day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 60 || zh > 23 || zm > 59 {
		return time.Time{}, false
	}
	off := zh*3600 + zm*60
	if s[21] == '-' {
		off = -off
	}
	return time.Date(year, month, day, hour, minute, sec, 0, zoneAt(off)), true
}

func digits2(s string) (int, bool) {
	a, b := s[0]-'0', s[1]-'0'
	if a > 9 || b > 9 {
		return 0, false
	}
	return int(a)*10 + int(b), true
}

func monthOf(s string) time.Month {
	switch s {
	case "Jan":
		return time.January
	case "Feb":
		return time.February
	case "Mar":
		return time.March
	case "Apr":
		return time.April
	case "May":
		return time.May
	case "Jun":
		return time.June
	case "Jul":
		return time.July
	case "Aug":
		return time.August
	case "Sep":
		return time.September
	case "Oct":
		return time.October
	case "Nov":
		return time.November
	case "Dec":
		return time.December
	}
	return 0
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// zones caches one fixed zone per quarter-hour offset from -24h to +24h, shared by every
// parser: time.FixedZone allocates, and a log has one or two offsets.
var zones [193]atomic.Pointer[time.Location]

// zoneAt returns the fixed zone of offset seconds east of UTC.
func zoneAt(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if off%900 != 0 {
		return time.FixedZone("", off)
	}
	i := off/900 + 96
	if i < 0 || i >= len(zones) {
		return time.FixedZone("", off)
	}
	if l := zones[i].Load(); l != nil {
		return l
	}
	l := time.FixedZone("", off)
	zones[i].CompareAndSwap(nil, l)
	return zones[i].Load()
}

// Unescape decodes the escapes Apache and nginx write into logged strings: \" \\ \n \r \t
// \v \b and \xhh. It returns s itself when s has no backslash.
func Unescape(s string) string {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'v':
			b = append(b, '\v')
		case 'b':
			b = append(b, '\b')
		case 'x':
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
				i += 2
			} else {
				b = append(b, '\\', 'x')
			}
		default:
			b = append(b, s[i])
		}
	}
	return string(b)
}

func isHex(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

func unhex(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}
