//go:build !purego

// The kernel of Model.Scores on amd64: see scores_amd64.go. SSE2 only, which every amd64
// processor has, so there is nothing to detect.

#include "textflag.h"

// Broadcast the float32 at off(AX) to the four lanes of x.
#define BCAST(off, x) MOVSS off(AX), x; SHUFPS $0, x, x

// row = W + idx[k]×n×4 (bytes): the row of the k-th feature of the group; AX holds &idx[i].
#define ROW(k, row) MOVLQSX (4*k)(AX), row; IMULQ DX, row; ADDQ w+16(FP), row

// t = row[CX:CX+16 bytes] × v + acc, four labels: multiplied, rounded, then added, like the
// Go loop (SSE2 has no fused multiply-add). The operands are in the Go loop's order too, the
// weight first, then the product: when both operands are NaN, x86 returns the first one's,
// so this keeps even the NaNs' bits the same. The sum goes to t, and the next product then
// goes to the register acc was in: the sum moves from X0 to X1 and back, feature by feature.
#define QUAD(row, v, acc, t) MOVUPS (row)(CX*1), t; MULPS v, t; ADDPS acc, t

// The same for the one label at CX.
#define SINGLE(row, v, acc, t) MOVSS (row)(CX*1), t; MULSS v, t; ADDSS acc, t

// PREFETCH_ROWS prefetches the rows of all m features (see scoresSSE); DX holds a row's
// bytes. It uses AX, CX, SI and R8.
#define PREFETCH_ROWS \
	MOVQ idx+24(FP), AX; \
	MOVQ m+40(FP), CX; \
	MOVQ w+16(FP), SI; \
	JMP  prefetchcheck; \
prefetch: \
	MOVLQSX (AX), R8; \
	IMULQ DX, R8; \
	ADDQ SI, R8; \
	PREFETCHT0 (R8); \
	PREFETCHT0 64(R8); \
	PREFETCHT0 128(R8); \
	PREFETCHT0 192(R8); \
	PREFETCHT0 -1(R8)(DX*1); \
	ADDQ $4, AX; \
	DECQ CX; \
prefetchcheck: \
	CMPQ CX, $0; \
	JGT  prefetch

// func scoresSSE(dst *float32, n int, w *float32, idx *int32, val *float32, m int)
//
// Adds val[i] × w[idx[i]×n : idx[i]×n+n] to dst[:n] for i < m, in order, eight features at a
// time, then four, then one: each label's sum is loaded and stored once per group. The
// caller has checked every idx[i] is a whole row of w.
//
// Registers: DI dst, DX n×4 (a row's bytes), AX the bytes of the whole groups of four
// labels, CX the byte offset of the labels being done, R8–R13, BX, SI the group's rows,
// X8–X15 their values. The argument slots idx, val and m advance group by group.
TEXT ·scoresSSE(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), DX
	SHLQ $2, DX

	// Prefetch the rows of all the features first: they are scattered over the weights,
	// which are larger than the L2 cache (16 MB for 71k features × 58 labels), and the
	// loads of a group of eight could not be started early enough to keep the memory busy.
	// Prefetched, the scores took a third less time on the Debian corpus. Every 64 bytes
	// of the first 256 and the last byte: all of a row's cache lines for up to 64 labels;
	// the first four and the last one of longer rows, which the hardware prefetcher follows.
	PREFETCH_ROWS

group8:
	CMPQ m+40(FP), $8
	JLT  group4
	MOVQ val+32(FP), AX
	BCAST(0, X8); BCAST(4, X9); BCAST(8, X10); BCAST(12, X11)
	BCAST(16, X12); BCAST(20, X13); BCAST(24, X14); BCAST(28, X15)
	ADDQ $32, val+32(FP)
	MOVQ idx+24(FP), AX
	ROW(0, R8); ROW(1, R9); ROW(2, R10); ROW(3, R11)
	ROW(4, R12); ROW(5, R13); ROW(6, BX); ROW(7, SI)
	ADDQ $32, idx+24(FP)
	SUBQ $8, m+40(FP)
	MOVQ DX, AX
	ANDQ $-16, AX
	XORQ CX, CX
	JMP  quad8check

quad8:
	MOVUPS (DI)(CX*1), X0
	QUAD(R8, X8, X0, X1); QUAD(R9, X9, X1, X0); QUAD(R10, X10, X0, X1); QUAD(R11, X11, X1, X0)
	QUAD(R12, X12, X0, X1); QUAD(R13, X13, X1, X0); QUAD(BX, X14, X0, X1); QUAD(SI, X15, X1, X0)
	MOVUPS X0, (DI)(CX*1)
	ADDQ $16, CX

quad8check:
	CMPQ CX, AX
	JLT  quad8
	JMP  single8check

single8:
	MOVSS (DI)(CX*1), X0
	SINGLE(R8, X8, X0, X1); SINGLE(R9, X9, X1, X0); SINGLE(R10, X10, X0, X1); SINGLE(R11, X11, X1, X0)
	SINGLE(R12, X12, X0, X1); SINGLE(R13, X13, X1, X0); SINGLE(BX, X14, X0, X1); SINGLE(SI, X15, X1, X0)
	MOVSS X0, (DI)(CX*1)
	ADDQ $4, CX

single8check:
	CMPQ CX, DX
	JLT  single8
	JMP  group8

group4:
	CMPQ m+40(FP), $4
	JLT  group1
	MOVQ val+32(FP), AX
	BCAST(0, X8); BCAST(4, X9); BCAST(8, X10); BCAST(12, X11)
	ADDQ $16, val+32(FP)
	MOVQ idx+24(FP), AX
	ROW(0, R8); ROW(1, R9); ROW(2, R10); ROW(3, R11)
	ADDQ $16, idx+24(FP)
	SUBQ $4, m+40(FP)
	MOVQ DX, AX
	ANDQ $-16, AX
	XORQ CX, CX
	JMP  quad4check

quad4:
	MOVUPS (DI)(CX*1), X0
	QUAD(R8, X8, X0, X1); QUAD(R9, X9, X1, X0); QUAD(R10, X10, X0, X1); QUAD(R11, X11, X1, X0)
	MOVUPS X0, (DI)(CX*1)
	ADDQ $16, CX

quad4check:
	CMPQ CX, AX
	JLT  quad4
	JMP  single4check

single4:
	MOVSS (DI)(CX*1), X0
	SINGLE(R8, X8, X0, X1); SINGLE(R9, X9, X1, X0); SINGLE(R10, X10, X0, X1); SINGLE(R11, X11, X1, X0)
	MOVSS X0, (DI)(CX*1)
	ADDQ $4, CX

single4check:
	CMPQ CX, DX
	JLT  single4
	JMP  group4

group1:
	CMPQ m+40(FP), $1
	JLT  done
	MOVQ val+32(FP), AX
	BCAST(0, X8)
	ADDQ $4, val+32(FP)
	MOVQ idx+24(FP), AX
	ROW(0, R8)
	ADDQ $4, idx+24(FP)
	SUBQ $1, m+40(FP)
	MOVQ DX, AX
	ANDQ $-16, AX
	XORQ CX, CX
	JMP  quad1check

quad1:
	MOVUPS (DI)(CX*1), X0
	QUAD(R8, X8, X0, X1)
	MOVUPS X1, (DI)(CX*1)
	ADDQ $16, CX

quad1check:
	CMPQ CX, AX
	JLT  quad1
	JMP  single1check

single1:
	MOVSS (DI)(CX*1), X0
	SINGLE(R8, X8, X0, X1)
	MOVSS X1, (DI)(CX*1)
	ADDQ $4, CX

single1check:
	CMPQ CX, DX
	JLT  single1
	JMP  group1

done:
	RET

// The AVX kernel of Model.Scores, for processors that have AVX (cpu.X86.HasAVX): scoresSSE
// with eight labels per instruction. It multiplies, rounds, then adds, as scoresSSE does
// (AVX has no fused multiply-add; FMA is another extension, which the kernel does not use),
// with the operands in the same order, so the scores are the same bit for bit.

// t = row[CX:CX+32 bytes] × v + acc, eight labels; then the same for four and for one.
#define OCT(row, v, acc, t) VMOVUPS (row)(CX*1), t; VMULPS v, t, t; VADDPS acc, t, t
#define QUADV(row, v, acc, t) VMOVUPS (row)(CX*1), t; VMULPS v, t, t; VADDPS acc, t, t
#define SINGLEV(row, v, acc, t) VMOVSS (row)(CX*1), t; VMULSS v, t, t; VADDSS acc, t, t

// func scoresAVX(dst *float32, n int, w *float32, idx *int32, val *float32, m int)
//
// As scoresSSE, with the labels of each group of features taken eight at a time, then four,
// then one. Registers as in scoresSSE, with Y8–Y15 the values; AX the bytes of the whole
// groups of eight labels, R14 of four.
TEXT ·scoresAVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), DX
	SHLQ $2, DX
	MOVQ DX, R14
	ANDQ $-16, R14

	PREFETCH_ROWS

avx8:
	CMPQ m+40(FP), $8
	JLT  avx4
	MOVQ val+32(FP), AX
	VBROADCASTSS 0(AX), Y8; VBROADCASTSS 4(AX), Y9; VBROADCASTSS 8(AX), Y10; VBROADCASTSS 12(AX), Y11; VBROADCASTSS 16(AX), Y12; VBROADCASTSS 20(AX), Y13; VBROADCASTSS 24(AX), Y14; VBROADCASTSS 28(AX), Y15
	ADDQ $32, val+32(FP)
	MOVQ idx+24(FP), AX
	ROW(0, R8); ROW(1, R9); ROW(2, R10); ROW(3, R11); ROW(4, R12); ROW(5, R13); ROW(6, BX); ROW(7, SI)
	ADDQ $32, idx+24(FP)
	SUBQ $8, m+40(FP)
	MOVQ DX, AX
	ANDQ $-32, AX
	XORQ CX, CX
	JMP  avx8octcheck

avx8oct:
	VMOVUPS (DI)(CX*1), Y0
	OCT(R8, Y8, Y0, Y1); OCT(R9, Y9, Y1, Y0); OCT(R10, Y10, Y0, Y1); OCT(R11, Y11, Y1, Y0); OCT(R12, Y12, Y0, Y1); OCT(R13, Y13, Y1, Y0); OCT(BX, Y14, Y0, Y1); OCT(SI, Y15, Y1, Y0)
	VMOVUPS Y0, (DI)(CX*1)
	ADDQ $32, CX

avx8octcheck:
	CMPQ CX, AX
	JLT  avx8oct
	CMPQ CX, R14
	JLT  avx8quad
	JMP  avx8singlecheck

avx8quad:
	VMOVUPS (DI)(CX*1), X0
	QUADV(R8, X8, X0, X1); QUADV(R9, X9, X1, X0); QUADV(R10, X10, X0, X1); QUADV(R11, X11, X1, X0); QUADV(R12, X12, X0, X1); QUADV(R13, X13, X1, X0); QUADV(BX, X14, X0, X1); QUADV(SI, X15, X1, X0)
	VMOVUPS X0, (DI)(CX*1)
	ADDQ $16, CX

	JMP  avx8singlecheck

avx8single:
	VMOVSS (DI)(CX*1), X0
	SINGLEV(R8, X8, X0, X1); SINGLEV(R9, X9, X1, X0); SINGLEV(R10, X10, X0, X1); SINGLEV(R11, X11, X1, X0); SINGLEV(R12, X12, X0, X1); SINGLEV(R13, X13, X1, X0); SINGLEV(BX, X14, X0, X1); SINGLEV(SI, X15, X1, X0)
	VMOVSS X0, (DI)(CX*1)
	ADDQ $4, CX

avx8singlecheck:
	CMPQ CX, DX
	JLT  avx8single
	JMP  avx8

avx4:
	CMPQ m+40(FP), $4
	JLT  avx1
	MOVQ val+32(FP), AX
	VBROADCASTSS 0(AX), Y8; VBROADCASTSS 4(AX), Y9; VBROADCASTSS 8(AX), Y10; VBROADCASTSS 12(AX), Y11
	ADDQ $16, val+32(FP)
	MOVQ idx+24(FP), AX
	ROW(0, R8); ROW(1, R9); ROW(2, R10); ROW(3, R11)
	ADDQ $16, idx+24(FP)
	SUBQ $4, m+40(FP)
	MOVQ DX, AX
	ANDQ $-32, AX
	XORQ CX, CX
	JMP  avx4octcheck

avx4oct:
	VMOVUPS (DI)(CX*1), Y0
	OCT(R8, Y8, Y0, Y1); OCT(R9, Y9, Y1, Y0); OCT(R10, Y10, Y0, Y1); OCT(R11, Y11, Y1, Y0)
	VMOVUPS Y0, (DI)(CX*1)
	ADDQ $32, CX

avx4octcheck:
	CMPQ CX, AX
	JLT  avx4oct
	CMPQ CX, R14
	JLT  avx4quad
	JMP  avx4singlecheck

avx4quad:
	VMOVUPS (DI)(CX*1), X0
	QUADV(R8, X8, X0, X1); QUADV(R9, X9, X1, X0); QUADV(R10, X10, X0, X1); QUADV(R11, X11, X1, X0)
	VMOVUPS X0, (DI)(CX*1)
	ADDQ $16, CX

	JMP  avx4singlecheck

avx4single:
	VMOVSS (DI)(CX*1), X0
	SINGLEV(R8, X8, X0, X1); SINGLEV(R9, X9, X1, X0); SINGLEV(R10, X10, X0, X1); SINGLEV(R11, X11, X1, X0)
	VMOVSS X0, (DI)(CX*1)
	ADDQ $4, CX

avx4singlecheck:
	CMPQ CX, DX
	JLT  avx4single
	JMP  avx4

avx1:
	CMPQ m+40(FP), $1
	JLT  avxdone
	MOVQ val+32(FP), AX
	VBROADCASTSS 0(AX), Y8
	ADDQ $4, val+32(FP)
	MOVQ idx+24(FP), AX
	ROW(0, R8)
	ADDQ $4, idx+24(FP)
	SUBQ $1, m+40(FP)
	MOVQ DX, AX
	ANDQ $-32, AX
	XORQ CX, CX
	JMP  avx1octcheck

avx1oct:
	VMOVUPS (DI)(CX*1), Y0
	OCT(R8, Y8, Y0, Y1)
	VMOVUPS Y1, (DI)(CX*1)
	ADDQ $32, CX

avx1octcheck:
	CMPQ CX, AX
	JLT  avx1oct
	CMPQ CX, R14
	JLT  avx1quad
	JMP  avx1singlecheck

avx1quad:
	VMOVUPS (DI)(CX*1), X0
	QUADV(R8, X8, X0, X1)
	VMOVUPS X1, (DI)(CX*1)
	ADDQ $16, CX

	JMP  avx1singlecheck

avx1single:
	VMOVSS (DI)(CX*1), X0
	SINGLEV(R8, X8, X0, X1)
	VMOVSS X1, (DI)(CX*1)
	ADDQ $4, CX

avx1singlecheck:
	CMPQ CX, DX
	JLT  avx1single
	JMP  avx1

avxdone:
	VZEROUPPER
	RET
