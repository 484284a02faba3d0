//go:build !amd64 || purego

package text

// No assembly here: fastIDs runs asciiRun.
const haveASCIIRunAsm = false

func asciiRunAsm(text *byte, i, limit int, ids *int32, nids int, slots *termSlot, mask, shift uint64, minLen int) (newI, newNids int, general bool) {
	panic("text: no assembly token loop")
}
