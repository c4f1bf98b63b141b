#include "textflag.h"

// func readTSC() uint64
//
// RDTSC alone: not ordered with the loads before it. The channel does not
// need the order (it clamps each timestamp to the last one published with
// the write offset); calibration and the sync check use readTSCOrdered.
TEXT ·readTSC(SB),NOSPLIT,$0-8
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func readTSCOrdered() uint64
//
// LFENCE then RDTSC: the counter is read after every earlier instruction
// has completed (the kernel's rdtsc_ordered), so a TSC read after a load
// that observed another CPU's store is not taken before that load.
TEXT ·readTSCOrdered(SB),NOSPLIT,$0-8
	LFENCE
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB),NOSPLIT,$0-24
	MOVL	leaf+0(FP), AX
	MOVL	sub+4(FP), CX
	CPUID
	MOVL	AX, eax+8(FP)
	MOVL	BX, ebx+12(FP)
	MOVL	CX, ecx+16(FP)
	MOVL	DX, edx+20(FP)
	RET
