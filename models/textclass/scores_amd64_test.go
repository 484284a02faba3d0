//go:build amd64 && !purego

package textclass

import "testing"

// setAVX2 sets which kernels Scores and topK take for the rest of t.
func setAVX2(t *testing.T, on bool) {
	old := useAVX2
	useAVX2 = on
	t.Cleanup(func() { useAVX2 = old })
}
