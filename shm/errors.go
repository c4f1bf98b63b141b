package shm

import "errors"

// Sentinel errors. Callers compare with errors.Is; the returned errors
// usually wrap these with the offending value.
var (
	// ErrGeometry: the sub-buffer size or count breaks a rule (power of
	// two, minimum size, minimum count, total size).
	ErrGeometry = errors.New("bad geometry")
	// ErrBadMagic: a control page does not start with the lttng-xen magic.
	ErrBadMagic = errors.New("bad control page magic")
	// ErrVersion: the control page layout version is not one we know.
	ErrVersion = errors.New("unknown control page layout version")
	// ErrTooSmall: a control page or buffer is smaller than its geometry needs.
	ErrTooSmall = errors.New("memory region too small")
	// ErrAlignment: a region is not 8-byte aligned, so its words cannot be
	// used atomically.
	ErrAlignment = errors.New("memory region not 8-byte aligned")
	// ErrMode: the channel mode is unknown or not implemented.
	ErrMode = errors.New("unsupported channel mode")
	// ErrFull: the record was dropped because the sub-buffer it needed has not
	// been released by the consumer (discard mode). It has been counted.
	ErrFull = errors.New("buffer full: record discarded")
	// ErrTooBig: the record can never fit in a sub-buffer. It has been counted.
	ErrTooBig = errors.New("record larger than a sub-buffer's payload")
)
