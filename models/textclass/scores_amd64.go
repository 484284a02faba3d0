//go:build amd64 && !purego

package textclass

import "golang.org/x/sys/cpu"

// The kernels of Model.Scores in scores_amd64.s: AVX, eight labels per instruction, where the
// processor has it, else SSE2, four, which every amd64 processor has; the Go compiler does
// not vectorise the loop on its own. Each multiplies, rounds, then adds, label by label in
// the same order as the Go loop, so the scores are bit for bit the same
// (TestScoresKernelMatchesGo).
const haveScoresKernel = true

// scoresSSE adds val[i] × w[idx[i]×n : idx[i]×n+n] to dst[:n] for i < m, in that order. Each
// idx[i] must be a whole row of w.
//
//go:noescape
func scoresSSE(dst *float32, n int, w *float32, idx *int32, val *float32, m int)

// scoresAVX is scoresSSE with AVX, eight labels per instruction, for processors that have it.
//
//go:noescape
func scoresAVX(dst *float32, n int, w *float32, idx *int32, val *float32, m int)

// useAVX2 says whether Scores and topK take the AVX kernels, scoresAVX, top5AVX and
// expShiftedAVX2 (the processor and the operating system support AVX2, which includes AVX),
// rather than the SSE2 ones. It is a variable so that the tests can run both.
var useAVX2 = cpu.X86.HasAVX2
