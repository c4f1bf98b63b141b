package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/lttng-xen/lttng-xen/consumer"
	"github.com/lttng-xen/lttng-xen/wire"
)

// End-to-end: the real processes. The hypervisor's pCPUs write their
// workload (the mix of Xen-like events, 36 bytes a record on average) into
// their rings of 1 MiB x 8 sub-buffers and lttd-xen writes every packet to
// its pCPU's stream file in the work directory. --cpus 1 and --cpus 4 run
// in turn, so that their ratios come from the same moments.

type sessionRun struct {
	rate          float64 // events/s recorded (committed), all pCPUs
	written, lost uint64
	bytes         int64             // in the stream files
	hvCPU         time.Duration     // the hypervisor's CPU time from start to stop
	mem           map[string]memory // largest VmRSS seen per process
}

// cpuPerEvent is the hypervisor's CPU ns per recorded event.
func (s sessionRun) cpuPerEvent() float64 {
	if s.written == 0 {
		return math.NaN()
	}
	return float64(s.hvCPU.Nanoseconds()) / float64(s.written)
}

// runSession runs one trace of dur with --cpus cpus --rate rate (per
// pCPU) and returns what was recorded.
func runSession(o *options, cpus int, rate float64, dur time.Duration) (res sessionRun, err error) {
	d, err := startDaemons(o, []string{"--cpus", fmt.Sprint(cpus), "--rate", fmt.Sprint(rate)}, nil)
	if err != nil {
		return res, err
	}
	defer func() {
		err = d.withLogs(err)
		d.close()
	}()
	if err := d.create(1<<20, 8); err != nil {
		return res, err
	}
	out := filepath.Join(d.dir, "trace")
	defer os.RemoveAll(out)
	lttd, err := d.lttd(out)
	if err != nil {
		return res, err
	}
	defer lttd.stop()
	// Sample the resident sets while tracing.
	procs := map[string]*proc{"hypervisor": d.hv, "dom0": d.d0, "lttd-xen": lttd}
	res.mem = map[string]memory{}
	var mu sync.Mutex
	stopSampling := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			for name, p := range procs {
				m := readMemory(p.pid())
				mu.Lock()
				if m.rss > res.mem[name].rss {
					res.mem[name] = m
				}
				mu.Unlock()
			}
			select {
			case <-tk.C:
			case <-stopSampling:
				return
			}
		}
	})
	cpu0 := readActivity(d.hv.pid()).cpuNS
	t0 := time.Now()
	err = d.op(wire.OpStart)
	t1 := time.Now()
	if err == nil {
		time.Sleep(dur - t1.Sub(t0))
		t2 := time.Now()
		err = d.op(wire.OpStop)
		t3 := time.Now()
		res.hvCPU = time.Duration(readActivity(d.hv.pid()).cpuNS - cpu0)
		elapsed := (t2.Sub(t0) + t3.Sub(t1)) / 2
		close(stopSampling)
		wg.Wait()
		var st *wire.Status
		if st, err = d.status(); err == nil {
			res.written, res.lost = st.EventsWritten, st.EventsLost
			res.rate = float64(st.EventsWritten) / elapsed.Seconds()
		}
	} else {
		close(stopSampling)
		wg.Wait()
	}
	if err != nil {
		return res, err
	}
	if err := d.op(wire.OpDestroy); err != nil {
		return res, err
	}
	if err := lttd.wait(60 * time.Second); err != nil {
		return res, err
	}
	for cpu := range cpus {
		if fi, err := os.Stat(filepath.Join(out, consumer.StreamFile(cpu))); err == nil {
			res.bytes += fi.Size()
		}
	}
	return res, nil
}

func e2eFigures(o *options, rep *Report) error {
	reps, dur, steps := 5, time.Second, 5
	if o.quick {
		reps, dur, steps = 2, time.Second, 3
	}
	const section = "2. end to end"
	var inproc, inprocCPU []float64
	loop := map[int][]float64{} // hypervisor.BenchmarkPCPUs cpu-ns/event by pCPU count
	var one, four []sessionRun
	for range reps {
		// The pCPU loop alone (workload and write path, a consumer that
		// only releases), in one process: 1 and 4 pCPUs.
		pres, err := goBench(o, "^BenchmarkPCPUs$/^cpus=(1|4)$", 10_000_000)
		if err != nil {
			return err
		}
		for _, c := range []int{1, 4} {
			v, err := metric(pres, fmt.Sprintf("BenchmarkPCPUs/cpus=%d", c), "cpu-ns/event")
			if err != nil {
				return err
			}
			loop[c] = append(loop[c], v)
		}
		// Baseline: the pCPUs' write path alone in one process, one writer,
		// the two-int event (hypervisor.BenchmarkWriters).
		res, err := goBench(o, "^BenchmarkWriters$/^two-int$/^writers=1$", 1_000_000)
		if err != nil {
			return err
		}
		wall, err := metric(res, writersName(prodEvents[0], 1), "wall-ns/event")
		if err != nil {
			return err
		}
		cpu, err := metric(res, writersName(prodEvents[0], 1), "cpu-ns/event")
		if err != nil {
			return err
		}
		inproc, inprocCPU = append(inproc, 1e9/wall), append(inprocCPU, cpu)
		s1, err := runSession(o, 1, 0, dur)
		if err != nil {
			return fmt.Errorf("--cpus 1 --rate 0: %w", err)
		}
		s4, err := runSession(o, 4, 0, dur)
		if err != nil {
			return fmt.Errorf("--cpus 4 --rate 0: %w", err)
		}
		one, four = append(one, s1), append(four, s4)
	}
	field := func(runs []sessionRun, f func(sessionRun) float64) Stat {
		var xs []float64
		for _, r := range runs {
			xs = append(xs, f(r))
		}
		return stat(xs)
	}
	rate := func(r sessionRun) float64 { return r.rate }
	cpu := func(r sessionRun) float64 { return r.cpuPerEvent() }
	lostPct := func(r sessionRun) float64 { return float64(r.lost) / float64(r.written+r.lost) * 100 }
	attempted := func(r sessionRun) float64 {
		return float64(r.hvCPU.Nanoseconds()) / float64(r.written+r.lost)
	}
	rate1, rate4 := field(one, rate), field(four, rate)
	cpu1, cpu4 := field(one, cpu), field(four, cpu)
	f4 := Figure{Section: section, Name: "events/s recorded, --cpus 4 --rate 0, lttd-xen to disk", Unit: "events/s", Value: rate4}.
		withBase("--cpus 1 --rate 0, same run", rate1)
	c4 := Figure{Section: section, Name: "hypervisor CPU time per recorded event, --cpus 4 --rate 0", Unit: "CPU ns/event", Value: cpu4,
		Note: "all its threads, trace start to stop"}.withBase("--cpus 1 --rate 0, same run", cpu1)
	rep.add(
		Figure{Section: section, Name: "events/s recorded, --cpus 1 --rate 0, 1 MiB × 8 per pCPU, lttd-xen to disk", Unit: "events/s", Value: rate1}.
			withBase("the pCPUs' write path alone in one process (two-int, 1 writer)", stat(inproc)),
		f4.check("ratio ≥ 1", f4.Ratio != nil && *f4.Ratio >= 1),
		Figure{Section: section, Name: "hypervisor CPU time per recorded event, --cpus 1 --rate 0", Unit: "CPU ns/event", Value: cpu1,
			Note: "the workload's mix of events, 36 B a record on average"}.
			withBase("the write path alone (two-int, 1 writer)", stat(inprocCPU)),
		c4.check("ratio ≤ 1.1", c4.Ratio != nil && *c4.Ratio <= 1.1),
		Figure{Section: section, Name: "hypervisor CPU time per event attempted (recorded + lost), --cpus 4 --rate 0", Unit: "CPU ns/event", Value: field(four, attempted),
			Note: "a lost record costs its generation and a failed reservation"}.
			withBase("--cpus 1 --rate 0, same run", field(one, attempted)),
		Figure{Section: section, Name: "the pCPU loop alone, 4 pCPUs (hypervisor.BenchmarkPCPUs: workload and write path, consumer releasing only, one process)", Unit: "CPU ns/event", Value: stat(loop[4])}.
			withBase("1 pCPU, same benchmark", stat(loop[1])),
		Figure{Section: section, Name: "events lost at --cpus 1 --rate 0", Unit: "%", Value: field(one, lostPct)},
		Figure{Section: section, Name: "events lost at --cpus 4 --rate 0", Unit: "%", Value: field(four, lostPct)},
	)
	// Memory, from the --cpus 4 flat-out runs.
	for _, name := range []string{"hypervisor", "dom0", "lttd-xen"} {
		rss := field(four, func(r sessionRun) float64 { return float64(r.mem[name].rss) / 1024 })
		m := four[len(four)-1].mem[name]
		rep.add(Figure{Section: "6. memory", Name: name + " RSS during the --cpus 4 --rate 0 run", Unit: "MiB", Value: rss,
			Note: fmt.Sprintf("last run: anon %.1f, file %.1f, shmem %.1f MiB", float64(m.anon)/1024, float64(m.file)/1024, float64(m.shmem)/1024)}.
			withBase("trace buffers (4 pCPUs × 1 MiB × 8)", single(32)))
	}
	// The highest zero-loss rate with one pCPU. If no flat-out run lost
	// anything, the flat-out rate is sustained: it is the answer.
	// Otherwise bisect the rate between 0 and the flat-out rate.
	lostAny := false
	for _, s := range one {
		lostAny = lostAny || s.lost > 0
	}
	if !lostAny {
		f := Figure{Section: section, Name: "highest rate with zero loss (--cpus 1)", Unit: "events/s", Value: rate1,
			Note: "--rate 0 lost nothing in any run: flat out is sustained"}
		rep.add(f.check("≥ 10 M/s", rate1.Median >= 10e6))
		return nil
	}
	lo, hi := 0.0, rate1.Max*1.05
	best := sessionRun{}
	for range steps {
		mid := (lo + hi) / 2
		s, err := runSession(o, 1, mid, dur)
		if err != nil {
			return fmt.Errorf("--rate %.0f: %w", mid, err)
		}
		fmt.Fprintf(os.Stderr, "bench:   --rate %.3gM: %.3gM events/s, %d lost\n", mid/1e6, s.rate/1e6, s.lost)
		if s.lost == 0 && s.rate >= 0.9*mid {
			lo, best = mid, s
		} else {
			hi = mid
		}
	}
	f := Figure{Section: section, Name: "highest rate with zero loss (bisection over --rate, --cpus 1)", Unit: "events/s", Value: single(best.rate),
		Note: fmt.Sprintf("%d steps of %v; next step up lost records or fell short", steps, dur)}.
		withBase("--rate 0 (flat out)", rate1)
	rep.add(f.check("≥ 10 M/s", best.rate >= 10e6))
	return nil
}
