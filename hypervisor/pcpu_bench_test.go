package hypervisor

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/shm"
)

// BenchmarkPCPUs is the hypervisor's whole flat-out pCPU loop in one
// process, without dom0 or lttd-xen: New with --cpus 1, 2 or 4, --rate 0
// and the default clock (see benchClock), a 1 MiB x 8 trace per pCPU, pcpu.trace writing
// its workload (the mix of Xen-like events), and a consumer goroutine
// that releases each packet as it is delivered (woken by VIRQ_TBUF)
// without writing it anywhere. The benchmark runs until b.N events are
// recorded; it is the end-to-end figure with the consumer's disk writes
// taken away, for profiling where a pCPU's time goes (-cpuprofile).
//
// Metrics: cpu-ns/event (the process's CPU time per recorded event, the
// releasing consumer included), events/s recorded, lost/op (records
// dropped because a ring was full, per recorded event).
func BenchmarkPCPUs(b *testing.B) {
	for _, cpus := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("cpus=%d", cpus), func(b *testing.B) { benchPCPUs(b, cpus) })
	}
}

func benchPCPUs(b *testing.B, cpus int) {
	tsc, _ := clockFor(b)
	h, err := New(Config{CPUs: cpus, Rate: 0, TSC: tsc, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	if err := h.Create(TraceConfig{Geometry: shm.Geometry{SubbufSize: 1 << 20, NumSubbuf: 8}}); err != nil {
		b.Fatal(err)
	}
	t := h.trace
	cons, err := shm.NewConsumer(t.ctrl.Data, t.cons.Data, t.buf.Data)
	if err != nil {
		b.Fatal(err)
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { releasePackets(cons, h.virq.fd, quit) })
	defer func() { close(quit); wg.Wait() }()
	b.ResetTimer()
	c0, t0 := processCPU(), time.Now()
	if err := h.Start(); err != nil {
		b.Fatal(err)
	}
	for t.eventsWritten() < uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
	if err := h.Stop(); err != nil {
		b.Fatal(err)
	}
	wall, cpu := time.Since(t0), processCPU()-c0
	b.StopTimer()
	n := float64(t.eventsWritten())
	st := t.ch.Stats()
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/event")
	b.ReportMetric(n/wall.Seconds(), "events/s")
	b.ReportMetric(float64(st.LostFull+st.LostTooBig)/n, "lost/op")
}

// releasePackets releases every delivered packet of every stream each time
// the VIRQ eventfd fires, until quit is closed.
func releasePackets(cons *shm.Consumer, virq int, quit <-chan struct{}) {
	var buf [8]byte
	pfd := []unix.PollFd{{Fd: int32(virq), Events: unix.POLLIN}}
	for {
		for cpu := range cons.Streams() {
			s := cons.Stream(cpu)
			for {
				if _, _, ok := s.Next(); !ok {
					break
				}
				s.Release()
			}
		}
		select {
		case <-quit:
			return
		default:
		}
		_, _ = unix.Poll(pfd, 100) // 100 ms: only to notice quit when idle
		_, _ = unix.Read(virq, buf[:])
	}
}
