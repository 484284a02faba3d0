//go:build !amd64 || purego

package textclass

// No kernel here: topK runs select5.
const haveTop5Kernel = false

func top5SSE(s *float32, n int, best *int) bool { panic("textclass: no top-5 kernel") }

func top5AVX(s *float32, n int, best *int) bool { panic("textclass: no top-5 kernel") }
