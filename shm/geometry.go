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

// Geometry is the shape of the ring: NumSubbuf sub-buffers of SubbufSize
// bytes each. Both are powers of two.
type Geometry struct {
	SubbufSize uint64
	NumSubbuf  uint64
}

// Validate reports the first rule g breaks, wrapping [ErrGeometry] with the
// value and the rule.
func (g Geometry) Validate() error {
	switch {
	case g.SubbufSize < MinSubbufSize:
		return fmt.Errorf("%w: sub-buffer size %d is below the minimum %d (one page)", ErrGeometry, g.SubbufSize, MinSubbufSize)
	case !isPow2(g.SubbufSize):
		return fmt.Errorf("%w: sub-buffer size %d is not a power of two", ErrGeometry, g.SubbufSize)
	case g.NumSubbuf < MinNumSubbuf:
		return fmt.Errorf("%w: sub-buffer count %d is below the minimum %d", ErrGeometry, g.NumSubbuf, MinNumSubbuf)
	case !isPow2(g.NumSubbuf):
		return fmt.Errorf("%w: sub-buffer count %d is not a power of two", ErrGeometry, g.NumSubbuf)
	case g.SubbufSize > MaxTotalSize/g.NumSubbuf:
		return fmt.Errorf("%w: %d sub-buffers of %d bytes exceed the %d-byte (4 GiB) total", ErrGeometry, g.NumSubbuf, g.SubbufSize, uint64(MaxTotalSize))
	}
	return nil
}

// Total is the buffer size in bytes. Only meaningful for a valid geometry.
func (g Geometry) Total() uint64 { return g.SubbufSize * g.NumSubbuf }

func (g Geometry) String() string { return fmt.Sprintf("%d x %d bytes", g.NumSubbuf, g.SubbufSize) }

func isPow2(v uint64) bool { return v != 0 && v&(v-1) == 0 }

func log2(v uint64) uint { return uint(bits.TrailingZeros64(v)) }
