package hypervisor

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
)

// benchTrace is a started trace in real memfds (1 MiB x 8) stamped by
// clock, whose consumer releases every packet as it is delivered, so
// writers never find the buffer full: the benchmarks measure the write
// path, not the consumer. BenchmarkWriters makes the producer figures
// scripts/bench.sh publishes (cmd/lttng-xen-bench runs it); the others are
// for profiling the hypervisor's own functions.
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

// benchClock is the clock the benchmarks of the pCPUs' path stamp records
// with: the hypervisor's default (--clock auto, cmd/hypervisor), the TSC
// when record.CalibrateTSC's start-up check passes, else CLOCK_MONOTONIC.
// LTTNG_XEN_BENCH_CLOCK=monotonic or tsc picks one, as --clock does
// (scripts/bench.sh --clock sets it). tsc is nil for CLOCK_MONOTONIC.
var benchClock = sync.OnceValues(func() (tsc *record.TSCClock, err error) {
	switch c := os.Getenv("LTTNG_XEN_BENCH_CLOCK"); c {
	case "monotonic":
		return nil, nil
	case "", "auto", "tsc":
		cal, err := record.CalibrateTSC(50 * time.Millisecond)
		if err != nil {
			if c == "tsc" {
				return nil, fmt.Errorf("LTTNG_XEN_BENCH_CLOCK=tsc: %w", err)
			}
			return nil, nil
		}
		return &cal, nil
	default:
		return nil, fmt.Errorf("LTTNG_XEN_BENCH_CLOCK=%q: want auto, monotonic or tsc", c)
	}
})

// clockFor returns benchClock's TSC (nil: monotonic) and the clock function.
func clockFor(b *testing.B) (*record.TSCClock, func() uint64) {
	tsc, err := benchClock()
	if err != nil {
		b.Fatal(err)
	}
	if tsc == nil {
		return nil, record.Monotonic
	}
	return tsc, record.TSC
}

// BenchmarkWriters is the producer figure scripts/bench.sh publishes: the
// pCPUs' write path with 1, 2 and 4 writers, each writing as its own pCPU
// into its own ring, as pcpu.trace does at --rate 0: Trace.writeBatched
// with the default clock (see benchClock), batches of batchFor(0) events, a flush after
// each batch, and a yield between batches when there are more writers
// than Ps. Each ring is warmed by one lap before the clock starts.
//
// Metrics, per event over all writers: cpu-ns/event (the process's CPU
// time), wall-ns/event, busy-cpus (CPU time over wall time: how many CPUs
// the writers really kept busy), lost/op (drops are cheaper than writes:
// any makes the figure flattering), tsc (1 when the default clock is the
// TSC).
func BenchmarkWriters(b *testing.B) {
	for _, e := range []struct {
		name string
		id   uint32
		vals []record.Value
	}{
		{"two-int", record.IDHypercallEntry, twoInts},
		{"string64", record.IDPrintk, str64},
	} {
		for _, w := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("%s/writers=%d", e.name, w), func(b *testing.B) { benchWriters(b, e.id, e.vals, w) })
		}
	}
}

func benchWriters(b *testing.B, id uint32, vals []record.Value, writers int) {
	tsc, clock := clockFor(b)
	t := benchTrace(b, clock, shm.ModeDiscard)
	ev := record.Builtin().Events()[id]
	b.SetBytes(int64(ev.Size(vals)))
	b.ReportAllocs()
	per := max(1, b.N/writers)
	yield := writers > runtime.GOMAXPROCS(0) // pcpu.trace's rule at --rate 0
	lap := int(t.cfg.Geometry.Total())/ev.Size(vals) + 1
	for cpu := range writers {
		writeAsPCPU(t, uint32(cpu), ev, vals, lap, false) // fault every page of the ring in
	}
	lost := make([]int, writers)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for cpu := range writers {
		ready.Add(1)
		done.Go(func() {
			v := slices.Clone(vals)
			ready.Done()
			<-start
			lost[cpu] = writeAsPCPU(t, uint32(cpu), ev, v, per, yield)
		})
	}
	ready.Wait()
	b.ResetTimer()
	c0, t0 := processCPU(), time.Now()
	close(start)
	done.Wait()
	wall, cpu := time.Since(t0), processCPU()-c0
	b.StopTimer()
	n := float64(per * writers)
	var l int
	for _, x := range lost {
		l += x
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/event")
	b.ReportMetric(float64(wall.Nanoseconds())/n, "wall-ns/event")
	b.ReportMetric(float64(cpu)/float64(wall), "busy-cpus")
	b.ReportMetric(float64(l)/n, "lost/op")
	b.ReportMetric(map[bool]float64{true: 1}[tsc != nil], "tsc")
}

// writeAsPCPU writes n events into pCPU cpu's ring as pcpu.trace does at
// --rate 0 and returns how many were dropped.
func writeAsPCPU(t *Trace, cpu uint32, ev *record.Event, vals []record.Value, n int, yield bool) (lost int) {
	batch, _ := batchFor(0)
	w := t.ch.Ring(int(cpu)).Writer()
	for i := range n {
		if t.writeBatched(&w, ev, vals) != wrote {
			lost++
		}
		if i%batch == batch-1 {
			w.Flush()
			if yield {
				runtime.Gosched()
			}
		}
	}
	w.Flush()
	return lost
}

// processCPU is the CPU time (user and system) of every thread of the
// process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
