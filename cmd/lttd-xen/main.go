// Command lttd-xen is the trace consumer: it maps the trace through dom0,
// sleeps in poll(2) until dom0 wakes it, and writes each delivered
// sub-buffer (a CTF packet) to OUTDIR/channel0_0 next to OUTDIR/metadata.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/consumer"
	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/internal/size"
)

func main() { cmdline.Main(newApp(os.Stdout, os.Stderr)) }

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "lttd-xen",
		Usage:     "the trace consumer: writes full sub-buffers to disk as dom0 hands them over",
		UsageText: "lttd-xen --output DIR [--force] [--run-dir DIR]",
		Description: `Start it after "lttctl-xen create" (it maps the trace then) and before
"lttctl-xen start". It exits 0 once the trace is destroyed and every
packet is on disk, printing a one-line summary; SIGINT/SIGTERM make it
write what is delivered, unmap and exit 0.

Examples:
   lttd-xen --output /tmp/trace
   babeltrace2 /tmp/trace`,
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true, Usage: "trace directory to write (created if missing)"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite the trace files of a non-empty --output directory"},
			cmdline.RunDirFlag,
			cmdline.LogLevelFlag,
		},
		Action: run,
	}
}

func run(c *cli.Context) error {
	if c.NArg() > 0 {
		return cmdline.Usagef("unexpected argument %q", c.Args().First())
	}
	log, err := cmdline.Logger(c, c.App.ErrWriter, "lttd-xen")
	if err != nil {
		return err
	}
	conn, err := cmdline.DialDom0(c)
	if err != nil {
		return err
	}
	defer conn.Close()
	out := c.String("output")
	cons, err := consumer.Open(conn, consumer.Config{Output: out, Force: c.Bool("force"), Logger: log})
	if err != nil {
		return err
	}
	ctx, cancel := cmdline.ShutdownSignals()
	defer cancel()
	// The signal watcher ends before Close, so Stop never meets a closed
	// consumer.
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ctx.Done():
			cons.Stop()
		case <-done:
		}
	})
	log.Info("consuming", "output", out)
	runErr := cons.Run()
	close(done)
	wg.Wait()
	st := cons.Stats()
	closeErr := cons.Close()
	fmt.Fprintf(c.App.Writer, "lttd-xen: %d packets, %s written to %s; %d events lost\n",
		st.Packets, size.Format(st.Bytes), out, st.Lost)
	if errors.Is(runErr, consumer.ErrDom0Gone) {
		return cli.Exit(fmt.Sprintf("%v (trace incomplete: %d packets on disk)", runErr, st.Packets), 3)
	}
	return errors.Join(runErr, closeErr)
}
