package recommend

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Algorithms.
const (
	AlgoPopularity = "popularity" // most users first, the same for everyone: the bar to beat
	AlgoItemItem   = "itemitem"   // item-item neighbours (cosine, Jaccard or lift) summed over the user's items
	AlgoALS        = "als"        // implicit alternating least squares (Hu, Koren, Volinsky 2008)
	AlgoBPR        = "bpr"        // Bayesian personalised ranking (Rendle et al. 2009), SGD
)

// Similarities of the item-item model.
const (
	SimCosine  = "cosine"
	SimJaccard = "jaccard"
	SimLift    = "lift"
)

// Params are the training parameters. Zero fields take the defaults of Defaults.
type Params struct {
	Algo string `json:"algo"`
	// Item-item.
	Similarity string `json:"similarity,omitempty"`
	MinSupport int    `json:"min_support,omitempty"` // users two items need in common to be neighbours
	Neighbours int    `json:"neighbours,omitempty"`  // neighbours kept per item
	// Factor models.
	Factors        int     `json:"factors,omitempty"`
	Iterations     int     `json:"iterations,omitempty"`
	Regularization float64 `json:"regularization,omitempty"`
	Alpha          float64 `json:"alpha,omitempty"`         // ALS: confidence = 1 + alpha·weight
	LearningRate   float64 `json:"learning_rate,omitempty"` // BPR
	Seed           uint64  `json:"seed"`
}

// Defaults fills the zero fields of p.
func (p Params) Defaults() Params {
	if p.Algo == "" {
		p.Algo = AlgoALS
	}
	switch p.Algo {
	case AlgoItemItem:
		if p.Similarity == "" {
			p.Similarity = SimCosine
		}
		if p.MinSupport == 0 {
			p.MinSupport = 2
		}
		if p.Neighbours == 0 {
			p.Neighbours = 50
		}
	case AlgoALS:
		if p.Factors == 0 {
			p.Factors = 32
		}
		if p.Iterations == 0 {
			p.Iterations = 15
		}
		if p.Regularization == 0 {
			p.Regularization = 0.1
		}
		if p.Alpha == 0 {
			p.Alpha = 10
		}
	case AlgoBPR:
		if p.Factors == 0 {
			p.Factors = 32
		}
		if p.Iterations == 0 {
			p.Iterations = 60
		}
		if p.Regularization == 0 {
			p.Regularization = 0.005
		}
		if p.LearningRate == 0 {
			p.LearningRate = 0.05
		}
	}
	return p
}

// Validate names the parameter that is wrong.
func (p Params) Validate() error {
	switch p.Algo {
	case AlgoPopularity, AlgoALS, AlgoBPR:
	case AlgoItemItem:
		switch p.Similarity {
		case SimCosine, SimJaccard, SimLift:
		default:
			return fmt.Errorf("recommend: similarity %q: want cosine, jaccard or lift", p.Similarity)
		}
		if p.MinSupport < 1 || p.Neighbours < 1 {
			return fmt.Errorf("recommend: min support %d and neighbours %d must be at least 1", p.MinSupport, p.Neighbours)
		}
	default:
		return fmt.Errorf("recommend: algorithm %q: want popularity, itemitem, als or bpr", p.Algo)
	}
	if p.Algo == AlgoALS || p.Algo == AlgoBPR {
		if p.Factors < 1 || p.Factors > 1024 || p.Iterations < 1 || p.Regularization < 0 || p.Alpha < 0 || p.LearningRate < 0 {
			return fmt.Errorf("recommend: factors %d (1…1024), iterations %d (≥ 1), regularization %g, alpha %g and learning rate %g (≥ 0) out of range",
				p.Factors, p.Iterations, p.Regularization, p.Alpha, p.LearningRate)
		}
	}
	return nil
}

// Neighbour is one similar item of an item-item model.
type Neighbour struct {
	Item int32   `json:"i"`
	Sim  float32 `json:"s"`
}

// Model is a trained recommender of any algorithm. Every algorithm keeps item popularity and
// categories, the fallback for users it knows nothing of.
type Model struct {
	Params     Params   `json:"params"`
	Items      []string `json:"items"`
	Categories []string `json:"categories,omitempty"` // per item; "" unknown
	Popularity []int32  `json:"popularity"`           // distinct users per item
	// Item-item.
	Neighbours [][]Neighbour `json:"neighbours,omitempty"`
	// Factor models: row-major, Params.Factors per row.
	Users       []string  `json:"users,omitempty"`
	UserFactors []float32 `json:"user_factors,omitempty"`
	ItemFactors []float32 `json:"item_factors,omitempty"`
	ItemBias    []float32 `json:"item_bias,omitempty"` // BPR

	itemIdx map[string]int32
	userIdx map[string]int32
	popular []int32            // items by popularity, most first
	byCat   map[string][]int32 // items of a category by popularity
}

// Train learns a model of p.Algo from the interactions (those Check refuses are skipped).
// The same interactions and Params give the same model, in any input order.
func Train(ins []Interaction, p Params) (*Model, error) {
	p = p.Defaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	d, _ := newDataset(ins)
	if len(d.items) == 0 {
		return nil, fmt.Errorf("recommend: no valid interactions to train on")
	}
	m := &Model{Params: p, Items: d.items, Popularity: make([]int32, len(d.items))}
	for i, r := range d.byItem {
		m.Popularity[i] = int32(len(r))
	}
	for _, c := range d.category {
		if c != "" {
			m.Categories = d.category
			break
		}
	}
	switch p.Algo {
	case AlgoItemItem:
		m.Neighbours = itemNeighbours(d, p)
	case AlgoALS:
		m.Users = d.users
		m.UserFactors, m.ItemFactors = trainALS(d, p)
	case AlgoBPR:
		m.Users = d.users
		m.UserFactors, m.ItemFactors, m.ItemBias = trainBPR(d, p)
	}
	m.index()
	return m, nil
}

// Validate checks that the model's parts agree in size; a decoded model that does not is corrupt.
func (m *Model) Validate() error {
	n, k := len(m.Items), m.Params.Factors
	if err := m.Params.Validate(); err != nil {
		return err
	}
	switch {
	case n == 0:
		return fmt.Errorf("recommend: model has no items")
	case len(m.Popularity) != n:
		return fmt.Errorf("recommend: %d popularities for %d items", len(m.Popularity), n)
	case m.Categories != nil && len(m.Categories) != n:
		return fmt.Errorf("recommend: %d categories for %d items", len(m.Categories), n)
	case m.Params.Algo == AlgoItemItem && len(m.Neighbours) != n:
		return fmt.Errorf("recommend: %d neighbour lists for %d items", len(m.Neighbours), n)
	case (m.Params.Algo == AlgoALS || m.Params.Algo == AlgoBPR) &&
		(len(m.ItemFactors) != n*k || len(m.UserFactors) != len(m.Users)*k):
		return fmt.Errorf("recommend: factor matrices of %d and %d values for %d items, %d users and %d factors",
			len(m.ItemFactors), len(m.UserFactors), n, len(m.Users), k)
	case m.Params.Algo == AlgoBPR && len(m.ItemBias) != n:
		return fmt.Errorf("recommend: %d item biases for %d items", len(m.ItemBias), n)
	}
	for _, l := range m.Neighbours {
		for _, nb := range l {
			if nb.Item < 0 || int(nb.Item) >= n {
				return fmt.Errorf("recommend: neighbour %d out of range", nb.Item)
			}
		}
	}
	return nil
}

// index builds the look-up tables Recommend needs.
func (m *Model) index() {
	m.itemIdx = make(map[string]int32, len(m.Items))
	for i, it := range m.Items {
		m.itemIdx[it] = int32(i)
	}
	m.userIdx = make(map[string]int32, len(m.Users))
	for i, u := range m.Users {
		m.userIdx[u] = int32(i)
	}
	m.popular = make([]int32, len(m.Items))
	for i := range m.popular {
		m.popular[i] = int32(i)
	}
	sort.SliceStable(m.popular, func(a, b int) bool { return m.Popularity[m.popular[a]] > m.Popularity[m.popular[b]] })
	m.byCat = map[string][]int32{}
	if m.Categories != nil {
		for _, i := range m.popular {
			if c := m.Categories[i]; c != "" {
				m.byCat[c] = append(m.byCat[c], i)
			}
		}
	}
}

// Scored is one recommended item and its score; scores compare only within one model.
type Scored struct {
	Item  string  `json:"item_id"`
	Score float64 `json:"score"`
}

// Recommend returns up to n items for user, best first, never one of owned (the user's
// items, which item-item scores from). A user the model does not know is scored from owned
// (ALS folds the user in, BPR averages the owned items' factors); one the algorithm cannot
// score (no known items; item-item: no neighbours) gets the most popular items of the
// categories of owned, then the most popular overall. Popularity gives everyone the most
// popular items they do not own.
// Ties go to the more popular item, then the smaller id. Recommend is safe for concurrent use.
func (m *Model) Recommend(user string, owned []string, n int) []Scored {
	if n <= 0 {
		return nil
	}
	known := make([]int32, 0, len(owned))
	excl := make(map[int32]bool, len(owned))
	for _, it := range owned {
		if i, ok := m.itemIdx[it]; ok && !excl[i] {
			excl[i] = true
			known = append(known, i)
		}
	}
	var scores []float64
	switch m.Params.Algo {
	case AlgoItemItem:
		scores = m.itemItemScores(known)
	case AlgoALS, AlgoBPR:
		scores = m.factorScores(user, known)
	}
	if scores == nil {
		if m.Params.Algo == AlgoPopularity {
			return m.fallback(nil, excl, n)
		}
		return m.fallback(owned, excl, n)
	}
	return m.top(scores, excl, n)
}

func (m *Model) itemItemScores(known []int32) []float64 {
	if len(known) == 0 {
		return nil
	}
	s := make([]float64, len(m.Items))
	any := false
	for _, i := range known {
		for _, nb := range m.Neighbours[i] {
			s[nb.Item] += float64(nb.Sim)
			any = true
		}
	}
	if !any {
		return nil
	}
	// Items no neighbour reaches score -Inf: they come after every scored item, in popularity order.
	for i, v := range s {
		if v == 0 {
			s[i] = math.Inf(-1)
		}
	}
	return s
}

func (m *Model) factorScores(user string, known []int32) []float64 {
	k := m.Params.Factors
	x := make([]float64, k)
	if u, ok := m.userIdx[user]; ok {
		for f := range k {
			x[f] = float64(m.UserFactors[int(u)*k+f])
		}
	} else if len(known) == 0 {
		return nil
	} else if m.Params.Algo == AlgoALS {
		x = m.foldIn(known)
	} else {
		for _, i := range known {
			for f := range k {
				x[f] += float64(m.ItemFactors[int(i)*k+f]) / float64(len(known))
			}
		}
	}
	s := make([]float64, len(m.Items))
	for i := range s {
		s[i] = dot32(x, m.ItemFactors[i*k:(i+1)*k])
		if m.ItemBias != nil {
			s[i] += float64(m.ItemBias[i])
		}
	}
	return s
}

func dot32(x []float64, y []float32) float64 {
	var s float64
	for f, v := range y {
		s += x[f] * float64(v)
	}
	return s
}

// fallback is popularity: first the categories of owned, in proportion to how many of owned
// are in each, then everything.
func (m *Model) fallback(owned []string, excl map[int32]bool, n int) []Scored {
	out := make([]Scored, 0, n)
	taken := map[int32]bool{}
	add := func(i int32) {
		if !excl[i] && !taken[i] && len(out) < n {
			taken[i] = true
			out = append(out, Scored{m.Items[i], float64(m.Popularity[i])})
		}
	}
	if len(m.byCat) > 0 {
		counts := map[string]int{}
		var cats []string
		for _, it := range owned {
			if i, ok := m.itemIdx[it]; ok && m.Categories[i] != "" {
				if counts[m.Categories[i]] == 0 {
					cats = append(cats, m.Categories[i])
				}
				counts[m.Categories[i]]++
			}
		}
		sort.SliceStable(cats, func(a, b int) bool {
			if counts[cats[a]] != counts[cats[b]] {
				return counts[cats[a]] > counts[cats[b]]
			}
			return cats[a] < cats[b]
		})
		total := 0
		for _, c := range cats {
			total += counts[c]
		}
		for _, c := range cats {
			quota := (n*counts[c] + total - 1) / total
			got := 0
			for _, i := range m.byCat[c] {
				if got >= quota {
					break
				}
				if !excl[i] && !taken[i] {
					add(i)
					got++
				}
			}
		}
	}
	for _, i := range m.popular {
		if len(out) >= n {
			break
		}
		add(i)
	}
	return out
}

// top picks the n best scores outside excl: a bounded selection, not a sort of every item.
func (m *Model) top(s []float64, excl map[int32]bool, n int) []Scored {
	better := func(a, b int32) bool {
		if s[a] != s[b] {
			return s[a] > s[b]
		}
		if m.Popularity[a] != m.Popularity[b] {
			return m.Popularity[a] > m.Popularity[b]
		}
		return a < b
	}
	best := make([]int32, 0, n+1)
	for i := range s {
		i := int32(i)
		if excl[i] {
			continue
		}
		if len(best) == n && !better(i, best[n-1]) {
			continue
		}
		j := sort.Search(len(best), func(j int) bool { return better(i, best[j]) })
		best = append(best, 0)
		copy(best[j+1:], best[j:])
		best[j] = i
		if len(best) > n {
			best = best[:n]
		}
	}
	out := make([]Scored, len(best))
	for j, i := range best {
		out[j] = Scored{m.Items[i], s[i]}
		if math.IsInf(s[i], -1) {
			out[j].Score = 0
		}
	}
	return out
}

// Name is a short description, e.g. "als(factors=32)".
func (p Params) Name() string {
	p = p.Defaults()
	var b strings.Builder
	b.WriteString(p.Algo)
	switch p.Algo {
	case AlgoItemItem:
		fmt.Fprintf(&b, "(%s, support≥%d, n=%d)", p.Similarity, p.MinSupport, p.Neighbours)
	case AlgoALS, AlgoBPR:
		fmt.Fprintf(&b, "(factors=%d, iterations=%d)", p.Factors, p.Iterations)
	}
	return b.String()
}
