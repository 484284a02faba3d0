//go:build !purego

// Vectorizer.asciiRun's loop on amd64, for Numbers "keep": see asciirun_amd64.go, and
// asciiRun and classify8 in Go for the reasoning behind each step, which this follows.
//
// Registers: SI text, DI i, R9 ids, R10 nids, R11 slots; AX, BX, CX, DX, R8, R12, R13, R14
// are scratch. limit, mask, shift and minLen are read from the arguments when needed.

#include "textflag.h"

// CLASSIFY sets letter and word for the 8 bytes in x (as classify8), using t1, t2 and t3,
// and leaves x as it was. In order: t = x &^ bytesHigh; u = t | 0x20 (in word for a while);
// letter = (u + (0x80−'a')) &^ (u + (0x80−'z'−1)) & ascii, with ascii = ^x & bytesHigh;
// digit = (t + (0x80−'0')) &^ (t + (0x80−'9'−1)) & ascii; word = letter | digit.
#define CLASSIFY(x, letter, word, t1, t2, t3) \
	MOVQ $0x7f7f7f7f7f7f7f7f, t1; ANDQ x, t1; \
	MOVQ $0x2020202020202020, word; ORQ t1, word; \
	MOVQ $0x1f1f1f1f1f1f1f1f, letter; ADDQ word, letter; \
	MOVQ $0x0505050505050505, t2; ADDQ t2, word; NOTQ word; ANDQ word, letter; \
	MOVQ x, t3; NOTQ t3; MOVQ $0x8080808080808080, t2; ANDQ t2, t3; \
	ANDQ t3, letter; \
	MOVQ $0x5050505050505050, word; ADDQ t1, word; \
	MOVQ $0x4646464646464646, t2; ADDQ t2, t1; NOTQ t1; ANDQ t1, word; \
	ANDQ t3, word; ORQ letter, word

// UPPER puts the capitals among the letters in the register up: letter &^ (x << 2).
#define UPPER(x, letter, up) MOVQ x, up; SHLQ $2, up; NOTQ up; ANDQ letter, up

// func asciiRunAsm(text *byte, i, limit int, ids *int32, nids int, slots *termSlot, mask, shift uint64, minLen int) (newI, newNids int, general bool)
TEXT ·asciiRunAsm(SB), NOSPLIT, $0-89
	MOVQ text+0(FP), SI
	MOVQ i+8(FP), DI
	MOVQ ids+24(FP), R9
	MOVQ nids+32(FP), R10
	MOVQ slots+40(FP), R11

loop:
	CMPQ DI, limit+16(FP)
	JGE  done
	MOVBLZX (SI)(DI*1), AX
	CMPL AX, $0x80
	JAE  general                 // a non-ASCII byte outside a token: the general scanner's
	LEAQ ·asciiWord(SB), BX
	MOVBLZX (BX)(AX*1), BX
	TESTL BX, BX
	JNZ  token
	INCQ DI                      // every other ASCII byte separates
	JMP  loop

token:
	// The token at text[i]: AX = x, R12 = letters, BX = capitals, R14 = n, then lo and hi
	// in AX and BX.
	MOVQ (SI)(DI*1), AX
	CLASSIFY(AX, R12, DX, BX, R13, R14)
	UPPER(AX, R12, BX)
	NOTQ DX
	MOVQ $0x8080808080808080, R13
	ANDQ R13, DX                 // the bytes that are not in a word
	JZ   long
	BSFQ DX, R14
	SHRQ $3, R14                 // n: the token's length
	MOVQ DX, R13
	NEGQ R13
	ANDQ DX, R13
	SHRQ $7, R13
	DECQ R13                     // keep: the token's bytes
	ANDQ R13, AX
	ANDQ R13, R12
	ANDQ R13, BX
	SHRQ $2, BX
	ORQ  BX, AX                  // lo, folded
	XORL BX, BX                  // hi
	JMP  ended

long:
	// Eight word bytes: the token goes on in text[i+8:], for at most 4 more bytes.
	SHRQ $2, BX
	ORQ  BX, AX                  // lo, folded
	MOVQ 8(SI)(DI*1), R8         // x2
	CLASSIFY(R8, CX, DX, BX, R13, R14)
	NOTQ DX
	MOVQ $0x8080808080808080, R13
	ANDQ R13, DX
	JZ   general                 // longer than 16 bytes
	BSFQ DX, R14
	SHRQ $3, R14                 // n2
	CMPQ R14, $4
	JA   general                 // longer than 12 bytes: it does not pack
	MOVQ DX, R13
	NEGQ R13
	ANDQ DX, R13
	SHRQ $7, R13
	DECQ R13                     // keep2
	UPPER(R8, CX, BX)
	ANDQ R13, BX
	SHRQ $2, BX
	ORQ  R8, BX
	ANDQ R13, BX                 // hi, folded
	ANDQ R13, CX
	ORQ  CX, R12                 // letters
	ADDQ $8, R14                 // n

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
	TESTQ R12, R12
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
