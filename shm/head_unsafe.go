package shm

import "unsafe"

// newHead returns a head whose pair is 64-byte aligned, alone on its cache
// line (LOCK CMPXCHG16B needs 16-byte alignment; the line keeps the
// writers' CAS from bouncing anything else). The backing array is plain
// bytes: a pair holds no pointers.
func newHead() *head {
	const line = 64
	b := make([]byte, 2*line)
	skip := (line - uintptr(unsafe.Pointer(&b[0]))%line) % line
	return &head{p: (*pair)(unsafe.Pointer(&b[skip]))}
}
