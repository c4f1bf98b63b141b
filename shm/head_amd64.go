//go:build amd64 && !race

package shm

// cas128 is LOCK CMPXCHG16B on p (head_amd64.s).
//
//go:noescape
func cas128(p *pair, old0, old1, new0, new1 uint64) (ok bool, cur0, cur1 uint64)

// cas replaces (off, ts) == (o, t) with (no, nt) in one atomic step. On
// failure it returns the pair it found instead (read atomically, as one
// 16-byte unit).
func (h *head) cas(o, t, no, nt uint64) (ok bool, curOff, curTS uint64) {
	return cas128(h.p, o, t, no, nt)
}

// headLock is empty here: cas is one LOCK CMPXCHG16B (head_amd64.s).
type headLock struct{}
