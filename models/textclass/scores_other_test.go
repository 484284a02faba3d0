//go:build !amd64 || purego

package textclass

import "testing"

func setAVX2(t *testing.T, on bool) { t.Fatal("textclass: no scores kernel") }
