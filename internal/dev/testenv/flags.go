package testenv

import (
	"flag"
	"net"
	"strings"
	"testing"
)

// ResetFlags puts every command-line flag that differs from its default, except go test's own,
// back to its default, now and after the test, so table tests of a main's flag checks start
// from a clean command line (ptest, for one, sets --environment_type directly). A flag already
// at its default is left alone: some of the SDK's flags (such as --resource_hints, a list whose
// printed default "[]" is not a value it accepts) must keep the state registration gave them.
func ResetFlags(t testing.TB) {
	t.Helper()
	reset := func() {
		flag.VisitAll(func(f *flag.Flag) {
			if !strings.HasPrefix(f.Name, "test.") && f.Value.String() != f.DefValue { // go test's own flags stay as given
				_ = f.Value.Set(f.DefValue)
			}
		})
	}
	reset()
	t.Cleanup(reset)
}

// FlagCase is one command line of a main's flag table and what its error must say (nothing:
// no error). Every error must be one line holding each Want string: the flag and the fix.
type FlagCase struct {
	Name string
	Args []string
	Want []string
	Env  map[string]string
}

// Row is a FlagCase written as one short table line.
func Row(name string, args, want []string, env map[string]string) FlagCase {
	return FlagCase{Name: name, Args: args, Want: want, Env: env}
}

// RunFlagCases runs each case as a subtest: flags reset (ResetFlags), Env set, Args parsed as
// the binary would, then check, the checks main runs before it builds the pipeline.
func RunFlagCases(t *testing.T, cases []FlagCase, check func() error) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			for k, v := range tc.Env {
				t.Setenv(k, v)
			}
			ResetFlags(t)
			err := flag.CommandLine.Parse(tc.Args)
			if err == nil {
				err = check()
			}
			if len(tc.Want) == 0 {
				if err != nil {
					t.Errorf("flags %q: %v, want no error", tc.Args, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("flags %q: no error, want one containing %q", tc.Args, tc.Want)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("flags %q: error spans several lines: %q", tc.Args, msg)
			}
			for _, w := range tc.Want {
				if !strings.Contains(msg, w) {
					t.Errorf("flags %q: error %q, want it to contain %q", tc.Args, msg, w)
				}
			}
		})
	}
}

// ClosedPort is a loopback address nothing listens on (an unreachable endpoint).
func ClosedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
