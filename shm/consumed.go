package shm

import "fmt"

// The consumer region is the only memory a consumer writes: one u64
// consumed offset per pCPU ring, at cpu×8. It is a memfd of its own, apart
// from the producer-owned control region, so a consumer that scribbles
// can only spoil its own consumption: the producer reads these words and
// validates each new value before use (see [Ring.consumed]), and nothing
// the producer publishes lives here.

// ConsumerSize is the size of the consumer region for cpus pCPUs, rounded
// up to pageSize.
func ConsumerSize(cpus, pageSize int) int {
	n := cpus * 8
	return (n + pageSize - 1) / pageSize * pageSize
}

// Consumed is a view of a consumer region.
type Consumed struct{ b []byte }

// OpenConsumed returns a view of b as the consumer region of cpus rings.
func OpenConsumed(b []byte, cpus int) (Consumed, error) {
	if len(b) < cpus*8 {
		return Consumed{}, fmt.Errorf("%w: consumer region is %d bytes, %d pCPUs need %d", ErrTooSmall, len(b), cpus, cpus*8)
	}
	if !checkAligned(b) {
		return Consumed{}, ErrAlignment
	}
	return Consumed{b: b[:cpus*8]}, nil
}

// Load returns ring cpu's consumed offset, as the consumer last stored it
// (untrusted by the producer).
func (c Consumed) Load(cpu int) uint64 { return word(c.b, cpu*8).Load() }

// Store publishes ring cpu's consumed offset. Consumer only. The store is
// sequentially consistent, so every read the consumer made of the released
// sub-buffers happens before the producer can observe the new offset and
// reuse their slots.
func (c Consumed) Store(cpu int, v uint64) { word(c.b, cpu*8).Store(v) }
