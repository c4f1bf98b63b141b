// Command dom0 is the Linux-kernel stand-in: the only process that issues
// hypercalls. It binds VIRQ_TBUF, wakes the trace readers at every
// delivered sub-buffer, and serves lttctl-xen and lttd-xen on dom0.sock.
package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
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
		UsageText: "dom0 [--wakeup eventfd|pipe] [--lttd PATH] [--allow-uid UID] [--run-dir DIR]",
		Description: `Runs until SIGINT or SIGTERM. It waits for the hypervisor's socket to
appear (and reappear after a restart) and binds VIRQ_TBUF on it.

Like lttng-sessiond with its consumer daemon, dom0 starts an lttd-xen for
each session created with an output directory ("lttctl-xen create", unless
--no-output): "create" answers once that lttd-xen has mapped the trace (or
fails with its error), "destroy" once it has written the whole trace and
exited. dom0 runs the lttd-xen next to its own executable, else the one on
$PATH, or the one --lttd names, as the uid that created the session (a dom0
running as root switches to it; one running as another uid refuses such a
create); at shutdown it stops it (the trace on disk stays whole up to the
last delivered packet).

SIGUSR1 logs its goroutine, descriptor, client and reader counts (a leak
check: the counts return to the same values once the tools are gone).

Examples:
   dom0                     # readers are woken through an eventfd
   dom0 --wakeup pipe       # ... or through a pipe`,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "wakeup", Value: "eventfd", Usage: "how readers are woken: eventfd or pipe"},
			&cli.StringFlag{Name: "lttd", Usage: "run `PATH` as the lttd-xen of sessions with an output directory (default: the one next to dom0, else on $PATH)"},
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
		return err
	}
	if err := cmdline.Share(allowed, dir, path); err != nil {
		ln.Close()
		return err
	}
	lttd, err := findLttd(c.String("lttd"))
	if err != nil {
		ln.Close()
		return err
	}
	if lttd == "" {
		log.Warn("no lttd-xen next to dom0 or on $PATH: create --output will fail (use --lttd PATH)")
	}
	d, err := dom0.New(dom0.Config{
		HypervisorSocket: rundir.Path(dir, rundir.HypervisorSocket),
		Listener:         ln, Wakeup: kind, Allowed: allowed, Logger: log,
		Lttd: lttd, RunDir: dir,
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

// findLttd returns the lttd-xen dom0 starts for sessions: flag if set (it
// must be executable), else the one next to dom0's executable, else the
// one on $PATH, else "".
func findLttd(flag string) (string, error) {
	if flag != "" {
		p, err := exec.LookPath(flag)
		if err != nil {
			return "", cmdline.Usagef("--lttd %s: %v", flag, errors.Unwrap(err))
		}
		return filepath.Abs(p)
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "lttd-xen")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath("lttd-xen"); err == nil {
		return filepath.Abs(p)
	}
	return "", nil
}
