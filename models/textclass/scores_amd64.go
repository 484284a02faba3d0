//go:build amd64 && !purego

package textclass

// The kernel of Model.Scores in scores_amd64.s: SSE2, four labels per instruction, which
// the Go compiler does not vectorise on its own. It multiplies, rounds, then adds, label by
// label in the same order as the Go loop, so the scores are bit for bit the same
// (TestScoresKernelMatchesGo).
const haveScoresKernel = true

// scoresSSE adds val[i] × w[idx[i]×n : idx[i]×n+n] to dst[:n] for i < m, in that order. Each
// idx[i] must be a whole row of w.
//
//go:noescape
func scoresSSE(dst *float32, n int, w *float32, idx *int32, val *float32, m int)
