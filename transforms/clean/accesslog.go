package clean

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Apache and nginx access logs.
//
// A LogFormat is compiled once from an Apache LogFormat string (or an nginx log_format, or a
// named format) into a list of ops — literals to match and fields to cut out — and then
// parses each line with a hand-written byte scanner into a Hit, without allocating: the
// strings of a Hit are substrings of the line, and its time is built without time.Parse.
//
// The pieces live in files by idea: this one holds the Hit and its errors; accesslog_compile.go
// compiles Apache formats, accesslog_nginx.go nginx variables, accesslog_parse.go the
// scanner, accesslog_clftime.go the CLF time reader, accesslog_request.go the request line
// and escapes, and accesslog_beam.go the Beam transform and the Hit coder.

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
