package recommend

import (
	"sort"
	"time"
)

// Interaction is one user's contact with one item: a purchase line, a click, a rating. Weight
// is its strength (a quantity, a dwell time); 0 means 1. Category is the item's category, if
// known: popularity falls back on it for cold users.
type Interaction struct {
	User     string    `json:"user_id"`
	Item     string    `json:"item_id"`
	Time     time.Time `json:"ts"`
	Weight   float64   `json:"weight,omitempty"`
	Category string    `json:"category,omitempty"`
}

// Reasons Check gives for an interaction no model may learn from. They are dead-letter reason
// codes.
const (
	ReasonMissingUser    = "missing_field:user_id"
	ReasonMissingItem    = "missing_field:item_id"
	ReasonMissingTime    = "missing_field:ts"
	ReasonNegativeWeight = "negative_weight"
	ReasonBadWeight      = "bad_weight"
	ReasonTimeRange      = "ts_out_of_range"
)

// Check returns the reason code of what is wrong with in, or "" if a model can learn from
// it. Timestamps must lie in [from, to); a zero bound is open.
func Check(in Interaction, from, to time.Time) string {
	switch {
	case in.User == "":
		return ReasonMissingUser
	case in.Item == "":
		return ReasonMissingItem
	case in.Time.IsZero():
		return ReasonMissingTime
	case in.Weight < 0:
		return ReasonNegativeWeight
	case in.Weight != in.Weight || in.Weight > 1e12: // NaN or absurd
		return ReasonBadWeight
	case !from.IsZero() && in.Time.Before(from), !to.IsZero() && !in.Time.Before(to):
		return ReasonTimeRange
	}
	return ""
}

// entry is one cell of the user × item matrix: the item (or user) index and the summed
// weight of every interaction of the pair.
type entry struct {
	idx int32
	w   float64
}

// dataset is the interactions as a sparse user × item matrix, both ways. Users and items are
// numbered in the sorted order of their ids, so every model built from the same interactions
// is the same whatever order they came in.
type dataset struct {
	users, items []string
	category     []string  // per item; "" unknown
	byUser       [][]entry // sorted by item index
	byItem       [][]entry // sorted by user index
	nnz          int
}

func weightOf(in Interaction) float64 {
	if in.Weight == 0 {
		return 1
	}
	return in.Weight
}

// newDataset indexes the interactions Check accepts (with open time bounds); it returns the
// number it skipped.
func newDataset(ins []Interaction) (*dataset, int) {
	users, items := map[string]int{}, map[string]int{}
	cat := map[string]string{}
	skipped := 0
	for _, in := range ins {
		if Check(in, time.Time{}, time.Time{}) != "" {
			skipped++
			continue
		}
		users[in.User] = 0
		items[in.Item] = 0
		if in.Category != "" {
			// The smallest category seen wins, so the choice does not depend on input order.
			if c, ok := cat[in.Item]; !ok || in.Category < c {
				cat[in.Item] = in.Category
			}
		}
	}
	d := &dataset{users: sortedKeys(users), items: sortedKeys(items)}
	for i, u := range d.users {
		users[u] = i
	}
	d.category = make([]string, len(d.items))
	for i, it := range d.items {
		items[it] = i
		d.category[i] = cat[it]
	}
	cells := map[[2]int32]float64{}
	for _, in := range ins {
		if Check(in, time.Time{}, time.Time{}) != "" {
			continue
		}
		cells[[2]int32{int32(users[in.User]), int32(items[in.Item])}] += weightOf(in)
	}
	d.byUser = make([][]entry, len(d.users))
	d.byItem = make([][]entry, len(d.items))
	for k, w := range cells {
		d.byUser[k[0]] = append(d.byUser[k[0]], entry{k[1], w})
		d.byItem[k[1]] = append(d.byItem[k[1]], entry{k[0], w})
	}
	for _, r := range d.byUser {
		sort.Slice(r, func(a, b int) bool { return r[a].idx < r[b].idx })
	}
	for _, r := range d.byItem {
		sort.Slice(r, func(a, b int) bool { return r[a].idx < r[b].idx })
	}
	d.nnz = len(cells)
	return d, skipped
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
