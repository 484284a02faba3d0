package features

import (
	"strings"

	"github.com/beamline/beamline/transforms/clean"
)

// GoAccess compatibility. GoAccess (goaccess.io) is the log analyser people compare web
// statistics with, so Beamline can count the way it does. These functions reproduce the
// definitions of GoAccess 1.7 (Debian 12's goaccess 1:1.7-1) run with --no-global-config and
// --log-format=COMBINED, as read in its parser and checked against its JSON report by
// TestGoAccessEquivalence:
//
//   - A hit is a line that parses. GoAccess counts every other line as failed, except empty
//     lines and lines starting with '#', which it skips without counting (clean.ParseAccessLog
//     sends them to dead as empty_record and log_comment).
//   - Bandwidth is the sum of %b over valid hits ("-" is 0).
//   - A unique visitor is a distinct (day, host, user agent) triple, where day is the date as
//     logged (no time-zone conversion) and the agent is %-decoded and trimmed; hits with a 4xx
//     status do not make visitors unless --4xx-to-unique-count is given. The report's total
//     is the sum of each day's visitors.
//   - A request is keyed by its %-decoded, trimmed target (query string included unless
//     --no-query-string), its upper-cased method and its protocol. A request line whose method
//     GoAccess does not know is keyed by the whole line; a known method without a valid HTTP
//     protocol keys as "-".
//   - The requests panel holds requests that are neither 404 (nor 444 with --444-as-404) nor
//     static; the static panel holds static requests (GoAccessIsStatic); the not-found panel
//     404s. Hits with status 444 stay in the requests panel by default.
//   - Crawlers are counted unless --ignore-crawlers.

// GoAccessRequest is the key GoAccess gives a hit's request: target, method and protocol
// (method and protocol empty when GoAccess found none).
type GoAccessRequest struct {
	Target, Method, Protocol string
}

// goaccessMethods are the methods GoAccess 1.7 recognises, in the order it tries them: it
// compares prefixes, so "GETX /a HTTP/1.1" is a GET of "/a".
var goaccessMethods = []string{
	"OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT", "PATCH",
	"options", "get", "head", "post", "put", "delete", "trace", "connect", "patch",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "VERSION-CONTROL", "REPORT",
	"CHECKOUT", "CHECKIN", "UNCHECKOUT", "MKWORKSPACE", "UPDATE", "LABEL", "MERGE", "BASELINE-CONTROL",
	"MKACTIVITY", "ORDERPATCH",
	"propfind", "propwatch", "mkcol", "copy", "move", "lock", "unlock", "version-control", "report",
	"checkout", "checkin", "uncheckout", "mkworkspace", "update", "label", "merge", "baseline-control",
	"mkactivity", "orderpatch",
}

// goaccessProtocols are matched as prefixes of the request line's last word.
var goaccessProtocols = []string{"HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/3"}

// GoAccessRequestKey returns the request key GoAccess would give h, from the raw request
// line when the format logs %r, else from %m, %U%q and %H.
func GoAccessRequestKey(h *clean.Hit) GoAccessRequest {
	if h.Request == "" && h.Path != "" {
		return GoAccessRequest{Target: goaccessDecode(h.Path), Method: strings.ToUpper(h.Method), Protocol: h.Protocol}
	}
	line := h.Request
	meth := ""
	for _, m := range goaccessMethods {
		if strings.HasPrefix(line, m) {
			meth = m
			break
		}
	}
	if meth == "" {
		return GoAccessRequest{Target: goaccessDecodeOrSelf(line)}
	}
	rest := line[len(meth):]
	sp := strings.LastIndexByte(rest, ' ')
	if sp < 0 {
		return GoAccessRequest{Target: "-"}
	}
	proto := ""
	for _, p := range goaccessProtocols {
		if strings.HasPrefix(rest[sp+1:], p) {
			proto = p
			break
		}
	}
	// GoAccess skips the one byte after the method (the space) and keys what lies from there
	// up to and including the last space, which decoding then trims.
	if proto == "" || sp <= 0 {
		return GoAccessRequest{Target: "-"}
	}
	return GoAccessRequest{Target: goaccessDecodeOrSelf(rest[1 : sp+1]), Method: strings.ToUpper(meth), Protocol: proto}
}

// goaccessDecodeOrSelf is GoAccess's decode_url as parse_req applies it: the decoded,
// trimmed string, or the original when that comes out empty.
func goaccessDecodeOrSelf(s string) string {
	if d := goaccessDecode(s); d != "" {
		return d
	}
	return s
}

// goaccessDecode decodes %xx (hex digits either case; anything else kept as is), drops
// newlines and trims white space, as GoAccess's decode_url does.
func goaccessDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexAny(s, "\r\n") < 0 {
		return strings.Trim(s, cSpace)
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]) {
			c = hexVal(s[i+1])<<4 | hexVal(s[i+2])
			i += 2
		}
		if c == '\n' || c == '\r' {
			continue
		}
		b = append(b, c)
	}
	return strings.Trim(string(b), cSpace)
}

// cSpace is C's isspace in the C locale, which GoAccess trims with.
const cSpace = " \t\n\v\f\r"

func isHexDigit(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

func hexVal(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// GoAccessVisitorKey returns the unique-visitor key GoAccess gives h — day as logged
// (YYYYMMDD), host and decoded user agent ("-" when absent) — and whether the hit counts
// towards visitors at all (not when its status is 4xx, GoAccess's default).
func GoAccessVisitorKey(h *clean.Hit) (key string, counts bool) {
	b, counts := AppendGoAccessVisitorKey(nil, h)
	return string(b), counts
}

// AppendGoAccessVisitorKey is GoAccessVisitorKey appended to dst, for a caller that reuses
// its buffer: it allocates nothing when the agent needs no percent-decoding.
func AppendGoAccessVisitorKey(dst []byte, h *clean.Hit) ([]byte, bool) {
	y, m, d := h.Time.Date()
	dst = AppendDigits(AppendDigits(AppendDigits(dst, y, 4), int(m), 2), d, 2)
	dst = append(append(append(dst, '|'), h.Host...), '|')
	// GoAccess stores an absent or empty agent as "-"; clean.Hit has "" for both.
	if h.UserAgent == "" {
		dst = append(dst, '-')
	} else {
		dst = append(dst, goaccessDecode(h.UserAgent)...)
	}
	return dst, h.Status < 400 || h.Status > 499
}

// AppendDigits appends v in decimal, zero-padded to width digits: the date and clock fields
// of a key without time.Format's layout parsing. v must not be negative.
func AppendDigits(dst []byte, v, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v >= 10 || len(tmp)-i < width-1 {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	tmp[i] = byte('0' + v)
	return append(dst, tmp[i:]...)
}

// GoAccessStaticExtensions are GoAccess 1.7's built-in static-file extensions, used when no
// configuration file lists any (--no-global-config). Debian's /etc/goaccess/goaccess.conf
// lists its own, including .js, which this list lacks.
var GoAccessStaticExtensions = []string{
	".css", ".jpg", ".jpeg", ".png", ".gif", ".ico", ".pdf", ".csv", ".mpeg", ".mpg", ".swf", ".woff", ".woff2",
	".xls", ".xlsx", ".docx", ".pptx", ".txt", ".zip", ".mp3", ".mp4", ".exe", ".tiff", ".avi",
}

// GoAccessIsStatic reports whether GoAccess files the request target in its static panel:
// the target, query string included, ends in one of exts (case-insensitive), and is not
// shorter than the longest of them (GoAccess's quirk: "/a.js" is never static when ".woff2"
// is listed). So "/style.css?v=2" is not static, as in GoAccess without --all-static-files.
func GoAccessIsStatic(target string, exts []string) bool {
	longest := 0
	for _, e := range exts {
		longest = max(longest, len(e))
	}
	if len(target) < longest {
		return false
	}
	for _, e := range exts {
		if len(target) >= len(e) && strings.EqualFold(target[len(target)-len(e):], e) {
			return true
		}
	}
	return false
}
