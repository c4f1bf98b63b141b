package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// Idle cost: a hypervisor (4 pCPUs), dom0 and a created trace that is not
// started. First lttd-xen is attached to it for the window; then, as one
// consumer per trace is allowed, lttd-xen leaves and the xentrace baseline
// takes its place for a second window of the same length: a child process
// running the same consumer engine woken every 100 ms by a timer
// ("lttng-xen-bench poll-reader", see timerWakeups). Over each window,
// each process's CPU time (every thread's, from /proc/PID/task/*/schedstat)
// and wakeups (voluntary context switches, summed over
// /proc/PID/task/*/status).

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
	lttd, err := d.lttd(filepath.Join(d.dir, "trace"))
	if err != nil {
		return d.withLogs(err)
	}
	defer lttd.stop()
	ours, err := idleWindow(window, d.d0, lttd, d.hv)
	if err != nil {
		return err
	}
	lttd.stop()
	poller := &proc{name: "poll-reader", log: filepath.Join(d.dir, "poll-reader.log"), done: make(chan struct{})}
	if err := startChild(poller, o.self, "poll-reader", "-sock", filepath.Join(d.dir, "sock", "dom0.sock"), "-out", filepath.Join(d.dir, "poll-trace")); err != nil {
		return err
	}
	defer poller.stop()
	if err := poller.waitLog("polling", 30*time.Second); err != nil {
		return d.withLogs(err)
	}
	base, err := idleWindow(window, poller)
	if err != nil {
		return err
	}
	const section = "5. idle (created trace, not started)"
	per := fmt.Sprintf("over %.0f s", window.Seconds())
	for i, name := range []string{"dom0", "lttd-xen", "hypervisor"} {
		a := ours[i]
		w := Figure{Section: section, Name: name + " wakeups " + per, Unit: "switches", Value: single(float64(a.voluntary))}.
			withBase("consumer polling every 100 ms (next window)", single(float64(base[0].voluntary)))
		c := Figure{Section: section, Name: name + " CPU time " + per, Unit: "ms", Value: single(float64(a.cpuNS) / 1e6)}.
			withBase("consumer polling every 100 ms (next window)", single(float64(base[0].cpuNS)/1e6))
		if i < 2 {
			w = w.check("0", a.voluntary == 0)
		}
		rep.add(w, c)
	}
	return nil
}

// idleWindow lets start-up work (GC, timers) settle for a second, then
// returns what each process did over window.
func idleWindow(window time.Duration, procs ...*proc) ([]activity, error) {
	time.Sleep(time.Second)
	before := make([]activity, len(procs))
	for i, p := range procs {
		before[i] = readActivity(p.pid())
	}
	time.Sleep(window)
	after := make([]activity, len(procs))
	for i, p := range procs {
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited during the idle window", p.name)
		default:
		}
		after[i] = readActivity(p.pid()).sub(before[i])
	}
	return after, nil
}

func single(v float64) Stat { return stat([]float64{v}) }

// startChild starts this executable in a child mode, its output to p.log.
func startChild(p *proc, self string, args ...string) error {
	p.cmd = exec.Command(self, args...)
	f, err := os.Create(p.log)
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

// pollReaderMain is the child "lttng-xen-bench poll-reader -sock PATH -out
// DIR": the consumer engine woken every 100 ms by a timer instead of by
// dom0, as xentrace polls; the idle-cost baseline. It logs "polling" once
// it consumes and runs until SIGTERM.
func pollReaderMain(args []string) int {
	fs := flag.NewFlagSet("poll-reader", flag.ExitOnError)
	sock := fs.String("sock", "", "dom0's socket")
	out := fs.String("out", "", "the trace directory to write")
	interval := fs.Duration("interval", 100*time.Millisecond, "how often to look")
	fs.Parse(args)
	if *sock == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "poll-reader: -sock and -out are required")
		return 2
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	c, err := startConsumer(*sock, *out, 0, *interval, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "poll-reader:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "polling", filepath.Base(*sock))
	<-sig
	if err := c.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "poll-reader:", err)
		return 1
	}
	return 0
}
