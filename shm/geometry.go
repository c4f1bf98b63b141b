package shm

import (
	"fmt"
	"math/bits"
)

// Geometry limits.
const (
	MinSubbufSize = 4096    // one page
	MinNumSubbuf  = 2       // a writer and a reader side
	MaxTotalSize  = 4 << 30 // 4 GiB
)

// Geometry is the shape of a ring: NumSubbuf sub-buffers of SubbufSize
// bytes each. Both are powers of two.
type Geometry struct {
	SubbufSize uint64
	NumSubbuf  uint64
}

// GeometryField names the part of a [Geometry] a rule is about.
type GeometryField int

// The parts of a geometry.
const (
	FieldSubbufSize GeometryField = iota + 1 // SubbufSize alone
	FieldNumSubbuf                           // NumSubbuf alone
	FieldTotal                               // SubbufSize x NumSubbuf
)

// GeometryError is the rule a geometry breaks, for callers that name their
// own inputs (lttctl-xen names its flags): which part, and the rule. It
// wraps [ErrGeometry].
type GeometryError struct {
	Field GeometryField
	Rule  string // "must be a power of two, at least 4096"
	msg   string // the whole message
}

func (e *GeometryError) Error() string { return fmt.Sprintf("%v: %s", ErrGeometry, e.msg) }

func (e *GeometryError) Unwrap() error { return ErrGeometry }

// Validate reports the first rule g breaks as a [*GeometryError] (which
// wraps [ErrGeometry]), with the value and the rule. It is the one home of
// the geometry rules: the hypervisor, the consumer and lttctl-xen all call
// it.
func (g Geometry) Validate() error {
	sizeRule := fmt.Sprintf("must be a power of two, at least %d (one page)", uint64(MinSubbufSize))
	countRule := fmt.Sprintf("must be a power of two, at least %d", MinNumSubbuf)
	switch {
	case g.SubbufSize < MinSubbufSize || !isPow2(g.SubbufSize):
		return &GeometryError{FieldSubbufSize, sizeRule, fmt.Sprintf("sub-buffer size %d: %s", g.SubbufSize, sizeRule)}
	case g.NumSubbuf < MinNumSubbuf || !isPow2(g.NumSubbuf):
		return &GeometryError{FieldNumSubbuf, countRule, fmt.Sprintf("sub-buffer count %d: %s", g.NumSubbuf, countRule)}
	case g.SubbufSize > MaxTotalSize/g.NumSubbuf:
		rule := fmt.Sprintf("must be at most %d bytes (4 GiB) per pCPU in all", uint64(MaxTotalSize))
		return &GeometryError{FieldTotal, rule, fmt.Sprintf("%d sub-buffers of %d bytes: %s", g.NumSubbuf, g.SubbufSize, rule)}
	}
	return nil
}

// Total is the buffer size in bytes. Only meaningful for a valid geometry.
func (g Geometry) Total() uint64 { return g.SubbufSize * g.NumSubbuf }

func (g Geometry) String() string { return fmt.Sprintf("%d x %d bytes", g.NumSubbuf, g.SubbufSize) }

func isPow2(v uint64) bool { return v != 0 && v&(v-1) == 0 }

func log2(v uint64) uint { return uint(bits.TrailingZeros64(v)) }
