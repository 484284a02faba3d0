//go:build amd64 && !purego

package textclass

import (
	"math"
	"unsafe"
)

// The softmax's exponentials in exp_amd64.s: expNeg in both lanes of SSE2 registers, which
// every amd64 processor has, operation for operation, so the exponentials and their sum are
// bit for bit sumExpNeg's (TestExpKernelMatchesGo). sumExpNeg and the loop that widens the
// shifted scores for it were more than half of topK.
const haveExpKernel = true

// expShiftedSSE sets out[i] = expNeg(float64(s[i]-mx)) for i < n, n even, and returns their
// sum, added in order, and true; or false, having stopped part way, if an argument is
// outside [−700, 0.5] (or NaN), where expNeg goes to math.Exp. c is expConsts().
//
//go:noescape
func expShiftedSSE(s *float32, n int, mx float32, out *float64, c *float64) (z float64, ok bool)

// expConstBuf holds expKernelConsts at a 16-byte boundary (SSE2's arithmetic takes only
// aligned operands from memory), at expConstOff.
var (
	expConstBuf [2*len(expKernelConsts) + 1]float64
	expConstOff = func() int {
		off := int(uintptr(unsafe.Pointer(&expConstBuf[0])) % 16 / 8)
		for i, c := range expKernelConsts {
			expConstBuf[off+2*i], expConstBuf[off+2*i+1] = c, c
		}
		return off
	}()
)

// expConsts returns the kernel's constants, each twice, 16-byte aligned.
func expConsts() *float64 { return &expConstBuf[expConstOff] }

// expKernelConsts are the constants of sumExpNeg, in the order exp_amd64.s reads them; the
// last is the int64 1023, the exponent bias.
var expKernelConsts = [...]float64{0.5, -700, expInvStep, expRound, expStepHi, expStepLo,
	1.0 / 120, 1.0 / 24, 1.0 / 6, 1.0 / 2, 1, math.Float64frombits(1023)}

// expShiftedAVX2 is expShiftedSSE four at a time, n a multiple of 4; c is expConsts4().
//
//go:noescape
func expShiftedAVX2(s *float32, n int, mx float32, out *float64, c *float64) (z float64, ok bool)

// expConst4 holds expKernelConsts, each four times, for expShiftedAVX2.
var expConst4 = func() (c [4 * len(expKernelConsts)]float64) {
	for i, v := range expKernelConsts {
		c[4*i], c[4*i+1], c[4*i+2], c[4*i+3] = v, v, v, v
	}
	return c
}()

// expConsts4 returns expShiftedAVX2's constants.
func expConsts4() *float64 { return &expConst4[0] }
