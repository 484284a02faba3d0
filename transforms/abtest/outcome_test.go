package abtest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/beamline/beamline/transforms/abtest"
)

func TestOutcome(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	exp := abtest.Exposure{User: "u", Variant: "A", Time: t0, Items: []string{"x", "y"}}
	tests := []struct {
		name   string
		exps   []abtest.Exposure
		orders []abtest.Order
		want   abtest.UserOutcome
		ok     bool
	}{
		{"bought a shown item within a day", []abtest.Exposure{exp},
			[]abtest.Order{{Time: h(3), Items: []string{"q", "y"}, Revenue: 20}}, abtest.UserOutcome{Variant: "A", Converted: true, Revenue: 20}, true},
		{"bought other items", []abtest.Exposure{exp},
			[]abtest.Order{{Time: h(3), Items: []string{"q"}, Revenue: 5}}, abtest.UserOutcome{Variant: "A", Revenue: 5}, true},
		{"too late and before", []abtest.Exposure{exp},
			[]abtest.Order{{Time: h(25), Items: []string{"x"}, Revenue: 5}, {Time: h(-1), Items: []string{"x"}, Revenue: 7}}, abtest.UserOutcome{Variant: "A"}, true},
		{"exactly at the window's end counts", []abtest.Exposure{exp},
			[]abtest.Order{{Time: h(24), Items: []string{"x"}, Revenue: 1}}, abtest.UserOutcome{Variant: "A", Converted: true, Revenue: 1}, true},
		{"second variant is a conflict", []abtest.Exposure{{Variant: "B", Time: h(1)}, exp},
			nil, abtest.UserOutcome{Variant: "A", Conflict: true}, true},
		{"never exposed", nil, []abtest.Order{{Time: h(1), Items: []string{"x"}}}, abtest.UserOutcome{}, false},
	}
	for _, tc := range tests {
		got, ok := abtest.Outcome(tc.exps, tc.orders, 0)
		if ok != tc.ok || !cmp.Equal(got, tc.want) {
			t.Errorf("%s: Outcome = %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// A split that follows its shares passes the sample-ratio check and the rates and uplift are
// tallied; a lopsided one is flagged.
func TestSummarise(t *testing.T) {
	c, err := abtest.Parse([]byte("salt: s\ncontrol: B\nvariants: [{name: A, model: m1, share: 0.5}, {name: B, model: m2, share: 0.5}]"))
	if err != nil {
		t.Fatal(err)
	}
	var outs []abtest.UserOutcome
	for u := range 2000 {
		v := c.Variants[c.Assign(fmt.Sprint(u))].Name
		rate := 10 // percent
		if v == "A" {
			rate = 15
		}
		outs = append(outs, abtest.UserOutcome{Variant: v, Converted: u%100 < rate, Revenue: 2})
	}
	outs = append(outs, abtest.UserOutcome{Variant: "Z"})
	r := abtest.Summarise(c, outs)
	if r.SRM || r.Unknown != 1 {
		t.Errorf("SRM %v (p %g), unknown %d; want false, 1", r.SRM, r.SRMP, r.Unknown)
	}
	a, b := r.Variants[0], r.Variants[1]
	if a.Users+b.Users != 2000 || a.Rate < 0.13 || a.Rate > 0.17 || b.Rate < 0.08 || b.Rate > 0.12 || a.RevenuePerUser != 2 {
		t.Errorf("A %+v, B %+v: want rates near 15 %% and 10 %% over 2000 users", a, b)
	}
	if a.VsControl.Diff != a.Rate-b.Rate || a.VsControl.DiffLow <= 0 || b.VsControl != (abtest.Comparison{}) {
		t.Errorf("A vs control %+v, control vs itself %+v: want a positive interval, and zero", a.VsControl, b.VsControl)
	}
	var skew []abtest.UserOutcome
	for i := range 2000 {
		v := "A"
		if i%10 < 4 {
			v = "B"
		}
		skew = append(skew, abtest.UserOutcome{Variant: v})
	}
	lop := abtest.Summarise(c, skew)
	if !lop.SRM {
		t.Errorf("1200/800 on a 50/50 split: SRM false (χ² %g, p %g), want true", lop.SRMChi2, lop.SRMP)
	}
}
