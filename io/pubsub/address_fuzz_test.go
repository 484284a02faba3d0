package pubsub_test

import (
	"strings"
	"testing"

	"github.com/beamline/beamline/io/pubsub"
)

// FuzzParseAddress: an address parses to a Name that prints back as the same address and
// follows Pub/Sub's naming rules, or is refused with a message; it never panics.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{
		"pubsub://projects/p1/subscriptions/orders-sub", "pubsub://projects/p1/topics/orders",
		"projects/p1/topics/orders", "pubsub://projects//topics/orders", "pubsub://projects/p1/topics/ab",
		"pubsub://projects/p1/topics/goog-x", "pubsub://projects/p1/topics/orders/extra", "pubsub://", "",
		"pubsub://projects/p1/topics/" + strings.Repeat("a", 256), "pubsub://projects/p 1/topics/a\x00b",
		"PUBSUB://projects/p1/topics/orders", "pubsub://projects/p1/topics/órders",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		for _, tc := range []struct {
			kind  string
			parse func(string) (pubsub.Name, error)
		}{{"topics", pubsub.ParseTopic}, {"subscriptions", pubsub.ParseSubscription}} {
			n, err := tc.parse(addr)
			if err != nil {
				if err.Error() == "" || n != (pubsub.Name{}) {
					t.Fatalf("parse %s %q = %+v, %q: want the zero Name and a message", tc.kind, addr, n, err)
				}
				continue
			}
			if !pubsub.IsAddress(addr) || n.String() != addr || n.Kind != tc.kind {
				t.Fatalf("parse %s %q = %+v, which prints as %q", tc.kind, addr, n, n.String())
			}
			if n.Project == "" || strings.Contains(n.Project, "/") || strings.Contains(n.ID, "/") {
				t.Fatalf("parse %s %q: project %q, name %q", tc.kind, addr, n.Project, n.ID)
			}
			if len(n.ID) < 3 || len(n.ID) > 255 || !isLetter(n.ID[0]) || strings.HasPrefix(n.ID, "goog") {
				t.Fatalf("parse %s %q accepted name %q, which Pub/Sub refuses", tc.kind, addr, n.ID)
			}
		}
	})
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
