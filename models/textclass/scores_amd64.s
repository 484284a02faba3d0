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
	MOVQ idx+24(FP), AX
	MOVQ m+40(FP), CX
	MOVQ w+16(FP), SI
	JMP  prefetchcheck

prefetch:
	MOVLQSX (AX), R8
	IMULQ DX, R8
	ADDQ SI, R8
	PREFETCHT0 (R8)
	PREFETCHT0 64(R8)
	PREFETCHT0 128(R8)
	PREFETCHT0 192(R8)
	PREFETCHT0 -1(R8)(DX*1)
	ADDQ $4, AX
	DECQ CX

prefetchcheck:
	CMPQ CX, $0
	JGT  prefetch

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
