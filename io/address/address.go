// Package address is the one validation layer every Beamline pipeline runs its flags through
// before it builds a pipeline: addresses (a local path, gs://bucket/prefix,
// bq://project.dataset.table, pubsub://projects/P/topics/T or …/subscriptions/S), the runner
// they must suit, output folders (no two destinations in one tree; a non-empty folder refused
// unless --overwrite, which replaces it once the run succeeded), durations with a sane
// minimum, input globs that match nothing, and reachability of remote endpoints. Every error
// is one line that names the flag and the fix.
//
//	in, err := address.Flag("input", *inputFlag, address.Path, address.GCS, address.Subscription)
//	if err := address.Duration("window", *windowFlag, address.MinWindow); err != nil { … }
//
// Schemes live in one registry: a new one (kafka://host:port/topic) is one Register call.
package address

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/beamline/beamline/io/bigquery"
	"github.com/beamline/beamline/io/pubsub"
)

// Kind is what an address names.
type Kind string

// The kinds Beamline's pipelines use. A registered scheme may add its own.
const (
	Path         Kind = "path"         // a local file, directory or glob
	GCS          Kind = "gcs"          // gs://bucket/object-or-prefix-or-glob
	Table        Kind = "table"        // bq://project.dataset.table
	Topic        Kind = "topic"        // pubsub://projects/P/topics/T
	Subscription Kind = "subscription" // pubsub://projects/P/subscriptions/S
)

// Files reports whether k names files (local or gs://).
func (k Kind) Files() bool { return k == Path || k == GCS }

// describe is how an error names a kind, with an example.
func (k Kind) describe() string {
	switch k {
	case Path:
		return "a local path"
	case GCS:
		return "gs://bucket/prefix"
	case Table:
		return "bq://project.dataset.table"
	case Topic:
		return "pubsub://projects/P/topics/T"
	case Subscription:
		return "pubsub://projects/P/subscriptions/S"
	}
	mu.RLock()
	defer mu.RUnlock()
	for _, s := range schemes {
		for _, e := range s.Kinds {
			if e == k {
				return s.Example
			}
		}
	}
	return string(k)
}

// Address is a parsed address. String renders it back.
type Address struct {
	Scheme string // "" for a local path, else "gs", "bq", "pubsub", or a registered scheme
	Kind   Kind
	Rest   string // what follows "scheme://" (the path itself for a local path), without a trailing "/"
}

// String is the address as a flag would give it.
func (a Address) String() string {
	if a.Scheme == "" {
		return a.Rest
	}
	return a.Scheme + "://" + a.Rest
}

// Scheme parses the part of an address after "name://".
type Scheme struct {
	Name    string                          // "kafka"
	Kinds   []Kind                          // the kinds Parse may return
	Example string                          // for errors: "kafka://host:port/topic"
	Parse   func(rest string) (Kind, error) // checks rest; the Kind it names
}

var (
	mu      sync.RWMutex
	schemes = map[string]Scheme{}
)

// Register adds a scheme (a second one of the same name replaces the first). IO packages
// register theirs from init, so that importing the package is what enables the scheme.
func Register(s Scheme) {
	if s.Name == "" || s.Parse == nil || strings.Contains(s.Name, ":") {
		panic(fmt.Sprintf("address.Register: scheme %q needs a name without ':' and a Parse function", s.Name))
	}
	mu.Lock()
	defer mu.Unlock()
	schemes[s.Name] = s
}

func init() {
	Register(Scheme{Name: "gs", Kinds: []Kind{GCS}, Example: "gs://bucket/prefix", Parse: func(rest string) (Kind, error) {
		bucket, _, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return "", fmt.Errorf("has no bucket (e.g. gs://my-bucket/prefix)")
		}
		return GCS, nil
	}})
	Register(Scheme{Name: "bq", Kinds: []Kind{Table}, Example: "bq://project.dataset.table", Parse: func(rest string) (Kind, error) {
		if _, err := bigquery.ParseTable(bigquery.Scheme + rest); err != nil {
			return "", err
		}
		return Table, nil
	}})
	Register(Scheme{Name: "pubsub", Kinds: []Kind{Topic, Subscription}, Example: "pubsub://projects/P/topics/T", Parse: func(rest string) (Kind, error) {
		a := pubsub.Scheme + rest
		if parts := strings.Split(rest, "/"); len(parts) == 4 && parts[2] == "subscriptions" {
			if _, err := pubsub.ParseSubscription(a); err != nil {
				return "", err
			}
			return Subscription, nil
		}
		if _, err := pubsub.ParseTopic(a); err != nil {
			return "", fmt.Errorf("%v or %sprojects/PROJECT/subscriptions/NAME", err, pubsub.Scheme)
		}
		return Topic, nil
	}})
}

// Parse parses an address: a local path, or scheme://rest of a registered scheme. A trailing
// "/" is dropped. An unknown scheme is an error (Beam would otherwise fail deep in the job,
// with "file system scheme not registered").
func Parse(s string) (Address, error) {
	if s == "" {
		return Address{}, fmt.Errorf("is empty")
	}
	if strings.ContainsAny(s, "\x00\n") {
		return Address{}, fmt.Errorf("holds a NUL or newline")
	}
	name, rest, ok := strings.Cut(s, "://")
	if !ok {
		p := trimSlash(s)
		return Address{Kind: Path, Rest: p}, nil
	}
	mu.RLock()
	sc, known := schemes[name]
	mu.RUnlock()
	if !known {
		return Address{}, fmt.Errorf("has an unknown scheme %q (known: %s)", name+"://", strings.Join(Schemes(), ", "))
	}
	rest = trimSlash(rest)
	k, err := sc.Parse(rest)
	if err != nil {
		return Address{}, err
	}
	return Address{Scheme: name, Kind: k, Rest: rest}, nil
}

// Schemes lists the registered schemes, sorted, as "name://".
func Schemes() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(schemes))
	for n := range schemes {
		out = append(out, n+"://")
	}
	sort.Strings(out)
	return out
}

func trimSlash(s string) string {
	for len(s) > 1 && strings.HasSuffix(s, "/") {
		s = s[:len(s)-1]
	}
	return s
}

// Flag parses the value of --name and checks it is one of the accepted kinds. The error
// names the flag, what it got and what it takes, in one line.
func Flag(name, value string, accept ...Kind) (Address, error) {
	want := make([]string, len(accept))
	for i, k := range accept {
		want[i] = k.describe()
	}
	use := "use " + orList(want)
	if value == "" {
		return Address{}, fmt.Errorf("--%s is required: %s", name, use)
	}
	a, err := Parse(value)
	if err != nil {
		return Address{}, fmt.Errorf("--%s=%s %s; %s", name, value, oneLine(err), use)
	}
	for _, k := range accept {
		if a.Kind == k {
			return a, nil
		}
	}
	switch {
	case a.Kind == Topic && contains(accept, Subscription):
		return Address{}, fmt.Errorf("--%s=%s is a topic, but this flag reads a subscription: create one on the topic and give pubsub://projects/P/subscriptions/S", name, value)
	case a.Kind == Subscription && contains(accept, Topic):
		return Address{}, fmt.Errorf("--%s=%s is a subscription, but this flag publishes to a topic: give pubsub://projects/P/topics/T", name, value)
	}
	return Address{}, fmt.Errorf("--%s=%s is %s, which this flag does not take; %s", name, value, a.Kind.describe(), use)
}

// Optional is Flag for a flag that may be empty (the zero Address, nil error).
func Optional(name, value string, accept ...Kind) (Address, error) {
	if value == "" {
		return Address{}, nil
	}
	return Flag(name, value, accept...)
}

func contains(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// oneLine keeps the first line of an error.
func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// Remote checks that a runner's workers can reach the address: with --runner=dataflow a
// local path is refused (workers run elsewhere and would read or write their own disks).
func Remote(runner, name string, a Address) error {
	if runner != "dataflow" && runner != "DataflowRunner" {
		return nil
	}
	if a.Kind == Path {
		return fmt.Errorf("--%s=%s is a local path, which Dataflow workers cannot reach: with --runner=dataflow give gs://bucket/prefix (or a bq:// table or pubsub:// address where the flag takes one)", name, a)
	}
	return nil
}

// Dest is one place a pipeline writes: the flag it comes from and the address, at the level
// the pipeline writes (the clean/ folder, not the --output root that holds it).
type Dest struct {
	Flag string
	Addr Address
}

// Overlap refuses destinations of which one lies inside another's tree (or is the same):
// failures written beside clean records, or a report inside the hits. Tables and topics
// overlap only when equal.
func Overlap(dests ...Dest) error {
	for i, a := range dests {
		for j, b := range dests {
			if i == j || (i > j && a.Addr == b.Addr) {
				continue
			}
			if a.Addr.Kind.Files() != b.Addr.Kind.Files() || a.Addr.Scheme != b.Addr.Scheme {
				continue
			}
			if a.Addr == b.Addr {
				return fmt.Errorf("--%s and --%s both write to %s: give each its own place (e.g. --%s=%s)", a.Flag, b.Flag, a.Addr, b.Flag, suggest(b))
			}
			if a.Addr.Kind.Files() && inside(a.Addr, b.Addr) {
				return fmt.Errorf("--%s=%s is inside %s, where --%s writes: the two outputs would mix; give --%s a place outside it", a.Flag, a.Addr, b.Addr, b.Flag, a.Flag)
			}
		}
	}
	return nil
}

func suggest(d Dest) string {
	if d.Addr.Kind.Files() {
		return d.Addr.String() + "-" + strings.ReplaceAll(d.Flag, "_", "-")
	}
	return "another " + string(d.Addr.Kind)
}

// inside reports whether a lies in b's tree.
func inside(a, b Address) bool {
	pa, pb := a.Rest, b.Rest
	if a.Kind == Path {
		pa, pb = absClean(pa), absClean(pb)
	}
	return pa == pb || strings.HasPrefix(pa, strings.TrimSuffix(pb, "/")+"/")
}

func absClean(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}
