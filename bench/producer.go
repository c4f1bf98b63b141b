package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/shm"
)

// The producer figures run the hypervisor's write path in this process on
// a real channel (sealed memfds, as the hypervisor makes them) whose
// consumer releases every packet as soon as it is delivered: the enabled
// check, the record size, the reservation (clock and CAS), the encoding
// with the event's generic encoder and the commit, per event.
//
// The ring is 1 MiB x 64: on a shared machine the OS can deschedule a
// writer for milliseconds while it holds a packet open (uncommitted), and
// the others, writing over a GB/s, must not fill the ring meanwhile (a
// dropped record is cheaper than a written one and would flatter the
// figure; any drop fails the run). The copy baseline writes a ring of the
// same size.

// ringGeometry is the producer figures' ring.
var ringGeometry = shm.Geometry{SubbufSize: 1 << 20, NumSubbuf: 64}

// prodEvent is one of the two events measured.
type prodEvent struct {
	name string
	ev   *record.Event
	vals []record.Value
}

func producerEvents() ([]prodEvent, error) {
	byID := func(id uint32) (*record.Event, error) {
		for _, e := range record.Builtin().Events() {
			if e.ID == id {
				return e, nil
			}
		}
		return nil, fmt.Errorf("built-in event %d not found", id)
	}
	hc, err := byID(record.IDHypercallEntry)
	if err != nil {
		return nil, err
	}
	pk, err := byID(record.IDPrintk)
	if err != nil {
		return nil, err
	}
	return []prodEvent{
		{"two-int", hc, []record.Value{record.Uint(24), record.Uint(3)}},
		{"string64", pk, []record.Value{record.Str(strings.Repeat("x", 63))}}, // 63 + NUL
	}, nil
}

// path is a way of writing: the clock and how commits are made.
type path struct {
	name    string
	clock   func() uint64
	batched bool // shm.Writer (one commit per packet and batch) or Channel.Commit per record
}

var (
	// fastPath is the pCPUs' path with --clock tsc: the TSC read with no
	// conversion, commits batched per packet and batch.
	fastPath = path{"tsc clock, batched commits", record.TSC, true}
	// hvPath is the pCPUs' path before the performance work (still the
	// path of emit and hotplug records): CLOCK_MONOTONIC through the vDSO
	// and one atomic commit per record.
	hvPath = path{"monotonic clock, commit per record", record.Monotonic, false}
)

// batch is how many records a writer writes between commit flushes: the
// hypervisor's pCPU batch at --rate 0. When there are more writers than Ps
// a writer yields (runtime.Gosched) at the end of each batch: it is then
// descheduled between batches, holding nothing, instead of being preempted
// in the middle of one while the packet it holds fills the ring behind it
// (the pCPU loop change proposed in docs/PERFORMANCE.md). With no more
// writers than Ps it does not: a yield lets an idle P take the writer to
// the other CPU, and every line it uses follows it.
const batch = 256

// prodRun is one measurement: writers goroutines write n events in all.
type prodRun struct {
	cpuNS, wallNS float64 // per event
	lost          uint64
}

// parallel is how many CPUs the run kept busy on average.
func (r prodRun) parallel() float64 { return r.cpuNS / r.wallNS }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchChannel is a started channel in sealed memfds whose Deliver hook
// releases every delivered packet at once, under a lock (taken once per
// 1 MiB packet).
type benchChannel struct {
	ch      *shm.Channel
	ctrl    *shm.Mapping
	cons    *shm.Mapping
	buf     *shm.Mapping
	ro      []*os.File
	enabled atomic.Bool
	// mask stands for the hypervisor's event filter: a bit per event id,
	// loaded and tested per event as Trace.write does.
	mask atomic.Pointer[[4]uint64]
}

// enabledFor is Trace.write's two checks: tracing on, event not filtered.
func (b *benchChannel) enabledFor(id uint32) bool {
	if !b.enabled.Load() {
		return false
	}
	m := b.mask.Load()
	return m == nil || m[id/64&3]&(1<<(id%64)) != 0
}

func newBenchChannel(clock func() uint64) (b *benchChannel, err error) {
	g := ringGeometry
	b = &benchChannel{}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	var ro *os.File
	if b.ctrl, ro, err = shm.CreateProducer("bench-control", shm.ControlSize(benchCPUs, g.NumSubbuf, 4096)); err != nil {
		return nil, err
	}
	b.ro = append(b.ro, ro)
	if b.cons, ro, err = shm.CreateConsumer("bench-consumer", shm.ConsumerSize(benchCPUs, 4096)); err != nil {
		return nil, err
	}
	b.ro = append(b.ro, ro)
	if b.buf, ro, err = shm.CreateProducer("bench-buffer", benchCPUs*int(g.Total())); err != nil {
		return nil, err
	}
	b.ro = append(b.ro, ro)
	var cons *shm.Consumer
	var mu sync.Mutex
	uuid := [16]byte{1}
	b.ch, err = shm.NewChannel(b.ctrl.Data, b.cons.Data, b.buf.Data, shm.Config{
		Geometry: g, UUID: uuid, PageSize: 4096, CPUs: benchCPUs, HeaderSize: record.PacketHeaderSize, Clock: clock,
		OpenPacket:  func(pkt []byte, cpu uint32, seq, ts uint64) { record.OpenPacket(pkt, uuid, 0, cpu, seq, ts) },
		ClosePacket: record.ClosePacket,
		Deliver: func(cpu uint32, _ uint64) {
			mu.Lock()
			s := cons.Stream(int(cpu))
			for {
				if _, _, ok := s.Next(); !ok {
					break
				}
				s.Release()
			}
			mu.Unlock()
		},
	})
	if err == nil {
		cons, err = shm.NewConsumer(b.ctrl.Data, b.cons.Data, b.buf.Data)
	}
	if err != nil {
		return nil, err
	}
	b.enabled.Store(true)
	b.mask.Store(&[4]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)})
	return b, nil
}

// benchCPUs is the number of pCPU rings of a bench channel: writer w
// writes into ring w mod benchCPUs, as pCPU w would.
const benchCPUs = 8

func (b *benchChannel) close() {
	b.ctrl.Close()
	b.cons.Close()
	b.buf.Close()
	for _, f := range b.ro {
		f.Close()
	}
}

// write is the pCPU's per-event path for n events: the hypervisor's
// Trace.write (enabled and filter checks, size, reserve, encode, commit)
// with the path's clock and commit.
func (b *benchChannel) write(p path, e prodEvent, cpu uint32, n int, yield bool) (lost uint64) {
	ev, vals := e.ev, e.vals
	if p.batched {
		w := b.ch.Ring(int(cpu) % benchCPUs).Writer()
		for i := range n {
			if !b.enabledFor(ev.ID) {
				break
			}
			buf, ts, err := w.Reserve(ev.Size(vals))
			if err != nil {
				lost++
				continue
			}
			ev.Encode(buf, ts, vals)
			w.Commit()
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
	for i := range n {
		if !b.enabledFor(ev.ID) {
			break
		}
		ring := b.ch.Ring(int(cpu) % benchCPUs)
		r, err := ring.Reserve(ev.Size(vals))
		if err != nil {
			lost++
			continue
		}
		ev.Encode(r.Buf, r.TS, vals)
		ring.Commit(&r)
		if yield && i%batch == batch-1 {
			runtime.Gosched()
		}
	}
	return lost
}

// runProducer measures writers goroutines writing n events in all through
// p on b (see warmChannel).
func runProducer(b *benchChannel, p path, e prodEvent, writers, n int) (prodRun, error) {
	yield := writers > runtime.GOMAXPROCS(0)
	return timed(writers, n, func(w, count int) uint64 { return b.write(p, e, uint32(w), count, yield) })
}

// warmChannel returns a channel for p, warmed by one lap of its ring (every
// page faulted in). Runs share it: a channel has no state a run could leave
// behind but its position in the ring.
func warmChannel(p path, e prodEvent) (*benchChannel, error) {
	b, err := newBenchChannel(p.clock)
	if err != nil {
		return nil, err
	}
	size := (e.ev.Size(e.vals) + 7) &^ 7
	b.write(p, e, 0, int(ringGeometry.Total())/size+1, false)
	return b, nil
}

// copyRing is the baseline: each writer copies the same record's bytes
// into its own part of a ring as large as the channel's, 8-byte aligned,
// with no clock, no atomics and no encoding.
type copyRing struct {
	rec, ring []byte
}

func newCopyRing(e prodEvent) *copyRing {
	c := &copyRing{rec: make([]byte, e.ev.Size(e.vals)), ring: make([]byte, ringGeometry.Total())}
	e.ev.Encode(c.rec, 1, e.vals)
	clear(c.ring) // fault it in
	return c
}

func (c *copyRing) run(writers, n int) (prodRun, error) {
	step := (len(c.rec) + 7) &^ 7
	part := len(c.ring) / writers &^ 63
	return timed(writers, n, func(w, count int) uint64 {
		r := c.ring[w*part : (w+1)*part]
		off := 0
		for range count {
			if off+step > len(r) {
				off = 0
			}
			copy(r[off:], c.rec)
			off += step
		}
		return 0
	})
}

// timed runs fn on writers goroutines, n events in all, and returns the
// process CPU time and the wall time per event.
func timed(writers, n int, fn func(w, count int) uint64) (prodRun, error) {
	var lost atomic.Uint64
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	per := n / writers
	ready.Add(writers)
	for w := range writers {
		wg.Go(func() {
			ready.Done()
			<-start
			lost.Add(fn(w, per))
		})
	}
	ready.Wait()
	c0, t0 := cpuTime(), time.Now()
	close(start)
	wg.Wait()
	wall, cpu := time.Since(t0), cpuTime()-c0
	total := float64(per * writers)
	return prodRun{cpuNS: float64(cpu.Nanoseconds()) / total, wallNS: float64(wall.Nanoseconds()) / total, lost: lost.Load()}, nil
}

type prodCase struct {
	name string
	run  func() (prodRun, error)
}

// repeatCases measures each case reps times, interleaving the cases so that a noisy
// moment hits all of them alike, and returns per case the CPU ns/event.
func repeatCases(reps int, cases []prodCase) (cpu, par [][]float64, err error) {
	cpu = make([][]float64, len(cases))
	par = make([][]float64, len(cases))
	for range reps {
		for i, c := range cases {
			r, err := c.run()
			if err != nil {
				return nil, nil, err
			}
			if r.lost > 0 {
				return nil, nil, fmt.Errorf("%s: %d records dropped: a writer was descheduled holding a packet long enough for the others to fill the ring", c.name, r.lost)
			}
			cpu[i] = append(cpu[i], r.cpuNS)
			par[i] = append(par[i], r.parallel())
		}
	}
	return cpu, par, nil
}

// producerFigures measures both events with 1, 2 and 4 writers on the
// proposed path and on the hypervisor's current path, next to the copy.
func producerFigures(o *options, rep *Report) error {
	events, err := producerEvents()
	if err != nil {
		return err
	}
	reps, n := 5, 3_000_000
	if o.quick {
		reps, n = 3, 1_000_000
	}
	const section = "1. producer"
	for _, e := range events {
		size := e.ev.Size(e.vals)
		writerCounts := []int{1, 2, 4}
		fastCh, err := warmChannel(fastPath, e)
		if err != nil {
			return err
		}
		hvCh, err := warmChannel(hvPath, e)
		if err != nil {
			fastCh.close()
			return err
		}
		ring := newCopyRing(e)
		var cases []prodCase
		for _, w := range writerCounts {
			cases = append(cases,
				prodCase{fmt.Sprintf("%s, %d writers", fastPath.name, w), func() (prodRun, error) { return runProducer(fastCh, fastPath, e, w, n) }},
				prodCase{fmt.Sprintf("%s, %d writers", hvPath.name, w), func() (prodRun, error) { return runProducer(hvCh, hvPath, e, w, n) }},
				prodCase{fmt.Sprintf("copy, %d writers", w), func() (prodRun, error) { return ring.run(w, n) }})
		}
		cpu, par, err := repeatCases(reps, cases)
		fastCh.close()
		hvCh.close()
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		fast := map[int]Stat{}
		busy := map[int]float64{}
		for i, w := range writerCounts {
			busy[w] = stat(par[3*i]).Median
			f, h, c := stat(cpu[3*i]), stat(cpu[3*i+1]), stat(cpu[3*i+2])
			fast[w] = f
			name := fmt.Sprintf("%s %d B, %d writer%s", e.name, size, w, plural(w))
			note := fastPath.name
			if w > 1 {
				note += fmt.Sprintf(", %.2f CPUs busy on average", stat(par[3*i]).Median)
			}
			fig := Figure{Section: section, Name: name, Unit: "ns/event", Value: f, Note: note}.
				withBase("plain copy of the same bytes, "+fmt.Sprint(w)+" writer"+plural(w), c)
			if w == 1 {
				fig = fig.check("≤ 40 ns", f.Median <= 40)
			}
			rep.add(fig)
			rep.add(Figure{Section: section, Name: name, Unit: "ns/event", Value: h, Note: hvPath.name + ": the path before batching"}.
				withBase("the proposed path above", f))
		}
		// The target is about contention: it is only checked if the writers
		// really ran on two CPUs at once (a busy machine may have given
		// them one).
		f4 := Figure{Section: section, Name: fmt.Sprintf("%s: 4 writers contending vs 1", e.name), Unit: "ns/event", Value: fast[4],
			Note: fmt.Sprintf("%s, %.2f CPUs busy on average", fastPath.name, busy[4])}.withBase("1 writer", fast[1])
		if busy[4] < 1.5 {
			f4.Note += ": the writers did not run in parallel, contention not measured"
		}
		rep.add(f4.check("ratio ≤ 2", *f4.Ratio <= 2 && busy[4] >= 1.5))
	}
	if runtime.NumCPU() >= 2 {
		var xfer []float64
		for range reps {
			xfer = append(xfer, lineTransfer(0, 1, 50*time.Millisecond))
		}
		rep.add(Figure{Section: section, Name: "one cache-line transfer between CPU 0 and CPU 1 (ping-pong)", Unit: "ns", Value: stat(xfer),
			Note: "the floor of a contended event: each reservation moves the head's line"})
	}
	if o.peer == "lttng-ust" {
		if err := peerFigures(o, rep, events[0], reps); err != nil {
			rep.fail("peer lttng-ust", err)
		}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
