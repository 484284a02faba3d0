package clean

import (
	"errors"
	"strings"
	"time"
)

// nginx log_format variables.

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
