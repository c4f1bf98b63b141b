package shm

import (
	"sync/atomic"
)

// head is the channel's write position: the write offset and the timestamp
// of the last record (or packet switch) published with it, two words that
// every writer compare-and-swaps as one 16-byte unit ([head.cas]). Keeping
// the timestamp in the CASed word is what lets the clock be a per-CPU
// counter: a writer stamps its record max(its clock, the head's timestamp)
// and publishes both in the CAS that claims the bytes, so timestamps never
// decrease in stream order whatever the clock's skew between CPUs or the
// order in which the CPU executes the clock read.
//
// The pair sits alone on a 64-byte cache line (see newHead): the line every
// writer's CAS bounces, and nothing else on it.
type head struct {
	p        *pair
	headLock // a mutex only where cas is not one instruction (head_generic.go)
}

// pair is the 16-byte CAS unit: off, ts. 16-byte aligned.
type pair [2]atomic.Uint64

// load returns the write offset and the head's timestamp. The two loads are
// not one atomic read; a torn pair only makes the following cas fail.
func (h *head) load() (off, ts uint64) { return h.p[0].Load(), h.p[1].Load() }

// off returns the write offset alone.
func (h *head) off() uint64 { return h.p[0].Load() }
