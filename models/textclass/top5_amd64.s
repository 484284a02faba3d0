//go:build !purego

// The selection of the 5 best scores on amd64: see top5_amd64.go. SSE2 only, which every
// amd64 processor has.

#include "textflag.h"

// func top5SSE(s *float32, n int, best *int) bool
//
// The scores are copied to the frame, and each one taken is overwritten there by −Inf, which
// is below every score left, since none is −Inf (or NaN: the copy checks). Five times: the
// maximum of the copy, by MAXPS, then a 64-bit mask with a bit for each score equal to it,
// whose lowest bit is the index taken. The scores are read four at a time: the whole groups
// of four from the start, and the last four, which overlap the last whole group when n is
// not a multiple of 4; an overlapping score is simply seen twice, with the same index.
//
// Registers: SI the copy, R8 its last four scores, DX n, R9 the bytes of the whole groups,
// DI best, R10 8 × the pass, X7 four −Inf.
TEXT ·top5SSE(SB), NOSPLIT, $256-25
	MOVQ s+0(FP), AX
	MOVQ n+8(FP), DX
	MOVQ best+16(FP), DI
	LEAQ (SP), SI
	LEAQ -16(SI)(DX*4), R8
	MOVQ DX, R9
	ANDQ $-4, R9
	SHLQ $2, R9

	// Copy, and check that −Inf < every score (false for −Inf and for NaN).
	MOVL     $0xff800000, BX
	MOVQ     BX, X7
	SHUFPS   $0, X7, X7
	PCMPEQL  X6, X6 // all ones: every lane checked so far is fine
	XORQ     CX, CX

copy:
	MOVUPS (AX)(CX*1), X1
	MOVUPS X1, (SI)(CX*1)
	MOVAPS X7, X2
	CMPPS  X1, X2, $1 // X2 = −Inf < X1
	ANDPS  X2, X6
	ADDQ   $16, CX
	CMPQ   CX, R9
	JLT    copy
	MOVUPS -16(AX)(DX*4), X1
	MOVUPS X1, (R8)
	MOVAPS X7, X2
	CMPPS  X1, X2, $1
	ANDPS  X2, X6
	MOVMSKPS X6, BX
	CMPQ   BX, $15
	JNE    decline

	XORQ R10, R10

pass:
	// X0 = the maximum in every lane. The scores compared are never NaN, so MAXPS is an
	// exact maximum; of +0 and −0 it may keep either, and both compare equal below.
	MOVUPS (R8), X0
	XORQ   CX, CX

max:
	MOVUPS (SI)(CX*1), X1
	MAXPS  X1, X0
	ADDQ   $16, CX
	CMPQ   CX, R9
	JLT    max
	MOVAPS X0, X1
	SHUFPS $0x4e, X1, X1 // the two halves swapped
	MAXPS  X1, X0
	MOVAPS X0, X1
	SHUFPS $0xb1, X1, X1 // neighbours swapped
	MAXPS  X1, X0

	// BX = a bit for each score equal to the maximum, at its index; CX is the index of the
	// group, R11 its bytes.
	XORQ BX, BX
	XORQ CX, CX
	XORQ R11, R11

equal:
	MOVUPS   (SI)(R11*1), X1
	CMPPS    X0, X1, $0 // X1 = X1 == X0
	MOVMSKPS X1, AX
	SHLQ     CX, AX
	ORQ      AX, BX
	ADDQ     $16, R11
	ADDQ     $4, CX
	CMPQ     R11, R9
	JLT      equal
	MOVUPS   (R8), X1
	CMPPS    X0, X1, $0
	MOVMSKPS X1, AX
	LEAQ     -4(DX), CX
	SHLQ     CX, AX
	ORQ      AX, BX

	// The lowest index of the maximum (BX is not zero: the maximum is one of the scores) is
	// the next best; it is taken out of the copy.
	BSFQ BX, AX
	MOVQ AX, (DI)(R10*1)
	MOVL $0xff800000, (SI)(AX*4)
	ADDQ $8, R10
	CMPQ R10, $40
	JLT  pass

	MOVB $1, ret+24(FP)
	RET

decline:
	MOVB $0, ret+24(FP)
	RET

DATA negInf<>+0(SB)/4, $0xff800000
GLOBL negInf<>(SB), RODATA|NOPTR, $4

// func top5AVX(s *float32, n int, best *int) bool
//
// top5SSE with eight scores at a time: the whole groups of eight from the start, then the
// last eight (n ≥ 8). Registers as there; Y7 is eight −Inf.
TEXT ·top5AVX(SB), NOSPLIT, $256-25
	MOVQ s+0(FP), AX
	MOVQ n+8(FP), DX
	MOVQ best+16(FP), DI
	LEAQ (SP), SI
	LEAQ -32(SI)(DX*4), R8
	MOVQ DX, R9
	ANDQ $-8, R9
	SHLQ $2, R9

	VBROADCASTSS negInf<>(SB), Y7
	VCMPPS $0, Y7, Y7, Y6 // all ones: every lane checked so far is fine
	XORQ   CX, CX

avxcopy:
	VMOVUPS (AX)(CX*1), Y1
	VMOVUPS Y1, (SI)(CX*1)
	VCMPPS  $1, Y1, Y7, Y2 // Y2 = −Inf < Y1
	VANDPS  Y2, Y6, Y6
	ADDQ    $32, CX
	CMPQ    CX, R9
	JLT     avxcopy
	VMOVUPS -32(AX)(DX*4), Y1
	VMOVUPS Y1, (R8)
	VCMPPS  $1, Y1, Y7, Y2
	VANDPS  Y2, Y6, Y6
	VMOVMSKPS Y6, BX
	CMPQ    BX, $255
	JNE     avxdecline

	XORQ R10, R10

avxpass:
	VMOVUPS (R8), Y0
	XORQ    CX, CX

avxmax:
	VMAXPS (SI)(CX*1), Y0, Y0
	ADDQ   $32, CX
	CMPQ   CX, R9
	JLT    avxmax
	VPERM2F128 $1, Y0, Y0, Y1 // the two halves swapped
	VMAXPS     Y1, Y0, Y0
	VPERMILPS  $0x4e, Y0, Y1  // the pairs of each half swapped
	VMAXPS     Y1, Y0, Y0
	VPERMILPS  $0xb1, Y0, Y1  // neighbours swapped
	VMAXPS     Y1, Y0, Y0

	XORQ BX, BX
	XORQ CX, CX
	XORQ R11, R11

avxequal:
	VCMPPS    $0, (SI)(R11*1), Y0, Y1 // Y1 = Y0 == the scores
	VMOVMSKPS Y1, AX
	SHLQ      CX, AX
	ORQ       AX, BX
	ADDQ      $32, R11
	ADDQ      $8, CX
	CMPQ      R11, R9
	JLT       avxequal
	VCMPPS    $0, (R8), Y0, Y1
	VMOVMSKPS Y1, AX
	LEAQ      -8(DX), CX
	SHLQ      CX, AX
	ORQ       AX, BX

	BSFQ BX, AX
	MOVQ AX, (DI)(R10*1)
	MOVL $0xff800000, (SI)(AX*4)
	ADDQ $8, R10
	CMPQ R10, $40
	JLT  avxpass

	VZEROUPPER
	MOVB $1, ret+24(FP)
	RET

avxdecline:
	VZEROUPPER
	MOVB $0, ret+24(FP)
	RET
