package recommend

import (
	"math"
	"sort"
)

// itemNeighbours computes, for every item, its p.Neighbours most similar items among those
// sharing at least p.MinSupport users with it. Co-occurrences are accumulated one item at a
// time over the users of that item into a dense row, so memory stays one row of floats, and
// the work is Σ over users of (items of the user)², the cost of any exact item-item model.
func itemNeighbours(d *dataset, p Params) [][]Neighbour {
	n, nUsers := len(d.items), float64(len(d.users))
	norm := make([]float64, n) // cosine: ‖weights of the item‖
	for i, r := range d.byItem {
		for _, e := range r {
			norm[i] += e.w * e.w
		}
		norm[i] = math.Sqrt(norm[i])
	}
	co := make([]int32, n)
	dot := make([]float64, n)
	var touched []int32
	out := make([][]Neighbour, n)
	for i, users := range d.byItem {
		touched = touched[:0]
		for _, ue := range users {
			for _, ie := range d.byUser[ue.idx] {
				j := ie.idx
				if int(j) == i {
					continue
				}
				if co[j] == 0 {
					touched = append(touched, j)
				}
				co[j]++
				dot[j] += ue.w * ie.w
			}
		}
		var nb []Neighbour
		ni := float64(len(users))
		for _, j := range touched {
			if int(co[j]) >= p.MinSupport {
				c, nj := float64(co[j]), float64(len(d.byItem[j]))
				var s float64
				switch p.Similarity {
				case SimCosine:
					s = dot[j] / (norm[i] * norm[j])
				case SimJaccard:
					s = c / (ni + nj - c)
				case SimLift:
					s = c * nUsers / (ni * nj)
				}
				nb = append(nb, Neighbour{Item: j, Sim: float32(s)})
			}
			co[j], dot[j] = 0, 0
		}
		sort.Slice(nb, func(a, b int) bool {
			if nb[a].Sim != nb[b].Sim {
				return nb[a].Sim > nb[b].Sim
			}
			return nb[a].Item < nb[b].Item
		})
		if len(nb) > p.Neighbours {
			nb = nb[:p.Neighbours]
		}
		out[i] = nb
	}
	return out
}
