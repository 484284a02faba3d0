//go:build !purego

// Vectorizer.asciiRun's loop on amd64, for Numbers "keep": see asciirun_amd64.go, and
// asciiRun in Go for the reasoning behind each step, which this follows, except that a
// token is classified 16 bytes at a time with SSE2 (which every amd64 processor has) rather
// than 8 in a general register (classify8).
//
// Registers: SI text, DI i, R9 ids, R10 nids, R11 slots; AX, BX, CX, DX, R12, R13, R14 are
// scratch; X7 is zero and X8–X12 hold the constants below. limit, mask, shift and minLen
// are read from the arguments when needed.

#include "textflag.h"

// The constants of the classification, 16 bytes each: 0x20, 'a', 25, '0', 9; then keep<>:
// at 16n, n bytes of 0xff and 16−n of zero, for n ≤ 12.
DATA consts<>+0x00(SB)/8, $0x2020202020202020
DATA consts<>+0x08(SB)/8, $0x2020202020202020
DATA consts<>+0x10(SB)/8, $0x6161616161616161
DATA consts<>+0x18(SB)/8, $0x6161616161616161
DATA consts<>+0x20(SB)/8, $0x1919191919191919
DATA consts<>+0x28(SB)/8, $0x1919191919191919
DATA consts<>+0x30(SB)/8, $0x3030303030303030
DATA consts<>+0x38(SB)/8, $0x3030303030303030
DATA consts<>+0x40(SB)/8, $0x0909090909090909
DATA consts<>+0x48(SB)/8, $0x0909090909090909
GLOBL consts<>(SB), RODATA|NOPTR, $80

DATA keep<>+0x00(SB)/8, $0x0000000000000000
DATA keep<>+0x08(SB)/8, $0x0000000000000000
DATA keep<>+0x10(SB)/8, $0x00000000000000ff
DATA keep<>+0x18(SB)/8, $0x0000000000000000
DATA keep<>+0x20(SB)/8, $0x000000000000ffff
DATA keep<>+0x28(SB)/8, $0x0000000000000000
DATA keep<>+0x30(SB)/8, $0x0000000000ffffff
DATA keep<>+0x38(SB)/8, $0x0000000000000000
DATA keep<>+0x40(SB)/8, $0x00000000ffffffff
DATA keep<>+0x48(SB)/8, $0x0000000000000000
DATA keep<>+0x50(SB)/8, $0x000000ffffffffff
DATA keep<>+0x58(SB)/8, $0x0000000000000000
DATA keep<>+0x60(SB)/8, $0x0000ffffffffffff
DATA keep<>+0x68(SB)/8, $0x0000000000000000
DATA keep<>+0x70(SB)/8, $0x00ffffffffffffff
DATA keep<>+0x78(SB)/8, $0x0000000000000000
DATA keep<>+0x80(SB)/8, $0xffffffffffffffff
DATA keep<>+0x88(SB)/8, $0x0000000000000000
DATA keep<>+0x90(SB)/8, $0xffffffffffffffff
DATA keep<>+0x98(SB)/8, $0x00000000000000ff
DATA keep<>+0xa0(SB)/8, $0xffffffffffffffff
DATA keep<>+0xa8(SB)/8, $0x000000000000ffff
DATA keep<>+0xb0(SB)/8, $0xffffffffffffffff
DATA keep<>+0xb8(SB)/8, $0x0000000000ffffff
DATA keep<>+0xc0(SB)/8, $0xffffffffffffffff
DATA keep<>+0xc8(SB)/8, $0x00000000ffffffff
GLOBL keep<>(SB), RODATA|NOPTR, $208

// func asciiRunAsm(text *byte, i, limit int, ids *int32, nids int, slots *termSlot, mask, shift uint64, minLen int) (newI, newNids int, general bool)
TEXT ·asciiRunAsm(SB), NOSPLIT, $0-89
	MOVQ text+0(FP), SI
	MOVQ i+8(FP), DI
	MOVQ ids+24(FP), R9
	MOVQ nids+32(FP), R10
	MOVQ slots+40(FP), R11
	PXOR  X7, X7
	MOVOU consts<>+0x00(SB), X8
	MOVOU consts<>+0x10(SB), X9
	MOVOU consts<>+0x20(SB), X10
	MOVOU consts<>+0x30(SB), X11
	MOVOU consts<>+0x40(SB), X12

loop:
	// The 16 bytes at text[i]: X1 = their letters, X2 = their letters and digits (0xff
	// each), DX = the bits of X2. A byte is a letter if (b | 0x20) − 'a' ≤ 25, a digit if
	// b − '0' ≤ 9, unsigned: the saturating subtraction of the bound leaves zero exactly
	// then. A non-ASCII byte is neither.
	CMPQ DI, limit+16(FP)
	JGE  done
	MOVOU    (SI)(DI*1), X0
	MOVO     X0, X1
	POR      X8, X1
	PSUBB    X9, X1
	PSUBUSB  X10, X1
	PCMPEQB  X7, X1
	MOVO     X0, X2
	PSUBB    X11, X2
	PSUBUSB  X12, X2
	PCMPEQB  X7, X2
	POR      X1, X2
	PMOVMSKB X2, DX
	TESTL    $1, DX
	JNZ      token
	// Outside a token every ASCII byte separates: skip to the first letter, digit or
	// non-ASCII byte (the bits of X0), which is the general scanner's if it is that.
	PMOVMSKB X0, R13
	ORL  R13, DX
	ORL  $0x10000, DX
	BSFL DX, R14                 // bit 16 is set: at most 16
	TESTL R14, R14
	JZ   general
	ADDQ R14, DI                 // possibly past limit: those bytes separate too
	JMP  loop

token:
	// The token at text[i]: R12 = the bits of its letters, R14 = n, then lo and hi in AX
	// and BX.
	NOTL     DX                  // the bytes that are not in a word, and the bits above 16
	BSFL     DX, R14             // n: the token's length
	CMPQ     R14, $12
	JA       general             // longer than 12 bytes: it does not pack
	PMOVMSKB X1, R12
	PAND     X8, X1
	POR      X0, X1              // folded: a capital letter gains 0x20
	MOVQ     R14, CX
	SHLQ     $4, CX
	LEAQ     keep<>(SB), R13
	MOVOU    (R13)(CX*1), X3
	PAND     X3, X1              // the token's bytes only
	MOVQ     X1, AX              // lo
	PSRLDQ   $8, X1
	MOVQ     X1, BX              // hi

ended:
	// The byte after the token, text[end], must end it as the general scanner would.
	LEAQ (DI)(R14*1), DX         // end
	MOVBLZX (SI)(DX*1), R13
	CMPL R13, $0x80
	JAE  general
	CMPL R13, $0x27              // '\''
	JEQ  apostrophe
	CMPL R13, $0x2e              // '.'
	JEQ  separator
	CMPL R13, $0x2c              // ','
	JEQ  separator

accept:
	LEAQ 1(DX), DI               // text[end] separates and is not part of the next token
	CMPQ R14, minLen+64(FP)
	JLT  loop                    // too short
	// Look the packed term up: termTable.hash, then linear probing.
	MOVQ $0x9e3779b97f4a7c15, DX
	IMULQ AX, DX
	XORQ BX, DX
	MOVQ $0xbf58476d1ce4e5b9, R13
	IMULQ R13, DX
	MOVQ shift+56(FP), CX
	SHRQ CX, DX
	ANDQ mask+48(FP), DX

probe:
	MOVQ DX, R13
	SHLQ $4, R13
	ADDQ R11, R13                // &slots[k]
	CMPQ AX, 0(R13)
	JNE  miss
	CMPL BX, 8(R13)
	JNE  miss
	// Found: append its value unless it is −1 (a stop word), without a branch on it.
	MOVLQSX 12(R13), R13
	MOVL R13, (R9)(R10*4)
	SARQ $63, R13
	LEAQ 1(R10)(R13*1), R10
	JMP  loop

miss:
	CMPQ 0(R13), $0
	JEQ  loop                    // an empty slot: an unknown term
	INCQ DX
	ANDQ mask+48(FP), DX
	JMP  probe

apostrophe:
	// Between letters it stays in the token: give a letter or non-ASCII byte after it to
	// the general scanner.
	MOVBLZX 1(SI)(DX*1), R13
	CMPL R13, $0x80
	JAE  general
	ORL  $0x20, R13
	SUBL $0x61, R13
	CMPL R13, $26
	JB   general
	JMP  accept

separator:
	// '.' or ',' between digits stays in a number: give a number followed by a digit or a
	// non-ASCII byte to the general scanner.
	MOVL R14, CX
	MOVL $1, R13
	SHLL CX, R13
	DECL R13
	TESTL R13, R12               // a letter among the token's n bytes
	JNZ  accept
	MOVBLZX 1(SI)(DX*1), R13
	CMPL R13, $0x80
	JAE  general
	SUBL $0x30, R13
	CMPL R13, $10
	JB   general
	JMP  accept

done:
	MOVQ DI, newI+72(FP)
	MOVQ R10, newNids+80(FP)
	MOVB $0, general+88(FP)
	RET

general:
	MOVQ DI, newI+72(FP)
	MOVQ R10, newNids+80(FP)
	MOVB $1, general+88(FP)
	RET
