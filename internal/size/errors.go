package size

import "errors"

// Errors from [Parse].
var (
	// ErrSyntax: the input is not digits followed by an optional unit.
	ErrSyntax = errors.New("invalid size")
	// ErrUnit: the unit is not one of B, K, KiB, M, MiB, G, GiB.
	ErrUnit = errors.New("unknown unit")
	// ErrAmbiguousUnit: a unit such as KB that could mean 1000 or 1024.
	ErrAmbiguousUnit = errors.New("ambiguous unit")
	// ErrRange: the size does not fit in 64 bits.
	ErrRange = errors.New("size out of range")
)
