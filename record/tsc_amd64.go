package record

// readTSC returns the time-stamp counter (RDTSC, not ordered with earlier
// loads). Implemented in tsc_amd64.s.
//
//go:noescape
func readTSC() uint64

// readTSCOrdered returns the time-stamp counter read after every earlier
// instruction has completed (LFENCE; RDTSC).
//
//go:noescape
func readTSCOrdered() uint64

//go:noescape
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// invariantTSC reports whether the CPU declares an invariant TSC (CPUID
// 0x80000007 EDX bit 8: constant rate in every P-, C- and T-state, the
// constant_tsc and nonstop_tsc flags of /proc/cpuinfo).
func invariantTSC() bool {
	if max, _, _, _ := cpuid(0x80000000, 0); max < 0x80000007 {
		return false
	}
	_, _, _, edx := cpuid(0x80000007, 0)
	return edx&(1<<8) != 0
}
