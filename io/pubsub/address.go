package pubsub

import (
	"fmt"
	"strings"
)

// Scheme prefixes every Pub/Sub address: pubsub://projects/P/subscriptions/S or
// pubsub://projects/P/topics/T.
const Scheme = "pubsub://"

// IsAddress reports whether addr names a Pub/Sub topic or subscription.
func IsAddress(addr string) bool { return strings.HasPrefix(addr, Scheme) }

// Name is a parsed Pub/Sub address.
type Name struct {
	Project string
	Kind    string // "topics" or "subscriptions"
	ID      string
}

// Full is the resource name the API takes: projects/P/topics/T.
func (n Name) Full() string { return "projects/" + n.Project + "/" + n.Kind + "/" + n.ID }

// String is the address: pubsub://projects/P/topics/T.
func (n Name) String() string { return Scheme + n.Full() }

// ParseSubscription parses pubsub://projects/P/subscriptions/S.
func ParseSubscription(addr string) (Name, error) { return parse(addr, "subscriptions") }

// ParseTopic parses pubsub://projects/P/topics/T.
func ParseTopic(addr string) (Name, error) { return parse(addr, "topics") }

func parse(addr, kind string) (Name, error) {
	want := fmt.Sprintf("%sprojects/PROJECT/%s/NAME", Scheme, kind)
	rest, ok := strings.CutPrefix(addr, Scheme)
	if !ok {
		return Name{}, fmt.Errorf("pubsub address %q must start with %s (e.g. %s)", addr, Scheme, want)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 4 || parts[0] != "projects" || parts[2] != kind {
		return Name{}, fmt.Errorf("pubsub address %q is not of the form %s", addr, want)
	}
	n := Name{Project: parts[1], Kind: kind, ID: parts[3]}
	if n.Project == "" || n.ID == "" {
		return Name{}, fmt.Errorf("pubsub address %q has an empty project or name (want %s)", addr, want)
	}
	// Pub/Sub's own rule: 3 to 255 characters, starting with a letter, not "goog".
	if len(n.ID) < 3 || len(n.ID) > 255 || !isLetter(n.ID[0]) || strings.HasPrefix(n.ID, "goog") {
		return Name{}, fmt.Errorf("pubsub address %q: a %s name must be 3-255 characters, start with a letter and not start with \"goog\"", addr, strings.TrimSuffix(kind, "s"))
	}
	return n, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
