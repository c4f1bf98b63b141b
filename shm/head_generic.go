//go:build !amd64 || race

package shm

import "sync"

// headLock serialises cas where the CPU has no 16-byte CAS, and under the
// race detector, which cannot see one done in assembly.
type headLock struct{ mu sync.Mutex }

// cas replaces (off, ts) == (o, t) with (no, nt) in one step, under h.mu:
// the portable form of the 16-byte CAS, also used under the race detector,
// which would not see the assembly one and so would miss the
// happens-before edges the head carries. On failure it returns the pair it
// found instead. Readers outside the lock ([head.load]) may see a torn
// pair; their next cas then fails and returns a whole one.
func (h *head) cas(o, t, no, nt uint64) (ok bool, curOff, curTS uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	curOff, curTS = h.p[0].Load(), h.p[1].Load()
	if curOff != o || curTS != t {
		return false, curOff, curTS
	}
	h.p[1].Store(nt)
	h.p[0].Store(no)
	return true, no, nt
}
