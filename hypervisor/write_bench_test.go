package hypervisor

import (
	"encoding/binary"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
)

// benchTrace is a started trace in real memfds (1 MiB x 8) stamped by
// clock, whose consumer releases every packet as it is delivered, so
// writers never find the buffer full: the benchmarks measure the write
// path, not the consumer. bench/ (scripts/bench.sh) makes the published
// figures; these are for profiling the hypervisor's own functions.
//
// In overwrite mode nothing is consumed: after the first lap every packet
// switch reclaims a slot, the flight recorder's steady state.
func benchTrace(b *testing.B, clock func() uint64, mode shm.Mode) *Trace {
	b.Helper()
	var cons *shm.Consumer
	var mu sync.Mutex
	t, err := newTrace(TraceConfig{Geometry: shm.Geometry{SubbufSize: 1 << 20, NumSubbuf: 8}, Mode: mode}, benchCPUs, clock, func(cpu uint32, _ uint64) {
		if mode == shm.ModeOverwrite {
			return
		}
		mu.Lock() // once per 1 MiB packet: a missed release would fill the ring
		s := cons.Stream(int(cpu))
		for {
			if _, _, ok := s.Next(); !ok {
				break
			}
			s.Release()
		}
		mu.Unlock()
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(t.release)
	if cons, err = shm.NewConsumer(t.ctrl.Data, t.cons.Data, t.buf.Data); err != nil {
		b.Fatal(err)
	}
	t.enabled.Store(true)
	return t
}

// benchCPUs is the pCPU count of a benchmark trace: parallel writer k
// writes as pCPU k mod benchCPUs, into that pCPU's ring.
const benchCPUs = 8

var msg64 = strings.Repeat("x", 63) // 63 bytes + NUL = a 64-byte string field

// writePath is how a benchmark writes: the clock, and whether commits are
// batched per packet (flushed every 256 records, the pCPU batch).
type writePath struct {
	clock   func() uint64
	batched bool
	mode    shm.Mode
}

var (
	today     = writePath{record.Monotonic, false, shm.ModeDiscard}
	proposed  = writePath{record.TSC, true, shm.ModeDiscard}
	overwrite = writePath{record.TSC, true, shm.ModeOverwrite} // proposed, flight recorder
)

func benchWrite(b *testing.B, id uint32, vals []record.Value, p writePath, parallel bool) {
	t := benchTrace(b, p.clock, p.mode)
	ev := record.Builtin().Events()[id]
	size := ev.Size(vals)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	var lost int
	if parallel {
		var mu sync.Mutex
		var next atomic.Uint32
		b.RunParallel(func(pb *testing.PB) {
			v := append([]record.Value(nil), vals...)
			cpu := (next.Add(1) - 1) % benchCPUs
			w := t.ch.Ring(int(cpu)).Writer()
			l := 0
			for i := 0; pb.Next(); i++ {
				var r writeResult
				if p.batched {
					r = t.writeBatched(&w, ev, v)
				} else {
					r = t.write(cpu, ev, v)
				}
				if r != wrote {
					l++
				}
				if i%256 == 255 {
					w.Flush()
					runtime.Gosched()
				}
			}
			w.Flush()
			mu.Lock()
			lost += l
			mu.Unlock()
		})
	} else {
		w := t.ch.Ring(0).Writer()
		for i := 0; b.Loop(); i++ {
			var r writeResult
			if p.batched {
				r = t.writeBatched(&w, ev, vals)
			} else {
				r = t.write(0, ev, vals)
			}
			if r != wrote {
				lost++
			}
			if i%256 == 255 {
				w.Flush()
			}
		}
		w.Flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
	// A drop (a writer descheduled while holding a packet, on a busy
	// machine) is cheaper than a write: report it rather than hide it.
	b.ReportMetric(float64(lost)/float64(b.N), "lost/op")
}

var (
	twoInts = []record.Value{record.Uint(24), record.Uint(3)}
	str64   = []record.Value{record.Str(msg64)}
)

// BenchmarkWriteTwoInts: hypercall_entry(u64 op, u32 vcpu), 28 bytes, as
// the pCPUs write it today (CLOCK_MONOTONIC, one commit per record).
func BenchmarkWriteTwoInts(b *testing.B) {
	benchWrite(b, record.IDHypercallEntry, twoInts, today, false)
}

func BenchmarkWriteTwoIntsParallel(b *testing.B) {
	benchWrite(b, record.IDHypercallEntry, twoInts, today, true)
}

// BenchmarkWriteTwoIntsProposed: the same event on the pCPUs' batched path
// (Trace.writeBatched) with the TSC clock.
func BenchmarkWriteTwoIntsProposed(b *testing.B) {
	benchWrite(b, record.IDHypercallEntry, twoInts, proposed, false)
}

func BenchmarkWriteTwoIntsProposedParallel(b *testing.B) {
	benchWrite(b, record.IDHypercallEntry, twoInts, proposed, true)
}

// BenchmarkWriteTwoIntsOverwrite: the proposed path in overwrite mode with
// no consumer, to compare with BenchmarkWriteTwoIntsProposed.
func BenchmarkWriteTwoIntsOverwrite(b *testing.B) {
	benchWrite(b, record.IDHypercallEntry, twoInts, overwrite, false)
}

func BenchmarkWriteTwoIntsOverwriteParallel(b *testing.B) {
	benchWrite(b, record.IDHypercallEntry, twoInts, overwrite, true)
}

// BenchmarkWriteString64: printk with a 64-byte string, 80 bytes.
func BenchmarkWriteString64(b *testing.B) { benchWrite(b, record.IDPrintk, str64, today, false) }

func BenchmarkWriteString64Parallel(b *testing.B) { benchWrite(b, record.IDPrintk, str64, today, true) }

func BenchmarkWriteString64Proposed(b *testing.B) {
	benchWrite(b, record.IDPrintk, str64, proposed, false)
}

func BenchmarkWriteString64ProposedParallel(b *testing.B) {
	benchWrite(b, record.IDPrintk, str64, proposed, true)
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
