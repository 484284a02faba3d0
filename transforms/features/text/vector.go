package text

// Vector is a sparse feature vector: Idx holds feature indices in increasing order, Val the
// value at each. It is what the text features hand to models/textclass, and what a model
// artifact's feature spec turns a document into.
type Vector struct {
	Idx []int32   `json:"idx"`
	Val []float32 `json:"val"`
}

// Len is the number of non-zero features.
func (v Vector) Len() int { return len(v.Idx) }
