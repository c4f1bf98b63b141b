package shm

import (
	"sync/atomic"
	"unsafe"
)

// word returns the 64-bit word at byte offset off of b for atomic access.
// The caller guarantees that &b[0] is 8-byte aligned (checked once, by
// checkAligned, when the region is adopted) and that off is a multiple of
// 8; slicing b[off:off+8] bounds-checks the access without reading memory
// (a plain read would be a data race under the race detector).
func word(b []byte, off int) *atomic.Uint64 {
	_ = b[off : off+8]
	return (*atomic.Uint64)(unsafe.Pointer(&b[off]))
}

// checkAligned reports whether b starts on an 8-byte boundary.
func checkAligned(b []byte) bool {
	return len(b) > 0 && uintptr(unsafe.Pointer(&b[0]))%8 == 0
}
