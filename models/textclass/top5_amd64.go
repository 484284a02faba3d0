//go:build amd64 && !purego

package textclass

// The selection of the 5 best scores in top5_amd64.s: SSE2, four scores per instruction, for
// up to 64 labels. It finds the best five one after another, each as the maximum of the scores
// not yet taken, at its lowest index: the order select5 and selectInsertion give
// (TestTop5KernelMatchesInsertion). select5 was an eighth of a prediction's instructions.
const haveTop5Kernel = true

// top5SSE sets best[:5] to the indices of the 5 highest of s[:n], highest first, ties to the
// lower index, −0 equal to +0, and reports true; or reports false, doing nothing, if a score
// is NaN or −Inf. It needs 5 ≤ n ≤ 64 and leaves s as it was.
//
//go:noescape
func top5SSE(s *float32, n int, best *int) bool

// top5AVX is top5SSE with AVX, eight scores per instruction, for 8 ≤ n ≤ 64.
//
//go:noescape
func top5AVX(s *float32, n int, best *int) bool
