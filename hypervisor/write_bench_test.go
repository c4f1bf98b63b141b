package hypervisor

import (
	"encoding/binary"
	"strings"
	"sync"
	"testing"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
)

// benchTrace is a started trace in real memfds (1 MiB x 8) whose consumer
// releases every packet as it is delivered, so writers never find the
// buffer full: the benchmarks measure the write path, not the consumer.
func benchTrace(b *testing.B) *Trace {
	b.Helper()
	var cons *shm.Consumer
	var mu sync.Mutex
	t, err := newTrace(TraceConfig{Geometry: shm.Geometry{SubbufSize: 1 << 20, NumSubbuf: 8}}, 4, record.Monotonic, func(uint64) {
		if !mu.TryLock() {
			return // the holder or the next delivery releases this one
		}
		for {
			if _, _, ok := cons.Next(); !ok {
				break
			}
			cons.Release()
		}
		mu.Unlock()
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(t.release)
	if cons, err = shm.NewConsumer(t.ctrl.Data, t.buf.Data); err != nil {
		b.Fatal(err)
	}
	t.enabled.Store(true)
	return t
}

var msg64 = strings.Repeat("x", 63) // 63 bytes + NUL = a 64-byte string field

func benchWrite(b *testing.B, id uint32, vals []record.Value, parallel bool) {
	t := benchTrace(b)
	ev := record.Builtin().Events()[id]
	size := ev.Size(vals)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	var lost int
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			v := append([]record.Value(nil), vals...)
			for pb.Next() {
				t.write(1, ev, v)
			}
		})
	} else {
		for b.Loop() {
			if t.write(0, ev, vals) != wrote {
				lost++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	if lost > 0 {
		b.Fatalf("%d records dropped: the benchmark consumer fell behind", lost)
	}
}

// BenchmarkWriteTwoInts: hypercall_entry(u64 op, u32 vcpu), 28 bytes.
func BenchmarkWriteTwoInts(b *testing.B) {
	benchWrite(b, record.IDHypercallEntry, []record.Value{record.Uint(24), record.Uint(3)}, false)
}

func BenchmarkWriteTwoIntsParallel(b *testing.B) {
	benchWrite(b, record.IDHypercallEntry, []record.Value{record.Uint(24), record.Uint(3)}, true)
}

// BenchmarkWriteString64: printk with a 64-byte string, 80 bytes.
func BenchmarkWriteString64(b *testing.B) {
	benchWrite(b, record.IDPrintk, []record.Value{record.Str(msg64)}, false)
}

func BenchmarkWriteString64Parallel(b *testing.B) {
	benchWrite(b, record.IDPrintk, []record.Value{record.Str(msg64)}, true)
}

// benchCopy is the baseline: the same bytes stored into a ring of the same
// size with no clock, no atomics, no encoding logic.
func benchCopy(b *testing.B, rec []byte) {
	ring := make([]byte, 8<<20)
	n := (len(rec) + 7) &^ 7
	b.SetBytes(int64(len(rec)))
	off := 0
	for b.Loop() {
		if off+n > len(ring) {
			off = 0
		}
		copy(ring[off:], rec)
		off += n
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}

func BenchmarkCopyTwoInts(b *testing.B) {
	rec := make([]byte, record.SizeU64U32)
	binary.LittleEndian.PutUint64(rec, 1)
	benchCopy(b, rec)
}

func BenchmarkCopyString64(b *testing.B) {
	benchCopy(b, make([]byte, record.HeaderSize+64))
}
