package recommend_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/beamline/beamline/models/recommend"
)

var t0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// tasteData generates users with two favourite categories of items and a style, buying
// mostly within those categories and mostly items of their style (popular items more
// often): the structure a recommender should find and popularity, even per category, cannot.
func tasteData(seed uint64, users, items, cats, perUser int) []recommend.Interaction {
	const styles = 4
	r := rand.New(rand.NewPCG(seed, 7))
	var out []recommend.Interaction
	perCat := items / cats
	perStyle := perCat / styles
	for u := range users {
		fav := []int{r.IntN(cats), r.IntN(cats)}
		style := r.IntN(styles)
		n := 1 + r.IntN(2*perUser)
		for j := range n {
			c := fav[r.IntN(2)]
			if r.Float64() < 0.15 {
				c = r.IntN(cats)
			}
			st := style
			if r.Float64() < 0.2 {
				st = r.IntN(styles)
			}
			// Zipf-like within the style: rank = floor(perStyle · x²).
			x := r.Float64()
			it := c*perCat + st*perStyle + int(float64(perStyle)*x*x)
			out = append(out, recommend.Interaction{
				User: fmt.Sprintf("u%04d", u), Item: fmt.Sprintf("i%04d", it),
				Time:     t0.Add(time.Duration(j)*time.Hour + time.Duration(u)*time.Second),
				Weight:   float64(1 + r.IntN(3)),
				Category: fmt.Sprintf("c%02d", c),
			})
		}
	}
	return out
}

func shuffled(ins []recommend.Interaction, seed uint64) []recommend.Interaction {
	out := append([]recommend.Interaction(nil), ins...)
	r := rand.New(rand.NewPCG(seed, 1))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

var allAlgos = []recommend.Params{
	{Algo: recommend.AlgoPopularity},
	{Algo: recommend.AlgoItemItem, Similarity: recommend.SimCosine},
	{Algo: recommend.AlgoItemItem, Similarity: recommend.SimJaccard},
	{Algo: recommend.AlgoItemItem, Similarity: recommend.SimLift, MinSupport: 3},
	{Algo: recommend.AlgoALS, Factors: 8, Iterations: 5, Seed: 3},
	{Algo: recommend.AlgoBPR, Factors: 8, Iterations: 5, Seed: 3},
}

// The same interactions in any order and the same seed give the same model; BPR and ALS
// with another seed give another.
func TestTrainDeterministic(t *testing.T) {
	ins := tasteData(1, 200, 200, 10, 8)
	for _, p := range allAlgos {
		t.Run(p.Name(), func(t *testing.T) {
			a, err := recommend.Train(ins, p)
			if err != nil {
				t.Fatal(err)
			}
			b, err := recommend.Train(shuffled(ins, 9), p)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(a, b, cmpopts.IgnoreUnexported(recommend.Model{})); d != "" {
				t.Errorf("Train(shuffled) differs (-first +second):\n%s", d)
			}
			if p.Algo == recommend.AlgoALS || p.Algo == recommend.AlgoBPR {
				p2 := p
				p2.Seed++
				c, _ := recommend.Train(ins, p2)
				if cmp.Equal(a.ItemFactors, c.ItemFactors) {
					t.Errorf("seed %d and %d gave the same item factors", p.Seed, p2.Seed)
				}
			}
		})
	}
}

// dense is a brute-force view of interactions: summed weights by user and item.
type dense struct {
	users, items []string
	w            [][]float64 // [user][item]
}

func toDense(ins []recommend.Interaction) dense {
	us, is := map[string]bool{}, map[string]bool{}
	for _, in := range ins {
		us[in.User], is[in.Item] = true, true
	}
	d := dense{users: keys(us), items: keys(is)}
	ui, ii := index(d.users), index(d.items)
	d.w = make([][]float64, len(d.users))
	for u := range d.w {
		d.w[u] = make([]float64, len(d.items))
	}
	for _, in := range ins {
		w := in.Weight
		if w == 0 {
			w = 1
		}
		d.w[ui[in.User]][ii[in.Item]] += w
	}
	return d
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func index(s []string) map[string]int {
	m := map[string]int{}
	for i, v := range s {
		m[v] = i
	}
	return m
}

// Item-item neighbours and scores agree with similarities computed pair by pair over the
// dense matrix.
func TestItemItemMatchesBruteForce(t *testing.T) {
	ins := tasteData(2, 60, 40, 4, 6)
	d := toDense(ins)
	for _, sim := range []string{recommend.SimCosine, recommend.SimJaccard, recommend.SimLift} {
		t.Run(sim, func(t *testing.T) {
			p := recommend.Params{Algo: recommend.AlgoItemItem, Similarity: sim, MinSupport: 2, Neighbours: 5}
			m, err := recommend.Train(ins, p)
			if err != nil {
				t.Fatal(err)
			}
			n := len(d.items)
			want := make([][]float64, n) // 0 below support
			for i := range n {
				want[i] = make([]float64, n)
				for j := range n {
					if i == j {
						continue
					}
					var co, ni, nj, dot, qi, qj float64
					for u := range d.users {
						a, b := d.w[u][i], d.w[u][j]
						if a > 0 {
							ni++
						}
						if b > 0 {
							nj++
						}
						if a > 0 && b > 0 {
							co++
						}
						dot, qi, qj = dot+a*b, qi+a*a, qj+b*b
					}
					if co < 2 {
						continue
					}
					switch sim {
					case recommend.SimCosine:
						want[i][j] = dot / math.Sqrt(qi*qj)
					case recommend.SimJaccard:
						want[i][j] = co / (ni + nj - co)
					case recommend.SimLift:
						want[i][j] = co * float64(len(d.users)) / (ni * nj)
					}
				}
			}
			for i, nb := range m.Neighbours {
				// The kept neighbours are the top five by brute force.
				var all []float64
				for _, v := range want[i] {
					if v > 0 {
						all = append(all, v)
					}
				}
				sort.Sort(sort.Reverse(sort.Float64Slice(all)))
				if len(nb) != min(5, len(all)) {
					t.Fatalf("item %s: %d neighbours, want %d", d.items[i], len(nb), min(5, len(all)))
				}
				for r, x := range nb {
					if g, w := float64(x.Sim), want[i][x.Item]; math.Abs(g-w) > 1e-5*w || math.Abs(g-all[r]) > 1e-5*w {
						t.Errorf("item %s neighbour %s: sim %g, want %g (rank %d of brute force: %g)", d.items[i], d.items[x.Item], g, w, r, all[r])
					}
				}
			}
			// Scores are sums over the owned items' kept neighbours.
			owned := []string{d.items[0], d.items[3], d.items[7]}
			got := m.Recommend("someone", owned, 5)
			for _, s := range got {
				j := index(d.items)[s.Item]
				var w float64
				for _, o := range owned {
					oi := index(d.items)[o]
					for _, x := range m.Neighbours[oi] {
						if int(x.Item) == j {
							w += float64(x.Sim)
						}
					}
				}
				if math.Abs(s.Score-w) > 1e-6 {
					t.Errorf("Recommend score of %s = %g, want %g", s.Item, s.Score, w)
				}
			}
		})
	}
}

// solveDense solves a·x = b by Gaussian elimination with partial pivoting.
func solveDense(a [][]float64, b []float64) []float64 {
	n := len(b)
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p], b[c], b[p] = a[p], a[c], b[p], b[c]
		for r := c + 1; r < n; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < n; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		v := b[r]
		for k := r + 1; k < n; k++ {
			v -= a[r][k] * x[k]
		}
		x[r] = v / a[r][r]
	}
	return x
}

// ALS's user factors are the exact minimiser of the weighted least squares given its item
// factors: the normal equations built densely over every item, with confidence
// 1 + α·weight on observed pairs and 1 elsewhere, solved by elimination. Recommend's scores
// are the dot products.
func TestALSMatchesBruteForce(t *testing.T) {
	ins := tasteData(3, 40, 30, 3, 5)
	d := toDense(ins)
	p := recommend.Params{Algo: recommend.AlgoALS, Factors: 4, Iterations: 4, Regularization: 0.3, Alpha: 5, Seed: 1}
	m, err := recommend.Train(ins, p)
	if err != nil {
		t.Fatal(err)
	}
	k := 4
	y := func(i, f int) float64 { return float64(m.ItemFactors[i*k+f]) }
	for u := range d.users {
		a := make([][]float64, k)
		b := make([]float64, k)
		for f := range k {
			a[f] = make([]float64, k)
			a[f][f] = p.Regularization
		}
		for i := range d.items {
			c, pref := 1.0, 0.0
			if d.w[u][i] > 0 {
				c, pref = 1+p.Alpha*d.w[u][i], 1
			}
			for f := range k {
				b[f] += c * pref * y(i, f)
				for g := range k {
					a[f][g] += c * y(i, f) * y(i, g)
				}
			}
		}
		want := solveDense(a, b)
		for f := range k {
			if g := float64(m.UserFactors[u*k+f]); math.Abs(g-want[f]) > 1e-4*math.Max(1, math.Abs(want[f])) {
				t.Fatalf("user %s factor %d = %g, want %g", d.users[u], f, g, want[f])
			}
		}
	}
	u := 5
	var owned []string
	for i, w := range d.w[u] {
		if w > 0 {
			owned = append(owned, d.items[i])
		}
	}
	for _, s := range m.Recommend(d.users[u], owned, 5) {
		i := index(d.items)[s.Item]
		var want float64
		for f := range k {
			want += float64(m.UserFactors[u*k+f]) * y(i, f)
		}
		if math.Abs(s.Score-want) > 1e-9 {
			t.Errorf("score of %s = %g, want %g", s.Item, s.Score, want)
		}
		if d.w[u][i] > 0 {
			t.Errorf("recommended owned item %s", s.Item)
		}
	}
}

// BPR ranks a user's items above the others: training AUC well above chance.
func TestBPRLearnsRanking(t *testing.T) {
	ins := tasteData(4, 150, 100, 5, 6)
	d := toDense(ins)
	m, err := recommend.Train(ins, recommend.Params{Algo: recommend.AlgoBPR, Factors: 8, Iterations: 30, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	k := 8
	var good, pairs float64
	for u := range d.users {
		score := func(i int) float64 {
			s := float64(m.ItemBias[i])
			for f := range k {
				s += float64(m.UserFactors[u*k+f]) * float64(m.ItemFactors[i*k+f])
			}
			return s
		}
		for i := range d.items {
			if d.w[u][i] == 0 {
				continue
			}
			for j := range d.items {
				if d.w[u][j] == 0 {
					pairs++
					if score(i) > score(j) {
						good++
					}
				}
			}
		}
	}
	if auc := good / pairs; auc < 0.85 {
		t.Errorf("BPR training AUC = %.3f, want ≥ 0.85", auc)
	}
}

// A user the model does not know, with no known item, gets popular items, first of the
// categories of what they own.
func TestColdFallback(t *testing.T) {
	var ins []recommend.Interaction
	add := func(user, item, cat string) {
		ins = append(ins, recommend.Interaction{User: user, Item: item, Category: cat, Time: t0})
	}
	// Popularity: a 4 users, b 3, c 2 (category x); d 2, e 1 (category y).
	for i, u := range []string{"u1", "u2", "u3", "u4"} {
		add(u, "a", "x")
		if i < 3 {
			add(u, "b", "x")
		}
		if i < 2 {
			add(u, "c", "x")
			add(u, "d", "y")
		}
		if i < 1 {
			add(u, "e", "y")
		}
	}
	for _, p := range allAlgos {
		m, err := recommend.Train(ins, p)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			owned []string
			want  []string
		}{
			{nil, []string{"a", "b", "c"}},
			{[]string{"zz"}, []string{"a", "b", "c"}}, // unknown item: no category either
		}
		if p.Algo == recommend.AlgoItemItem {
			// An item with no neighbours: the popular items of its category come first.
			tests = append(tests, struct{ owned, want []string }{[]string{"e"}, []string{"d", "a", "b"}})
		}
		for _, tc := range tests {
			got := m.Recommend("new-user", tc.owned, 3)
			var items []string
			for _, s := range got {
				items = append(items, s.Item)
			}
			if !cmp.Equal(items, tc.want) {
				t.Errorf("%s: Recommend(new-user, %v) = %v, want %v", p.Name(), tc.owned, items, tc.want)
			}
		}
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		p    recommend.Params
		want string // substring of the error; "" for none
	}{
		{recommend.Params{Algo: "als"}, ""},
		{recommend.Params{Algo: "svd"}, `algorithm "svd"`},
		{recommend.Params{Algo: "itemitem", Similarity: "pearson"}, `similarity "pearson"`},
		{recommend.Params{Algo: "itemitem", MinSupport: -1}, "min support -1"},
		{recommend.Params{Algo: "als", Factors: 5000}, "factors 5000"},
		{recommend.Params{Algo: "bpr", LearningRate: -1}, "learning rate -1"},
	}
	for _, tc := range tests {
		err := tc.p.Defaults().Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want nil", tc.p, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Validate(%+v) = %v, want an error with %q", tc.p, err, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	to := t0.Add(24 * time.Hour)
	tests := []struct {
		in   recommend.Interaction
		want string
	}{
		{recommend.Interaction{User: "u", Item: "i", Time: t0}, ""},
		{recommend.Interaction{Item: "i", Time: t0}, recommend.ReasonMissingUser},
		{recommend.Interaction{User: "u", Time: t0}, recommend.ReasonMissingItem},
		{recommend.Interaction{User: "u", Item: "i"}, recommend.ReasonMissingTime},
		{recommend.Interaction{User: "u", Item: "i", Time: t0, Weight: -1}, recommend.ReasonNegativeWeight},
		{recommend.Interaction{User: "u", Item: "i", Time: t0, Weight: math.NaN()}, recommend.ReasonBadWeight},
		{recommend.Interaction{User: "u", Item: "i", Time: to}, recommend.ReasonTimeRange},
		{recommend.Interaction{User: "u", Item: "i", Time: t0.Add(-time.Second)}, recommend.ReasonTimeRange},
	}
	for _, tc := range tests {
		if got := recommend.Check(tc.in, t0, to); got != tc.want {
			t.Errorf("Check(%+v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
