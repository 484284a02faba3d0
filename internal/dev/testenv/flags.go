package testenv

import (
	"flag"
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
