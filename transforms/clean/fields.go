package clean

import (
	"strings"
)

// A path is a dotted field path into a parsed document: "user.email" is Data["user"]["email"].
type path []string

func splitPath(p string) path { return strings.Split(p, ".") }

func (p path) String() string { return strings.Join(p, ".") }

// get returns the value at p, and whether it is present (a JSON null is present, as nil).
func (p path) get(data map[string]any) (any, bool) {
	m := data
	for i, k := range p {
		v, ok := m[k]
		if !ok {
			return nil, false
		}
		if i == len(p)-1 {
			return v, true
		}
		if m, ok = v.(map[string]any); !ok {
			return nil, false
		}
	}
	return nil, false
}

// set replaces the value at p, which must exist.
func (p path) set(data map[string]any, v any) {
	m := data
	for _, k := range p[:len(p)-1] {
		m = m[k].(map[string]any)
	}
	m[p[len(p)-1]] = v
}

// Get returns the value at a dotted path of data.
func Get(data map[string]any, dotted string) (any, bool) { return splitPath(dotted).get(data) }
