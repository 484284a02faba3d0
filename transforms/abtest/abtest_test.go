package abtest_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/transforms/abtest"
)

const cfgYAML = `
salt: recs-2026-12
control: B
variants:
  - {name: A, model: recs-als, share: 0.5}
  - {name: B, model: recs-pop, share: 0.3, version: 20261201T000000Z}
  - {name: C, model: recs-bpr, share: 0.2}
`

// Over a million users every variant gets its declared share to within 1 % of it.
func TestAssignShares(t *testing.T) {
	c, err := abtest.Parse([]byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	const n = 1_000_000
	counts := make([]int, len(c.Variants))
	for u := range n {
		counts[c.Assign(fmt.Sprintf("C-%d", u))]++
	}
	for i, v := range c.Variants {
		got := float64(counts[i]) / n
		if math.Abs(got-v.Share) > 0.01*v.Share {
			t.Errorf("variant %s got %.4f of users, want %.2f ± 1 %%", v.Name, got, v.Share)
		}
	}
}

// Assignment depends on the salt and the user only: the same config parsed from JSON agrees,
// and another salt moves about as many users as chance would.
func TestAssignStable(t *testing.T) {
	a, err := abtest.Parse([]byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	b, err := abtest.Parse([]byte(`{"salt":"recs-2026-12","control":"B","variants":[{"name":"A","model":"recs-als","share":0.5},{"name":"B","model":"recs-pop","share":0.3},{"name":"C","model":"recs-bpr","share":0.2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	other := a
	other.Salt = "recs-2027-01"
	moved := 0
	for u := range 10000 {
		id := fmt.Sprintf("C-%d", u)
		if a.Assign(id) != b.Assign(id) {
			t.Fatalf("Assign(%s) differs between the YAML and JSON configs", id)
		}
		if a.Assign(id) != other.Assign(id) {
			moved++
		}
	}
	// Independent draws land in another variant with probability 1 − Σ share² = 0.62.
	if moved < 5800 || moved > 6600 {
		t.Errorf("a new salt moved %d of 10000 users, want about 6200", moved)
	}
	if got, want := abtest.Point("s", "u"), abtest.Point("s", "u"); got != want || got < 0 || got >= 1 {
		t.Errorf("Point(s, u) = %v then %v, want one value in [0, 1)", got, want)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{`control: A
variants: [{name: A, model: m, share: 1}]`, "salt is empty"},
		{`salt: s
control: A`, "no variants"},
		{`salt: s
control: A
variants: [{name: A, model: m, share: 0.5}, {name: B, model: m, share: 0.4}]`, "sum to 0.9"},
		{`salt: s
control: A
variants: [{name: A, model: m, share: 0.5}, {name: A, model: m, share: 0.5}]`, `"A" appears twice`},
		{`salt: s
control: Z
variants: [{name: A, model: m, share: 1}]`, `control "Z" is not a variant`},
		{`salt: s
control: A
variants: [{name: A, share: 1}]`, `"A" has no model`},
		{`salt: s
control: A
variants: [{name: A, model: m, share: 0}, {name: B, model: m, share: 1}]`, `share 0`},
		{`salt: [`, "abtest: yaml"},
	}
	for _, tc := range tests {
		_, err := abtest.Parse([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", tc.yaml, err, tc.want)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-4*math.Max(1, math.Abs(b)) }

// Reference values computed by hand from the textbook formulas.
func TestTwoProportion(t *testing.T) {
	// 120/1000 against 100/1000: pooled p 0.11, SE √(0.11·0.89·0.002) = 0.013993;
	// z = 0.02/0.013993 = 1.42929, two-sided p = 0.15293. Unpooled SE √(0.12·0.88/1000 +
	// 0.1·0.9/1000) = 0.013994, CI 0.02 ± 1.96·0.013994.
	got := abtest.TwoProportion(120, 1000, 100, 1000)
	se := math.Sqrt(0.12*0.88/1000 + 0.1*0.9/1000)
	want := abtest.Comparison{RateT: 0.12, RateC: 0.1, Diff: 0.02, DiffLow: 0.02 - 1.959964*se, DiffHigh: 0.02 + 1.959964*se,
		Uplift: 0.2, UpliftLow: (0.02 - 1.959964*se) / 0.1, UpliftHigh: (0.02 + 1.959964*se) / 0.1, Z: 1.42929, P: 0.15293}
	if d := cmp.Diff(want, got, cmp.Comparer(near)); d != "" {
		t.Errorf("TwoProportion(120/1000, 100/1000) (-want +got):\n%s", d)
	}
	if got := abtest.TwoProportion(0, 0, 1, 10); got.P != 1 {
		t.Errorf("TwoProportion with no treated users: P = %v, want 1", got.P)
	}
}

// χ² survival against table values, and a sample-ratio check.
func TestChiSquare(t *testing.T) {
	tests := []struct{ x, k, want float64 }{
		{3.841459, 1, 0.05}, {6.634897, 1, 0.01}, {5.991465, 2, 0.05}, {10.827566, 1, 0.001},
		{0.5, 3, 0.918891}, {30, 10, 0.000857},
	}
	for _, tc := range tests {
		if got := abtest.ChiSquareSurvival(tc.x, tc.k); math.Abs(got-tc.want) > 1e-5 {
			t.Errorf("ChiSquareSurvival(%g, %g) = %g, want %g", tc.x, tc.k, got, tc.want)
		}
	}
	// 5000/5000 on 50/50: no mismatch. 5300/4700: χ² = 36, p ≈ 2e-9.
	if chi, p := abtest.SampleRatio([]int64{5000, 5000}, []float64{0.5, 0.5}); chi != 0 || p != 1 {
		t.Errorf("SampleRatio(5000, 5000) = %g, %g; want 0, 1", chi, p)
	}
	if chi, p := abtest.SampleRatio([]int64{5300, 4700}, []float64{0.5, 0.5}); !near(chi, 36) || p > 1e-8 {
		t.Errorf("SampleRatio(5300, 4700) = %g, %g; want 36, < 1e-8", chi, p)
	}
}

func BenchmarkAssign(b *testing.B) {
	c, _ := abtest.Parse([]byte(cfgYAML))
	b.ReportAllocs()
	for b.Loop() {
		c.Assign("C-123456")
	}
}
