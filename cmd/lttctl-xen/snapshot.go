package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/snapshot"
	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) snapshotCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "snapshot",
		Usage:     "write the newest data of the trace's buffers as a CTF trace",
		UsageText: name + " [global options] snapshot [--output DIR] [--max-size SIZE] [--force]",
		Description: `Copies the newest delivered sub-buffers of every pCPU out of the trace's
buffers, without consuming them, and writes them as a CTF trace directory
(metadata plus channel0_<cpu> per pCPU) that babeltrace2 reads. Writers keep
running: a sub-buffer overwritten while it was copied is left out, and
babeltrace2 reports it, like every packet overwritten between snapshots, as
discarded packets. It works in overwrite mode (the flight recorder), in
discard mode (what is delivered and not yet consumed), while tracing and
after stop.

If the hypervisor died, dom0 still holds the trace's memory: the snapshot is
then post-mortem and also keeps each pCPU's open sub-buffer up to its last
committed record. "destroy" releases that memory.

Without --output the directory is snapshot-<uuid>-<time> in the current
directory; its name is printed. The directory is written under a temporary
name and renamed into place when complete.

EXAMPLES:
   lttctl-xen create --overwrite && lttctl-xen start
   lttctl-xen snapshot
   lttctl-xen snapshot --output crash --max-size 8MiB
   lttctl-xen snapshot --output last --force && babeltrace2 last | tail -n 3
   lttctl-xen destroy`,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:  "output",
				Usage: "write the trace into `DIR` (must not exist, or be empty; see --force)",
			},
			&cli.StringFlag{
				Name:  "max-size",
				Usage: "write at most `SIZE` bytes (e.g. 8MiB): the newest packets that fit",
			},
			&cli.BoolFlag{
				Name:  "force",
				Usage: "replace the trace already in --output",
			},
		},
		Action: t.snapshot,
	})
}

func (t *tool) snapshot(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	var maxSize uint64
	if c.IsSet("max-size") {
		v, err := cmdline.Size(c, "max-size")
		if err != nil {
			return err
		}
		if v == 0 {
			return cmdline.Usagef("--max-size 0: give a size, or leave the flag out for no limit")
		}
		maxSize = v
	}
	s, err := t.dial(c)
	if err != nil {
		return err
	}
	defer s.Close()
	// The hypervisor's view first: a live trace with the UUID of what dom0
	// maps is read while writers may run; anything else is a trace whose
	// hypervisor died (dom0 holds it), read post-mortem.
	var live *wire.Status
	if rep, err := s.call(&wire.Request{Op: wire.OpStatus}); err == nil && rep.Status != nil && rep.Status.State != wire.StateNone {
		live = rep.Status
	} else if err != nil && !errors.Is(err, wire.ErrUnavailable) {
		return err
	}
	if err := s.conn.SetDeadline(time.Now().Add(s.timeout)); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	src, err := snapshot.Open(s.conn)
	if err != nil {
		return callError("snapshot", s.timeout, err)
	}
	defer src.Close()
	uuid := record.FormatUUID(src.UUID())
	postMortem := live == nil || live.UUID != uuid
	out := c.String("output")
	if out == "" {
		out = fmt.Sprintf("snapshot-%s-%s", uuid[:8], time.Now().Format("20060102-150405"))
	}
	res, err := snapshot.Take(src.Observer, src.Metadata, snapshot.Config{
		Output: out, Force: c.Bool("force"), MaxSize: maxSize, PostMortem: postMortem,
	})
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	kind := "snapshot"
	if postMortem {
		kind = "post-mortem snapshot"
	}
	t.printf("%s written to %s: %d packets of %d pCPUs, %d bytes", kind, res.Dir, res.Packets, res.Streams, res.Bytes)
	if res.Open > 0 {
		t.printf(", %d open at the crash", res.Open)
	}
	if res.Spoiled > 0 {
		t.printf(", %d overwritten while being copied", res.Spoiled)
	}
	if res.Dropped > 0 {
		t.printf(", %d older packets left out by --max-size", res.Dropped)
	}
	t.printf("\n")
	return nil
}
