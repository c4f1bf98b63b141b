// Command hypervisor is the simulated Xen hypervisor's tracing side: it
// owns the trace channel, runs the simulated pCPUs that write into it and
// serves hypercalls from dom0 on hypervisor.sock in the run directory.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/hypervisor"
	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/internal/rundir"
	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/wire"
)

func main() { cmdline.Main(newApp(os.Stderr)) }

func newApp(stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "hypervisor",
		Usage:     "the simulated Xen hypervisor: owns the trace buffers, runs pCPUs that write events",
		UsageText: "hypervisor [--cpus N] [--max-cpus N] [--rate R] [--seed S] [--run-dir DIR]",
		Description: `Runs until SIGINT or SIGTERM. Only dom0 talks to it (hypercalls on
hypervisor.sock); use lttctl-xen to drive a trace. SIGUSR1 logs its
goroutine, descriptor and connection counts (a leak check).

Examples:
   hypervisor --cpus 8                  # 8 pCPUs writing as fast as they can once started
   hypervisor --cpus 2 --rate 50000     # 50k events/s per pCPU
   hypervisor --cpus 4 --max-cpus 16    # 4 pCPUs up, 12 more can be brought online`,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "cpus", Value: 4, Usage: "simulated pCPUs online at boot (independent of the host's CPUs)"},
			&cli.IntFlag{Name: "max-cpus", Usage: "highest number of pCPUs (CPU hotplug range); default --cpus"},
			&cli.Float64Flag{Name: "rate", Value: 0, Usage: "events per second per pCPU; 0 = as fast as possible"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "workload seed (the same seed gives the same event sequence per pCPU)"},
			&cli.StringFlag{Name: "clock", Value: "auto", Usage: "trace clock, one for every pCPU's stream: auto (the TSC when the start-up check proves it invariant and synchronised across CPUs, else monotonic), monotonic (CLOCK_MONOTONIC, ns) or tsc (the CPU's invariant TSC, calibrated at start; cheaper per event; refused if the check fails)"},
			cmdline.AllowUIDFlag("hypercalls"),
			cmdline.RunDirFlag,
			cmdline.LogLevelFlag,
		},
		Action: run,
	}
}

func run(c *cli.Context) error {
	log, allowed, err := cmdline.Daemon(c, "hypervisor")
	if err != nil {
		return err
	}
	tsc, err := chooseClock(c.String("clock"), log)
	if err != nil {
		return err
	}
	h, err := hypervisor.New(hypervisor.Config{
		CPUs: c.Int("cpus"), MaxCPUs: c.Int("max-cpus"), Rate: c.Float64("rate"), Seed: c.Uint64("seed"), Logger: log, TSC: tsc,
	})
	if err != nil {
		return cmdline.Usagef("%v", err)
	}
	defer h.Close()
	dir := cmdline.RunDir(c)
	if err := rundir.Ensure(dir); err != nil {
		return err
	}
	path := rundir.Path(dir, rundir.HypervisorSocket)
	ln, err := wire.Listen(path)
	if err != nil {
		return err
	}
	if err := cmdline.Share(allowed, dir, path); err != nil {
		ln.Close()
		return err
	}
	srv := hypervisor.NewServer(h, ln, allowed)
	ctx, cancel := cmdline.ShutdownSignals()
	defer cancel()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	log.Info("hypervisor ready", "socket", path, "cpus", c.Int("cpus"), "rate", c.Float64("rate"))
	for {
		select {
		case <-usr1:
			log.Info("debug counters", "goroutines", runtime.NumGoroutine(), "fds", cmdline.OpenFDs(), "conns", srv.Conns())
			continue
		case <-ctx.Done():
			log.Info("shutting down")
		case err = <-errc:
		}
		return closeAll(err, srv.Close(), h.Close())
	}
}

func closeAll(first error, rest ...error) error {
	if first != nil {
		return first
	}
	for _, e := range rest {
		if e != nil {
			return e
		}
	}
	return nil
}

// chooseClock applies --clock: the calibrated TSC for "tsc" (an error if it
// fails the check), nil (CLOCK_MONOTONIC) for "monotonic", and for "auto"
// the TSC when it passes, else monotonic. The choice is logged.
func chooseClock(name string, log *slog.Logger) (*record.TSCClock, error) {
	switch name {
	case "monotonic":
		log.Info("trace clock", "clock", "monotonic")
		return nil, nil
	case "tsc", "auto":
		cal, err := record.CalibrateTSC(50 * time.Millisecond)
		if err != nil {
			if name == "tsc" {
				return nil, cmdline.Usagef("--clock tsc: %v (use --clock monotonic)", err)
			}
			log.Info("trace clock", "clock", "monotonic", "why", fmt.Sprintf("the TSC failed the start-up check: %v", err))
			return nil, nil
		}
		log.Info("trace clock", "clock", "tsc", "freq_hz", cal.Freq, "freq_ppm", cal.FreqPPM, "warp_counts", cal.Warp, "handoffs", cal.Handoffs)
		return &cal, nil
	}
	return nil, cmdline.Usagef("--clock %q: want auto, monotonic or tsc", name)
}
