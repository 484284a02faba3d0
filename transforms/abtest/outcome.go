package abtest

import (
	"sort"
	"time"
)

// DefaultWindow is how long after an exposure a purchase of a recommended item counts.
const DefaultWindow = 24 * time.Hour

// Exposure is a user shown items under a variant.
type Exposure struct {
	User    string
	Variant string
	Time    time.Time
	Items   []string
}

// Order is a user's purchase.
type Order struct {
	User    string
	Time    time.Time
	Items   []string
	Revenue float64
}

// UserOutcome is what one exposed user did.
type UserOutcome struct {
	Variant   string
	Converted bool    // bought an item they were shown within the window after being shown it
	Revenue   float64 // of their orders within the window after their first exposure
	Conflict  bool    // exposed under more than one variant: a broken split; counted under the first
}

// Outcome joins one user's exposures with their orders. ok is false for a user never exposed.
func Outcome(exps []Exposure, orders []Order, window time.Duration) (o UserOutcome, ok bool) {
	if len(exps) == 0 {
		return o, false
	}
	if window <= 0 {
		window = DefaultWindow
	}
	exps = append([]Exposure(nil), exps...)
	sort.SliceStable(exps, func(i, j int) bool { return exps[i].Time.Before(exps[j].Time) })
	first := exps[0]
	o.Variant = first.Variant
	for _, e := range exps[1:] {
		if e.Variant != first.Variant {
			o.Conflict = true
		}
	}
	for _, ord := range orders {
		if ord.Time.After(first.Time) && !ord.Time.After(first.Time.Add(window)) {
			o.Revenue += ord.Revenue
		}
		for _, e := range exps {
			if e.Variant != first.Variant || !ord.Time.After(e.Time) || ord.Time.After(e.Time.Add(window)) {
				continue
			}
			if shares(e.Items, ord.Items) {
				o.Converted = true
			}
		}
	}
	return o, true
}

func shares(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// VariantResult is one variant's tally and its comparison with the control.
type VariantResult struct {
	Name           string     `json:"name"`
	Share          float64    `json:"share"` // declared
	Users          int64      `json:"users"` // exposed
	Conversions    int64      `json:"conversions"`
	Rate           float64    `json:"rate"`
	Revenue        float64    `json:"revenue"`
	RevenuePerUser float64    `json:"revenue_per_user"`
	VsControl      Comparison `json:"vs_control"` // zero for the control itself
}

// Result is an experiment's outcome.
type Result struct {
	Control   string          `json:"control"`
	Variants  []VariantResult `json:"variants"`
	Conflicts int64           `json:"conflicts"` // users exposed under several variants
	Unknown   int64           `json:"unknown"`   // exposures under a variant the config does not name
	SRMChi2   float64         `json:"srm_chi2"`
	SRMP      float64         `json:"srm_p"`
	// SRM is true when exposures do not follow the declared shares (p < 0.001): do not trust
	// the comparison until the split or the logging is fixed.
	SRM bool `json:"srm"`
}

// Summarise tallies the users' outcomes per variant of c and compares each with the control.
func Summarise(c Config, outs []UserOutcome) Result {
	r := Result{Control: c.Control, Variants: make([]VariantResult, len(c.Variants))}
	for i, v := range c.Variants {
		r.Variants[i].Name, r.Variants[i].Share = v.Name, v.Share
	}
	for _, o := range outs {
		i := c.Index(o.Variant)
		if i < 0 {
			r.Unknown++
			continue
		}
		if o.Conflict {
			r.Conflicts++
		}
		v := &r.Variants[i]
		v.Users++
		if o.Converted {
			v.Conversions++
		}
		v.Revenue += o.Revenue
	}
	obs := make([]int64, len(c.Variants))
	shares := make([]float64, len(c.Variants))
	for i := range r.Variants {
		v := &r.Variants[i]
		obs[i], shares[i] = v.Users, v.Share
		if v.Users > 0 {
			v.Rate, v.RevenuePerUser = float64(v.Conversions)/float64(v.Users), v.Revenue/float64(v.Users)
		}
	}
	ci := c.Index(c.Control)
	for i := range r.Variants {
		if i != ci && ci >= 0 {
			r.Variants[i].VsControl = TwoProportion(r.Variants[i].Conversions, r.Variants[i].Users, r.Variants[ci].Conversions, r.Variants[ci].Users)
		}
	}
	r.SRMChi2, r.SRMP = SampleRatio(obs, shares)
	r.SRM = r.SRMP < 0.001
	return r
}
