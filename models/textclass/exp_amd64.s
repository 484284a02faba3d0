//go:build !purego

// The softmax's exponentials on amd64: see exp_amd64.go.

#include "textflag.h"

// Offsets of the constants in c (expKernelConsts), each in both lanes, 16-byte aligned.
#define C_HALF 0
#define C_MIN 16
#define C_INV 32
#define C_ROUND 48
#define C_HI 64
#define C_LO 80
#define C_120 96
#define C_24 112
#define C_6 128
#define C_2 144
#define C_1 160
#define C_BIAS 176

// func expShiftedSSE(s *float32, n int, mx float32, out *float64, c *float64) (z float64, ok bool)
//
// For i < n (even), two at a time: x = float64(s[i] − mx) (the subtraction in float32),
// out[i] = expNeg(x), z += out[i] in order. It computes expNeg's steps (sumExpNeg in
// model.go) in both lanes of SSE2 registers, operation for operation, each rounded as
// the scalar one is, so out and z are the same bit for bit. If an x is outside [−700, 0.5]
// (or NaN), which sumExpNeg hands to math.Exp, it stops and returns ok = false.
//
// Registers: SI s, DI out, R9 c, R8 exp2Table, CX i, DX n, X15 mx in the low two lanes,
// X4 z; X0–X3 and AX, BX work.
TEXT ·expShiftedSSE(SB), NOSPLIT, $0-49
	MOVQ s+0(FP), SI
	MOVQ n+8(FP), DX
	MOVSS mx+16(FP), X15
	SHUFPS $0, X15, X15
	MOVQ out+24(FP), DI
	MOVQ c+32(FP), R9
	LEAQ ·exp2Table(SB), R8
	XORPS X4, X4
	XORQ CX, CX
	JMP  check

loop:
	MOVSD (SI)(CX*4), X0       // s[i], s[i+1]
	SUBPS X15, X0              // − mx, in float32
	CVTPS2PD X0, X0            // x
	MOVAPD X0, X1
	CMPPD C_HALF(R9), X1, $2   // x ≤ 0.5
	MOVAPD C_MIN(R9), X2
	CMPPD X0, X2, $2           // −700 ≤ x
	ANDPD X2, X1
	MOVMSKPD X1, AX
	CMPQ AX, $3
	JNE  outside

	MOVAPD X0, X1
	MULPD C_INV(R9), X1
	ADDPD C_ROUND(R9), X1      // t = x·64/ln2 + 1.5·2^52: n in the low bits
	MOVAPD X1, X2
	SUBPD C_ROUND(R9), X2      // nf = t − 1.5·2^52
	MOVAPD X2, X3
	MULPD C_HI(R9), X3
	SUBPD X3, X0               // x − nf·hi
	MULPD C_LO(R9), X2
	SUBPD X2, X0               // r = (x − nf·hi) − nf·lo

	MOVAPD X0, X2              // p = 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r/120))))
	MULPD C_120(R9), X2
	ADDPD C_24(R9), X2
	MULPD X0, X2
	ADDPD C_6(R9), X2
	MULPD X0, X2
	ADDPD C_2(R9), X2
	MULPD X0, X2
	ADDPD C_1(R9), X2
	MULPD X0, X2
	ADDPD C_1(R9), X2

	MOVAPD X1, X3              // scale = (1023 + int32(n)>>6) << 52; the int32's high
	PSRAL $6, X3               // word is garbage that the shift by 52 drops
	PADDQ C_BIAS(R9), X3
	PSLLQ $52, X3

	MOVQ X1, AX                // exp2Table[n&63] for both lanes
	ANDQ $63, AX
	PSHUFD $0xee, X1, X1
	MOVQ X1, BX
	ANDQ $63, BX
	MOVSD (R8)(AX*8), X1
	MOVHPD (R8)(BX*8), X1

	MULPD X2, X1               // e = exp2Table[n&63] · p · scale
	MULPD X3, X1
	MOVUPD X1, (DI)(CX*8)
	ADDSD X1, X4               // z += e, the lower lane first
	UNPCKHPD X1, X1
	ADDSD X1, X4
	ADDQ $2, CX

check:
	CMPQ CX, DX
	JLT  loop
	MOVSD X4, z+40(FP)
	MOVB $1, ok+48(FP)
	RET

outside:
	MOVSD X4, z+40(FP)
	MOVB $0, ok+48(FP)
	RET

// The same constants for expShiftedAVX2, each four times: offsets 32 × those above.
#define D_HALF 0
#define D_MIN 32
#define D_INV 64
#define D_ROUND 96
#define D_HI 128
#define D_LO 160
#define D_120 192
#define D_24 224
#define D_6 256
#define D_2 288
#define D_1 320
#define D_BIAS 352

// func expShiftedAVX2(s *float32, n int, mx float32, out *float64, c *float64) (z float64, ok bool)
//
// expShiftedSSE four at a time (n a multiple of 4), in the lanes of AVX2 registers: the same
// operations, operands in the same order, so the same bits. c is expConsts4(), in which VEX
// encoding reads its operands unaligned.
//
// Registers: SI s, DI out, R9 c, R8 exp2Table, CX i, DX n, X15 mx in the four lanes, X5 z;
// Y0–Y4 and AX, BX, R10, R11 work.
TEXT ·expShiftedAVX2(SB), NOSPLIT, $0-49
	MOVQ s+0(FP), SI
	MOVQ n+8(FP), DX
	VBROADCASTSS mx+16(FP), X15
	MOVQ out+24(FP), DI
	MOVQ c+32(FP), R9
	LEAQ ·exp2Table(SB), R8
	VXORPD X5, X5, X5
	XORQ CX, CX
	JMP  avxcheck

avxloop:
	VMOVUPS   (SI)(CX*4), X0       // s[i:i+4]
	VSUBPS    X15, X0, X0          // − mx, in float32
	VCVTPS2PD X0, Y0               // x
	VCMPPD    $2, D_HALF(R9), Y0, Y1 // x ≤ 0.5
	VMOVUPD   D_MIN(R9), Y2
	VCMPPD    $2, Y0, Y2, Y2       // −700 ≤ x
	VANDPD    Y2, Y1, Y1
	VMOVMSKPD Y1, AX
	CMPQ      AX, $15
	JNE       avxoutside

	VMULPD D_INV(R9), Y0, Y1
	VADDPD D_ROUND(R9), Y1, Y1     // t
	VSUBPD D_ROUND(R9), Y1, Y2     // nf
	VMULPD D_HI(R9), Y2, Y3
	VSUBPD Y3, Y0, Y0              // x − nf·hi
	VMULPD D_LO(R9), Y2, Y2
	VSUBPD Y2, Y0, Y0              // r

	VMULPD D_120(R9), Y0, Y2       // p, as in expShiftedSSE
	VADDPD D_24(R9), Y2, Y2
	VMULPD Y0, Y2, Y2
	VADDPD D_6(R9), Y2, Y2
	VMULPD Y0, Y2, Y2
	VADDPD D_2(R9), Y2, Y2
	VMULPD Y0, Y2, Y2
	VADDPD D_1(R9), Y2, Y2
	VMULPD Y0, Y2, Y2
	VADDPD D_1(R9), Y2, Y2

	VPSRAD $6, Y1, Y3              // scale, as in expShiftedSSE
	VPADDQ D_BIAS(R9), Y3, Y3
	VPSLLQ $52, Y3, Y3

	VMOVQ        X1, AX            // exp2Table[n&63] for the four lanes
	ANDQ         $63, AX
	VPEXTRQ      $1, X1, BX
	ANDQ         $63, BX
	VEXTRACTF128 $1, Y1, X4
	VMOVQ        X4, R10
	ANDQ         $63, R10
	VPEXTRQ      $1, X4, R11
	ANDQ         $63, R11
	VMOVSD       (R8)(AX*8), X1
	VMOVHPD      (R8)(BX*8), X1, X1
	VMOVSD       (R8)(R10*8), X4
	VMOVHPD      (R8)(R11*8), X4, X4
	VINSERTF128  $1, X4, Y1, Y1

	VMULPD  Y2, Y1, Y1             // e = exp2Table[n&63] · p · scale
	VMULPD  Y3, Y1, Y1
	VMOVUPD Y1, (DI)(CX*8)
	VADDSD  X1, X5, X5             // z += e, lane by lane
	VPERMILPD $1, X1, X2
	VADDSD  X2, X5, X5
	VEXTRACTF128 $1, Y1, X1
	VADDSD  X1, X5, X5
	VPERMILPD $1, X1, X2
	VADDSD  X2, X5, X5
	ADDQ    $4, CX

avxcheck:
	CMPQ CX, DX
	JLT  avxloop
	VZEROUPPER
	MOVSD X5, z+40(FP)
	MOVB $1, ok+48(FP)
	RET

avxoutside:
	VZEROUPPER
	MOVSD X5, z+40(FP)
	MOVB $0, ok+48(FP)
	RET
