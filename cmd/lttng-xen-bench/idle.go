package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"time"
)

// Idle cost: a hypervisor (4 pCPUs), dom0, a created trace that is not
// started and lttd-xen attached to it, next to the xentrace baseline (a
// reader that looks every 100 ms) attached to the same trace. Over the
// window, each process's CPU time (every thread's, from
// /proc/PID/task/*/schedstat) and wakeups (voluntary context switches,
// summed over /proc/PID/task/*/status).

func idleFigures(o *options, rep *Report) error {
	window := 10 * time.Second
	if o.quick {
		window = 5 * time.Second
	}
	d, err := startDaemons(o, []string{"--cpus", "4"}, nil)
	if err != nil {
		return err
	}
	defer d.close()
	if err := d.create(64<<10, 8); err != nil {
		return err
	}
	out := filepath.Join(d.dir, "trace")
	lttd, err := d.lttd(out)
	if err != nil {
		return err
	}
	defer lttd.stop()
	poller := &proc{name: "poll-reader", log: filepath.Join(d.dir, "poll-reader.log"), done: make(chan struct{})}
	if err := startChild(poller, o.self, "poll-reader", "-sock", filepath.Join(d.dir, "sock", "dom0.sock")); err != nil {
		return err
	}
	defer poller.stop()
	if err := poller.waitLog("polling", 30*time.Second); err != nil {
		return err
	}
	time.Sleep(time.Second) // let start-up work (GC, timers) settle
	procs := []*proc{d.d0, lttd, d.hv, poller}
	before := make([]activity, len(procs))
	for i, p := range procs {
		before[i] = readActivity(p.pid())
	}
	time.Sleep(window)
	after := make([]activity, len(procs))
	for i, p := range procs {
		after[i] = readActivity(p.pid()).sub(before[i])
	}
	const section = "5. idle (created trace, not started)"
	base := after[3]
	per := fmt.Sprintf("over %.0f s", window.Seconds())
	for i, name := range []string{"dom0", "lttd-xen", "hypervisor"} {
		a := after[i]
		w := Figure{Section: section, Name: name + " wakeups " + per, Unit: "switches", Value: one(float64(a.voluntary))}.
			withBase("reader polling every 100 ms", one(float64(base.voluntary)))
		c := Figure{Section: section, Name: name + " CPU time " + per, Unit: "ms", Value: one(float64(a.cpuNS) / 1e6)}.
			withBase("reader polling every 100 ms", one(float64(base.cpuNS)/1e6))
		if i < 2 {
			w = w.check("0", a.voluntary == 0)
		}
		rep.add(w, c)
	}
	return nil
}

func one(v float64) Stat { return stat([]float64{v}) }

// startChild starts this executable in a child mode, its output to p.log.
func startChild(p *proc, self string, args ...string) error {
	p.cmd = exec.Command(self, args...)
	f, err := createLog(p.log)
	if err != nil {
		return err
	}
	defer f.Close()
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		return err
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	return nil
}
