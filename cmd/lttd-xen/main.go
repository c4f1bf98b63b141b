// Command lttd-xen is the trace consumer: it maps the trace through dom0,
// sleeps in poll(2) until dom0 wakes it, and writes each delivered
// sub-buffer (a CTF packet) of pCPU N's ring to OUTDIR/channel0_N next to
// OUTDIR/metadata.
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
	"github.com/lttng-xen/lttng-xen/internal/rundir"
	"github.com/lttng-xen/lttng-xen/internal/size"
	"github.com/lttng-xen/lttng-xen/wire"
)

// exitIncomplete: the trace went away before it was destroyed.
const exitIncomplete = 3

func main() { cmdline.Main(newApp(os.Stdout, os.Stderr)) }

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "lttd-xen",
		Usage:     "the trace consumer: writes full sub-buffers to disk as dom0 hands them over",
		UsageText: "lttd-xen --output DIR [--force] [--resume] [--progress] [--run-dir DIR]\n   lttd-xen --url net://HOST[:CTRL[:DATA]] [--session NAME] [--hostname NAME] [--live-timer PERIOD]",
		Description: `dom0 starts an lttd-xen for each session created with an output
directory ("lttctl-xen create --output DIR", the default): run lttd-xen
yourself only for a session created with --no-output. Start it after
"lttctl-xen create --no-output" (it maps the trace then) and before
"lttctl-xen start". It is the trace's one consumer: while it runs, another
lttd-xen is refused, with the pid of the one that holds the role. It
writes pCPU N's packets to DIR/channel0_N. It exits 0 once the trace is
destroyed and every packet is on disk, printing a summary line and a line
per stream; SIGINT/SIGTERM make it
write what is delivered, unmap and exit 0. On a terminal it shows a live
status line (packets, bytes written, events/s, events lost) while it is in
the terminal's foreground (always with --progress); otherwise it logs a
progress line at most every 5 s while packets are written.

If dom0 restarts, lttd-xen keeps its mapping, waits for the new dom0 and
goes on. If the trace is gone (the hypervisor died, or serves another
trace) it writes what it holds and exits 3: the trace on disk is whole up
to its last packet, but incomplete. If the disk fills up it cuts the
stream file back to its last whole packet and exits 1.

--resume continues the trace in DIR after an lttd-xen that died (kill -9):
it keeps every whole packet of every stream on disk, cuts a partial last
one off (its bytes are kept in DIR/.channel0_N.torn-OFFSET), and goes on
from the packets the rings still hold. It first checks every stream file
and changes nothing if one is not this trace's (another trace, a file
whose first packet does not parse, a symbolic link, not a regular file);
with --force such a file is copied aside to DIR/.channel0_N.torn-0 and the
stream starts afresh.

--url net://HOST sends the trace to an lttng-relayd (lttng-tools) instead:
one relay stream per pCPU plus the metadata, each packet with the index
live readers use. With --live-timer, babeltrace2 and Trace Compass read
the session while it is recorded (babeltrace2 net://HOST:5344/host/NAME/
SESSION). If the relay goes away, lttd-xen redials for --relay-retry
(meanwhile the rings fill and the hypervisor discards, and counts), then
goes on in a new trace directory on the relay, or fails (exit 1).

Exit codes: 0 done, 1 error, 2 usage, 3 trace incomplete (the trace is gone).

Examples:
   lttctl-xen create --no-output             # a session without dom0's consumer
   lttd-xen --output trace &                 # your own; it maps the trace, sleeps in poll(2)
   lttctl-xen start && sleep 1 && lttctl-xen destroy
   wait                                      # lttd-xen exits once the trace is on disk
   babeltrace2 trace | head`,
		Writer:    stdout,
		ErrWriter: stderr,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "trace directory `DIR` to write: created if missing, else it must be empty (or --url)"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite the trace files of a non-empty --output directory; with --resume, move aside the stream files that are not this trace's"},
			&cli.BoolFlag{Name: "resume", Usage: "continue the trace already in --output (after lttd-xen died)"},
			&cli.BoolFlag{Name: "progress", Usage: "draw the live status line on the terminal even when lttd-xen is not in its foreground (started with &)"},
			// --ready-fd N: write "ready" to descriptor N once the trace is mapped
			// and lttd-xen registered as a reader, then close it; dom0 passes
			// it to the consumer it starts for a session.
			&cli.IntFlag{Name: "ready-fd", Value: -1, Hidden: true},
			cmdline.RunDirFlag,
			cmdline.InsecureRunDirFlag,
			cmdline.LogLevelFlag,
		}, relayFlags...),
		Action: run,
	}
}

func run(c *cli.Context) error {
	if c.NArg() > 0 {
		return cmdline.Usagef("unexpected argument %q", c.Args().First())
	}
	if c.String("output") == "" && c.String("url") == "" {
		return cmdline.Missing(c, "output", "DIR (or --url net://HOST)")
	}
	dom0Socket := rundir.Path(cmdline.RunDir(c), rundir.Dom0Socket)
	view := newLiveView(c.App.ErrWriter, dom0Socket, c.Bool("progress"))
	defer view.Close()
	log, err := cmdline.Logger(c, view.Writer(), "lttd-xen")
	if err != nil {
		return err
	}
	dir, relay, err := destination(c)
	if err != nil {
		return err
	}
	conn, err := cmdline.DialDom0(c)
	if err != nil {
		return err
	}
	cons, err := consumer.Open(conn, consumer.Config{
		Output: dir, Relay: relay, Force: c.Bool("force"), Resume: c.Bool("resume"), Logger: log,
		Dom0Socket: dom0Socket, OnPackets: view.OnPackets,
		Redial: func() (*wire.Conn, error) { return cmdline.DialDom0(c) },
	})
	if errors.Is(err, consumer.ErrNotEmpty) && c.Int("ready-fd") >= 0 {
		// Started by dom0 for "lttctl-xen create --output DIR", whose user
		// has no --force or --resume to give: say what create wants.
		return fmt.Errorf("%s: the output directory is not empty (give lttctl-xen create an empty or new --output directory)", dir)
	}
	if err != nil {
		return err
	}
	if err := signalReady(c.Int("ready-fd")); err != nil {
		cons.Close()
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
	out := cons.Where()
	log.Info("consuming", "output", out)
	view.Start(log)
	runErr := cons.Run()
	close(done)
	wg.Wait()
	st := cons.Stats()
	closeErr := cons.Close()
	view.Close()
	fmt.Fprintln(c.App.Writer, summary(out, st, runErr))
	if errors.Is(runErr, consumer.ErrTraceGone) {
		return cli.Exit(fmt.Sprintf("%v (trace incomplete: %d packets on disk)", runErr, st.Packets), exitIncomplete)
	}
	return errors.Join(runErr, closeErr)
}

// signalReady writes "ready" to descriptor fd and closes it (--ready-fd;
// nothing for -1).
func signalReady(fd int) error {
	if fd < 0 {
		return nil
	}
	if fd <= 2 {
		return cmdline.Usagef("--ready-fd %d: not a descriptor of its own (want 3 or more)", fd)
	}
	f := os.NewFile(uintptr(fd), "ready-fd")
	_, err := f.WriteString("ready\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--ready-fd %d: %w", fd, err)
	}
	return nil
}

// summary is what is printed on stdout at the end: one line (tests parse
// it), "lttd-xen: N packets, SIZE written to DIR; L events lost", then what
// else the user must know; then one indented line per stream.
func summary(out string, st consumer.Stats, runErr error) string {
	s := fmt.Sprintf("lttd-xen: %d packets, %s written to %s; %d events lost",
		st.Packets, size.Format(st.Bytes), out, st.Lost)
	if st.Kept > 0 {
		s += fmt.Sprintf("; %d packets kept from before --resume", st.Kept)
	}
	if st.Missing > 0 {
		s += fmt.Sprintf("; %d packets missing (consumed before --resume but not on disk)", st.Missing)
	}
	if st.Reconnects > 0 {
		s += fmt.Sprintf("; re-attached to dom0 %d times", st.Reconnects)
	}
	switch {
	case errors.Is(runErr, consumer.ErrTraceGone):
		s += "; trace incomplete: the trace went away"
	case errors.Is(runErr, consumer.ErrNoRoom):
		s += "; trace incomplete: no room left on disk"
	case runErr != nil:
		s += "; stopped on an error (see stderr)"
	}
	for _, ss := range st.Streams {
		s += fmt.Sprintf("\n  %s: %d packets, %s; %d events lost", consumer.StreamFile(ss.CPU), ss.Packets, size.Format(ss.Bytes), ss.Lost)
		if ss.Kept > 0 {
			s += fmt.Sprintf("; %d kept from before --resume", ss.Kept)
		}
		if ss.Missing > 0 {
			s += fmt.Sprintf("; %d missing", ss.Missing)
		}
	}
	return s
}
