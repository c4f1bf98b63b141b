//go:build !race

#include "textflag.h"

// func cas128(p *pair, old0, old1, new0, new1 uint64) (ok bool, cur0, cur1 uint64)
//
// LOCK CMPXCHG16B: if p[0], p[1] == old0, old1, store new0, new1 and
// return true; else return false and the pair as found (the instruction
// loads it into DX:AX), so a retry needs no separate load. A full barrier,
// like every locked instruction (sequentially consistent, as sync/atomic's
// CompareAndSwap). p must be 16-byte aligned.
TEXT ·cas128(SB),NOSPLIT,$0-64
	MOVQ	p+0(FP), DI
	MOVQ	old0+8(FP), AX
	MOVQ	old1+16(FP), DX
	MOVQ	new0+24(FP), BX
	MOVQ	new1+32(FP), CX
	LOCK
	CMPXCHG16B	(DI)
	SETEQ	ok+40(FP)
	MOVQ	AX, cur0+48(FP)
	MOVQ	DX, cur1+56(FP)
	RET
