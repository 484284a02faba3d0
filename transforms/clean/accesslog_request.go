package clean

import (
	"strings"
)

// The request line and the escapes servers write into logged strings.

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
