//go:build amd64 && !purego

package textclass

import "testing"

// setAVX sets which kernels Scores and topK take for the rest of t.
func setAVX(t *testing.T, on bool) {
	old := useAVX
	useAVX = on
	t.Cleanup(func() { useAVX = old })
}
