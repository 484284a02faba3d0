//go:build !amd64 || purego

package textclass

// No kernel here: topK runs sumExpNeg.
const haveExpKernel = false

func expShiftedSSE(s *float32, n int, mx float32, out *float64, c *float64) (z float64, ok bool) {
	panic("textclass: no exp kernel")
}

func expConsts() *float64 { return nil }

func expShiftedAVX2(s *float32, n int, mx float32, out *float64, c *float64) (z float64, ok bool) {
	panic("textclass: no exp kernel")
}

func expConsts4() *float64 { return nil }
