package record

import "unsafe"

// unsafeString returns the bytes of b as a string without copying them.
// The caller guarantees nothing writes to b afterwards (see [Reader.keep]).
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
