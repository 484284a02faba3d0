//go:build !amd64 || purego

package textclass

// No kernel here: Model.Scores runs its Go loop.
const haveScoresKernel = false

func scoresSSE(dst *float32, n int, w *float32, idx *int32, val *float32, m int) {
	panic("textclass: no scores kernel")
}

func scoresAVX(dst *float32, n int, w *float32, idx *int32, val *float32, m int) {
	panic("textclass: no scores kernel")
}

const useAVX2 = false
