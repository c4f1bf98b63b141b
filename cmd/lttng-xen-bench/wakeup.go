package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/lttng-xen/lttng-xen/wire"
)

// Wakeup latency: the hypervisor writes 1 M events/s on one pCPU into
// 64 KiB x 256 sub-buffers (a packet about every 2 ms, half a second of
// headroom for the 100 ms poller); lttd-xen's engine (package consumer)
// runs in this process and a hook measures, for each packet, the time from
// its delivery (its timestamp_end, written by the writer that closed it
// just before delivering it) to the end of its write to the stream file
// (see packetLatency). Three ways of waking the consumer: an eventfd (dom0
// --wakeup eventfd, as lttd-xen), a pipe, and the xentrace baseline, a
// timer every 100 ms instead of any wakeup (see timerWakeups). When the
// bench may use SCHED_FIFO (root), a fourth run has the hypervisor, dom0
// and the consumer's thread at SCHED_FIFO 1: on a shared machine the tail
// of the other runs is the time a woken process waits for a CPU that other
// tasks hold.

type latencies struct {
	p50, p99, max []float64 // µs, one per run
	packets       int
}

const wakeupSubbuf = 64 << 10

func wakeupRun(o *options, kind string, polling, rt bool, dur time.Duration) (_ []float64, err error) {
	d, err := startDaemons(o, []string{"--cpus", "1", "--rate", "1000000"}, []string{"--wakeup", kind}, rt)
	if err != nil {
		return nil, err
	}
	defer func() {
		err = d.withLogs(err)
		d.close()
	}()
	if err := d.create(wakeupSubbuf, 256); err != nil {
		return nil, err
	}
	var every time.Duration
	if polling {
		every = 100 * time.Millisecond
	}
	out := filepath.Join(d.dir, "trace")
	c, err := startConsumer(filepath.Join(d.dir, "sock", "dom0.sock"), out, wakeupSubbuf, every, rt)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			c.stop()
		}
	}()
	if err := d.op(wire.OpStart); err != nil {
		return nil, err
	}
	time.Sleep(dur)
	if err := d.op(wire.OpStop); err != nil {
		return nil, err
	}
	st, err := d.status()
	if err != nil {
		return nil, err
	}
	time.Sleep(150 * time.Millisecond) // the final packet, even for the 100 ms poller
	stopped = true
	if err := c.stop(); err != nil {
		return nil, err
	}
	if st.EventsLost > 0 && !polling {
		return c.lat.latency, fmt.Errorf("%d events lost: the consumer fell behind", st.EventsLost)
	}
	return c.lat.latency, nil
}

func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

func wakeupFigures(o *options, rep *Report) error {
	reps, dur := 3, 2*time.Second
	if o.quick {
		reps, dur = 2, time.Second
	}
	const section = "4. wakeup latency"
	modes := []struct {
		name, kind  string
		polling, rt bool
	}{
		{"eventfd", "eventfd", false, false},
		{"pipe", "pipe", false, false},
		{"polling every 100 ms (xentrace)", "eventfd", true, false},
		{"eventfd, all three SCHED_FIFO", "eventfd", false, true},
	}
	if !canFIFO() {
		modes = modes[:3]
	}
	res := make([]latencies, len(modes))
	for range reps {
		for i, m := range modes {
			lat, err := wakeupRun(o, m.kind, m.polling, m.rt, dur)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			res[i].p50 = append(res[i].p50, percentile(lat, 50))
			res[i].p99 = append(res[i].p99, percentile(lat, 99))
			res[i].max = append(res[i].max, percentile(lat, 100))
			res[i].packets += len(lat)
		}
	}
	base := res[2]
	for i, m := range modes {
		if m.polling {
			continue
		}
		r := res[i]
		note := strconv.Itoa(r.packets) + " packets"
		rep.add(
			Figure{Section: section, Name: "p50, delivery to written, " + m.name, Unit: "µs", Value: stat(r.p50), Note: note}.withBase(modes[2].name+" p50", stat(base.p50)),
			Figure{Section: section, Name: "p99, delivery to written, " + m.name, Unit: "µs", Value: stat(r.p99), Note: note}.withBase(modes[2].name+" p99", stat(base.p99)).
				check("< 1 ms", stat(r.p99).Median < 1000),
			Figure{Section: section, Name: "max, delivery to written, " + m.name, Unit: "µs", Value: stat(r.max), Note: note}.withBase(modes[2].name+" max", stat(base.max)),
		)
	}
	return nil
}

// canFIFO reports whether this process may use SCHED_FIFO (root, or
// CAP_SYS_NICE with an RT limit) and chrt(1) is there to start dom0 so.
func canFIFO() bool {
	if _, err := exec.LookPath("chrt"); err != nil {
		return false
	}
	ok := make(chan bool)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		ok <- setFIFO() == nil
	}()
	return <-ok
}
