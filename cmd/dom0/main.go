// Command dom0 is the Linux-kernel stand-in: the only process that issues
// hypercalls. It binds VIRQ_TBUF, wakes the trace readers at every
// delivered sub-buffer, and serves lttctl-xen and lttd-xen on dom0.sock.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/dom0"
	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/internal/rundir"
	"github.com/lttng-xen/lttng-xen/wire"
)

func main() { cmdline.Main(newApp(os.Stderr)) }

func newApp(stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "dom0",
		Usage:     "the dom0 kernel stand-in: relays the tools' requests as hypercalls and wakes trace readers",
		UsageText: "dom0 [--wakeup eventfd|pipe] [--run-dir DIR]",
		Description: `Runs until SIGINT or SIGTERM. It waits for the hypervisor's socket to
appear (and reappear after a restart) and binds VIRQ_TBUF on it.

SIGUSR1 logs its goroutine, descriptor, client and reader counts (a leak
check: the counts return to the same values once the tools are gone).

Examples:
   dom0                     # readers are woken through an eventfd
   dom0 --wakeup pipe       # ... or through a pipe`,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "wakeup", Value: "eventfd", Usage: "how readers are woken: eventfd or pipe"},
			cmdline.AllowUIDFlag("tools run"),
			cmdline.RunDirFlag,
			cmdline.LogLevelFlag,
		},
		Action: run,
	}
}

func run(c *cli.Context) error {
	log, allowed, err := cmdline.Daemon(c, "dom0")
	if err != nil {
		return err
	}
	kind, err := dom0.ParseWakeup(c.String("wakeup"))
	if err != nil {
		return cmdline.Usagef("%v", err)
	}
	dir := cmdline.RunDir(c)
	if err := rundir.Ensure(dir); err != nil {
		return err
	}
	path := rundir.Path(dir, rundir.Dom0Socket)
	ln, err := wire.Listen(path)
	if err != nil {
		return fmt.Errorf("dom0: %w", err)
	}
	d, err := dom0.New(dom0.Config{
		HypervisorSocket: rundir.Path(dir, rundir.HypervisorSocket),
		Listener:         ln, Wakeup: kind, Allowed: allowed, Logger: log,
	})
	if err != nil {
		ln.Close()
		return err
	}
	ctx, cancel := cmdline.ShutdownSignals()
	defer cancel()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	errc := make(chan error, 1)
	go func() { errc <- d.Run() }()
	log.Info("dom0 ready", "socket", path, "wakeup", string(kind))
	for {
		select {
		case <-usr1:
			clients, readers := d.Clients()
			log.Info("debug counters", "goroutines", runtime.NumGoroutine(), "fds", cmdline.OpenFDs(),
				"clients", clients, "readers", readers)
		case <-ctx.Done():
			log.Info("shutting down")
			return d.Close()
		case err = <-errc:
			return errors.Join(err, d.Close())
		}
	}
}

// openFDs counts this process's open descriptors (-1 if unknown).
