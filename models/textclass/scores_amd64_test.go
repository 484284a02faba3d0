//go:build amd64 && !purego

package textclass

import "testing"

// setScoresAVX sets which kernel Scores takes for the rest of t.
func setScoresAVX(t *testing.T, on bool) {
	old := useScoresAVX
	useScoresAVX = on
	t.Cleanup(func() { useScoresAVX = old })
}
