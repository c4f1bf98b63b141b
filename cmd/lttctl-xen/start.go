package main

import (
	"context"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) startCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "start",
		Usage:     "start tracing: the pCPUs write records",
		UsageText: name + " [global options] start [--duration DURATION]",
		Description: `Starts the session made by "create": the hypervisor's pCPUs begin writing
records into the sub-buffers. The session must be created or stopped, not
started: "lttctl-xen status" shows its state.

A session created with an output directory has its consumer already. One
created with --no-output needs an lttd-xen attached first: with none (status
shows 0 readers), start warns that records are lost until one attaches.

--duration stops the trace again after DURATION (as xentrace -T does): start
waits that long, then stops it; ^C stops it early.

EXAMPLES:
   lttctl-xen create && lttctl-xen start
   lttctl-xen stop && lttctl-xen start --duration 1s
   lttctl-xen destroy && lttctl-xen create --num-subbuf 16 && lttctl-xen start --duration 500ms`,
		Flags: []cli.Flag{
			&cli.DurationFlag{
				Name:  "duration",
				Usage: "stop tracing again after `DURATION` (500ms, 10s, 2m)",
			},
		},
		Action: t.start,
	})
}

func (t *tool) start(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	d := c.Duration("duration")
	if c.IsSet("duration") && d <= 0 {
		return usagef(c, "--duration %s: must be positive", d)
	}
	s, err := t.dial(c)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.call(&wire.Request{Op: wire.OpStart}); err != nil {
		return err
	}
	t.printf("tracing started\n")
	t.warnNoConsumer(s)
	if d == 0 {
		return nil
	}
	ctx, cancel := t.signals()
	defer cancel()
	err = t.sleep(ctx, d)
	// Stop on a new connection: dom0 closes an idle one after a while, and --duration may
	// be long.
	s.Close()
	if _, serr := t.do(c, &wire.Request{Op: wire.OpStop}); serr != nil {
		return serr
	}
	if err != nil {
		t.printf("tracing stopped (interrupted)\n")
	} else {
		t.printf("tracing stopped after %s\n", d)
	}
	return nil
}

// warnNoConsumer warns on stderr when nothing reads the trace: no consumer dom0 started
// (no output directory) and no reader registered. A status that cannot be fetched is
// only logged: the start itself succeeded.
func (t *tool) warnNoConsumer(s *session) {
	st, err := s.status()
	if err != nil {
		t.log.Debug("status after start", "err", err)
		return
	}
	if st.Output == "" && st.Readers == 0 && st.Mode == wire.ModeDiscard {
		t.warnf("no consumer is attached (readers 0): records are lost until lttd-xen attaches (lttd-xen --output DIR), or create the session with --output")
	}
}

// sleepCtx waits d, or until ctx ends (then it returns ctx's error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
