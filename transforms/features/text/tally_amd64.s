//go:build !purego

// marks.readBack with idf on amd64: see tally_amd64.go.

#include "textflag.h"

// The offsets of marks' arrays (checked in tally_amd64.go).
#define SEEN 0x40000
#define SEENWORDS 0x48000

// func readWeightsAsm(m *marks, summary int, idf *float32, dim int, table *[256]float64, idx *int32, val *float32) (norm float64, ok bool)
//
// For each set bit of seenWords[:summary], lowest first, each set bit of the word of seen it
// stands for, lowest first: the feature j; idx[k] = j, w = table[tally[j]] × float64(idf[j]),
// val[k] = float32(w), norm += w × w; tally[j], seen and seenWords are cleared as they are
// read.
//
// Registers: R8 m, R9 the summary word's index, R10 its bits left, R13 64 × the seen word's
// index, R14 its bits left, CX j, DX tally[j], SI idf, DI table, AX idx, BX val, R12 k,
// R11 dim, X0 norm.
TEXT ·readWeightsAsm(SB), NOSPLIT, $0-65
	MOVQ m+0(FP), R8
	MOVQ idf+16(FP), SI
	MOVQ dim+24(FP), R11
	MOVQ table+32(FP), DI
	MOVQ idx+40(FP), AX
	MOVQ val+48(FP), BX
	XORQ R9, R9
	XORQ R12, R12
	XORPS X0, X0
	JMP  summarycheck

summary:
	MOVQ SEENWORDS(R8)(R9*8), R10
	TESTQ R10, R10
	JZ   nextsummary
	MOVQ $0, SEENWORDS(R8)(R9*8)

word:
	BSFQ R10, R13
	LEAQ -1(R10), DX
	ANDQ DX, R10                 // that bit cleared
	MOVQ R9, DX
	SHLQ $6, DX
	ORQ  DX, R13                 // the seen word's index
	MOVQ SEEN(R8)(R13*8), R14
	MOVQ $0, SEEN(R8)(R13*8)
	SHLQ $6, R13

feature:
	BSFQ R14, CX
	LEAQ -1(R14), DX
	ANDQ DX, R14
	ORQ  R13, CX                 // j
	CMPQ CX, R11
	JAE  outside
	MOVBLZX (R8)(CX*1), DX
	MOVB $0, (R8)(CX*1)
	MOVSS (SI)(CX*4), X1
	CVTSS2SD X1, X1
	MOVSD (DI)(DX*8), X2
	MULSD X1, X2                 // w = table[tf] × idf
	MOVL CX, (AX)(R12*4)
	CVTSD2SS X2, X3
	MOVSS X3, (BX)(R12*4)
	MULSD X2, X2
	ADDSD X2, X0
	INCQ R12
	TESTQ R14, R14
	JNZ  feature
	TESTQ R10, R10
	JNZ  word

nextsummary:
	INCQ R9

summarycheck:
	CMPQ R9, summary+8(FP)
	JLT  summary
	MOVSD X0, norm+56(FP)
	MOVB $1, ok+64(FP)
	RET

outside:
	MOVSD X0, norm+56(FP)
	MOVB $0, ok+64(FP)
	RET
