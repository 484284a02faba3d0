package recommend

import (
	"math"
	"sort"
	"time"
)

// Evaluation defaults.
const (
	DefaultMinInteractions = 5  // users with fewer interactions are not evaluated
	DefaultK               = 10 // the cut-off of hit@K, NDCG@K and recall@K
)

// Split is a by-time split of interactions: each evaluated user's last interaction (every
// row at their latest timestamp: one order's lines are one interaction) held out, the rest
// to train on.
type Split struct {
	Train []Interaction
	// Test is, per evaluated user, the held-out items they had not met in training
	// (recommendations exclude training items, so a repeat purchase cannot be a hit).
	Test map[string][]string
	// Owned is, per evaluated user, their items in Train.
	Owned map[string][]string
	// Skipped counts users not evaluated: Few had fewer than minInteractions interactions,
	// RepeatOnly held out only items they already had.
	Few, RepeatOnly int
}

// SplitByTime holds out each user's last interaction; users with fewer than minInteractions
// valid interactions (rows) keep all of theirs in Train and are not evaluated. Interactions
// Check refuses are dropped.
func SplitByTime(ins []Interaction, minInteractions int) Split {
	byUser := map[string][]Interaction{}
	for _, in := range ins {
		if Check(in, time.Time{}, time.Time{}) == "" {
			byUser[in.User] = append(byUser[in.User], in)
		}
	}
	users := make([]string, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	sort.Strings(users)
	sp := Split{Test: map[string][]string{}, Owned: map[string][]string{}}
	for _, u := range users {
		rows := byUser[u]
		if len(rows) < minInteractions {
			sp.Train = append(sp.Train, rows...)
			sp.Few++
			continue
		}
		last := rows[0].Time
		for _, r := range rows {
			if r.Time.After(last) {
				last = r.Time
			}
		}
		owned := map[string]bool{}
		var held []string
		for _, r := range rows {
			if r.Time.Equal(last) {
				held = append(held, r.Item)
			} else {
				sp.Train = append(sp.Train, r)
				owned[r.Item] = true
			}
		}
		var test []string
		seen := map[string]bool{}
		for _, it := range held {
			if !owned[it] && !seen[it] {
				seen[it] = true
				test = append(test, it)
			}
		}
		if len(test) == 0 {
			sp.RepeatOnly++
			continue
		}
		sort.Strings(test)
		sp.Test[u] = test
		sp.Owned[u] = sortedKeys2(owned)
	}
	return sp
}

func sortedKeys2(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Metrics are a model's ranking quality on a split's held-out interactions.
type Metrics struct {
	Model    string  `json:"model"` // Params.Name()
	Users    int     `json:"users"` // evaluated users
	K        int     `json:"k"`
	HitRate  float64 `json:"hit_at_k"`    // share of users with a held-out item in their top K
	NDCG     float64 `json:"ndcg_at_k"`   // mean NDCG@K, binary relevance
	Recall   float64 `json:"recall_at_k"` // mean share of a user's held-out items in their top K
	Coverage float64 `json:"coverage"`    // share of the catalogue in anyone's top K
	// TrainSeconds is the wall time of Train on the split.
	TrainSeconds float64 `json:"train_seconds"`
}

// Evaluate scores m's top-k recommendations (training items excluded) against the split.
func Evaluate(m *Model, sp Split, k int) Metrics {
	if k <= 0 {
		k = DefaultK
	}
	out := Metrics{Model: m.Params.Name(), K: k}
	shown := map[string]bool{}
	users := make([]string, 0, len(sp.Test))
	for u := range sp.Test {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		rel := map[string]bool{}
		for _, it := range sp.Test[u] {
			rel[it] = true
		}
		recs := m.Recommend(u, sp.Owned[u], k)
		var dcg float64
		hits := 0
		for r, s := range recs {
			shown[s.Item] = true
			if rel[s.Item] {
				hits++
				dcg += 1 / math.Log2(float64(r)+2)
			}
		}
		var idcg float64
		for r := range min(len(rel), k) {
			idcg += 1 / math.Log2(float64(r)+2)
		}
		out.Users++
		if hits > 0 {
			out.HitRate++
		}
		out.NDCG += dcg / idcg
		out.Recall += float64(hits) / float64(min(len(rel), k))
	}
	if out.Users > 0 {
		n := float64(out.Users)
		out.HitRate, out.NDCG, out.Recall = out.HitRate/n, out.NDCG/n, out.Recall/n
	}
	out.Coverage = float64(len(shown)) / float64(len(m.Items))
	return out
}

// Report is a training run: the data, and every candidate's quality on a by-time split next
// to popularity's in the same run.
type Report struct {
	Interactions int       `json:"interactions"` // valid interactions trained on
	Skipped      int       `json:"skipped"`      // invalid ones (Check)
	Users        int       `json:"users"`
	Items        int       `json:"items"`
	From         time.Time `json:"from"`
	To           time.Time `json:"to"` // the last interaction's time
	// The split: evaluated users, and those left out.
	EvalUsers       int       `json:"eval_users"`
	FewInteractions int       `json:"few_interactions"`
	RepeatOnly      int       `json:"repeat_only"`
	MinInteractions int       `json:"min_interactions"`
	Results         []Metrics `json:"results"` // popularity first, then each candidate
	Chosen          string    `json:"chosen"`  // Params.Name() of the published model
}

// TrainAndEvaluate evaluates popularity and each of params on a by-time split of ins (at
// cut-off DefaultK), then trains params[0] on all of ins: the model to publish and the
// report of the run. Popularity is always in the report, as the bar to beat.
func TrainAndEvaluate(ins []Interaction, params []Params, minInteractions int) (*Model, Report, error) {
	if minInteractions <= 0 {
		minInteractions = DefaultMinInteractions
	}
	var rep Report
	rep.MinInteractions = minInteractions
	for _, in := range ins {
		if Check(in, time.Time{}, time.Time{}) != "" {
			rep.Skipped++
			continue
		}
		rep.Interactions++
		if rep.From.IsZero() || in.Time.Before(rep.From) {
			rep.From = in.Time
		}
		if in.Time.After(rep.To) {
			rep.To = in.Time
		}
	}
	sp := SplitByTime(ins, minInteractions)
	rep.EvalUsers, rep.FewInteractions, rep.RepeatOnly = len(sp.Test), sp.Few, sp.RepeatOnly
	cands := append([]Params{{Algo: AlgoPopularity}}, params...)
	for _, p := range cands {
		p = p.Defaults()
		if err := p.Validate(); err != nil {
			return nil, rep, err
		}
		start := time.Now()
		m, err := Train(sp.Train, p)
		if err != nil {
			return nil, rep, err
		}
		secs := time.Since(start).Seconds()
		me := Evaluate(m, sp, DefaultK)
		me.TrainSeconds = secs
		rep.Results = append(rep.Results, me)
	}
	final := Params{Algo: AlgoPopularity}
	if len(params) > 0 {
		final = params[0]
	}
	m, err := Train(ins, final)
	if err != nil {
		return nil, rep, err
	}
	rep.Users, rep.Items, rep.Chosen = len(m.Users), len(m.Items), m.Params.Name()
	if rep.Users == 0 { // popularity and item-item keep no users
		users := map[string]bool{}
		for _, in := range ins {
			if Check(in, time.Time{}, time.Time{}) == "" {
				users[in.User] = true
			}
		}
		rep.Users = len(users)
	}
	return m, rep, nil
}
