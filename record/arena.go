package record

import "bytes"

// arenaChunk is the size of the chunks a [Reader] carves string and
// byte-sequence values from; a value above a quarter of it gets its own
// allocation.
const arenaChunk = 32 << 10

// keep returns a copy of b that nothing will ever write to again, carved
// from the Reader's current arena chunk (nil for an empty b). Chunks are
// only ever appended to: a value handed out stays as it is for as long as
// anyone holds it, and keeps its chunk alive.
func (r *Reader) keep(b []byte) []byte {
	n := len(b)
	switch {
	case n == 0:
		return nil
	case n > arenaChunk/4:
		return bytes.Clone(b)
	case cap(r.arena)-len(r.arena) < n:
		r.arena = make([]byte, 0, arenaChunk)
	}
	start := len(r.arena)
	r.arena = append(r.arena, b...)
	return r.arena[start:len(r.arena):len(r.arena)]
}

// keepString returns b as a string backed by [Reader.keep]'s copy: no
// allocation of its own, and safe because that copy is never written to.
func (r *Reader) keepString(b []byte) string {
	return unsafeString(r.keep(b))
}
