package main

import (
	"errors"
	"math/bits"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/internal/size"
	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Defaults and limits of create.
const (
	defaultSubbufSize = "64KiB"
	defaultNumSubbuf  = 8
	// minSwitchTimer is the hypervisor's shortest switch timer.
	minSwitchTimer = time.Millisecond
)

func (t *tool) createCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "create",
		Usage:     "create a trace session: its buffers, and a consumer writing them to disk",
		UsageText: name + " [global options] create [NAME] [--output DIR | --no-output] [--subbuf-size SIZE] [--num-subbuf N] [--mode discard|overwrite | --overwrite] [--switch-timer TIME] [--events GLOB,...] [--cpus LIST]",
		Description: `Creates the trace session NAME (default: auto-YYYYMMDD-HHMMSS, as lttng names
it): each pCPU gets a ring of N sub-buffers of SIZE bytes (sizes are per pCPU,
as in lttng enable-channel), each sub-buffer one CTF packet of that pCPU's
stream. The session starts in the "created" state; "start" starts
tracing. There is one session at a time: destroy the old one first.

As lttng-sessiond does, dom0 starts a consumer (lttd-xen) for the session that
writes the trace to DIR (default: $HOME/lttng-traces/NAME-YYYYMMDD-HHMMSS, or
$HOME/lttng-traces/NAME for an automatic name) and lives as long as the
session: "destroy" returns once the whole trace is on disk. DIR must be empty
or absent; if the consumer cannot start there, create fails with its error and
no session is left. With --no-output there is no consumer: run
"lttd-xen --output DIR" yourself, or the records are lost.

SIZE takes binary units: B, K or KiB, M or MiB, G or GiB (64KiB = 65536 bytes).
Both SIZE and N are powers of two, SIZE at least 4KiB, N at least 2, and the
whole buffer (N x SIZE) at most 4GiB. In discard mode, a record that finds the
buffer full is dropped and counted. The switch timer closes the open sub-buffer
periodically, so that a quiet trace still reaches the reader: TIME is a
duration (500ms, 2s) or, as lttng takes it, a plain number of microseconds
(500000 = 500ms); at least ` + minSwitchTimer.String() + `; 0: never.

In overwrite mode (--overwrite, the flight recorder) there is no consumer (no
output): a pCPU whose ring is full reclaims its oldest delivered sub-buffer and
counts it overwritten; "snapshot" copies the newest data.

--cpus restricts the hypervisor's workload to the pCPUs listed (as xentrace -c
does): ids and ranges, 0,2-3; each must exist (the hypervisor's --max-cpus).
Other pCPUs write only what is emitted on them (emit, cpu online/offline).
cpu_online and cpu_offline records are never filtered out by --events: they
mark a hotplugged pCPU's gap.

EXAMPLES:
   lttctl-xen create && lttctl-xen destroy
   lttctl-xen create demo --output ./demo-trace && lttctl-xen destroy
   lttctl-xen create --no-output --subbuf-size 1MiB --num-subbuf 4 --switch-timer 500ms && lttctl-xen destroy
   lttctl-xen create --no-output --switch-timer 250000 && lttctl-xen destroy
   lttctl-xen create --no-output --events 'sched_*,irq_*' && lttctl-xen destroy
   lttctl-xen create --overwrite --switch-timer 200ms && lttctl-xen destroy
   lttctl-xen create --no-output --events 'sched_*' --events page_fault --cpus 0,2-3`,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:  "output",
				Usage: "write the trace to `DIR` (empty or absent), with a consumer dom0 starts (default: $HOME/lttng-traces/NAME-DATE)",
			},
			&cli.BoolFlag{
				Name:  "no-output",
				Usage: "no consumer: run lttd-xen yourself",
			},
			&cli.StringFlag{
				Name:  "subbuf-size",
				Value: defaultSubbufSize,
				Usage: "bytes per sub-buffer, `SIZE` with a unit: a power of two, at least 4KiB",
			},
			&cli.Uint64Flag{
				Name:  "num-subbuf",
				Value: defaultNumSubbuf,
				Usage: "`N` sub-buffers: a power of two, at least 2",
			},
			&cli.StringFlag{
				Name:  "mode",
				Value: string(wire.ModeDiscard),
				Usage: "buffer `MODE` when full: discard (drop new records, counting them) or overwrite (reclaim the oldest sub-buffer)",
			},
			&cli.BoolFlag{
				Name:  "overwrite",
				Usage: "flight recorder: the same as --mode overwrite",
			},
			&cli.StringFlag{
				Name:  "switch-timer",
				Value: "0",
				Usage: "close the open sub-buffer every `TIME`: 500ms, 2s, or a plain number of microseconds (lttng's unit); at least " + minSwitchTimer.String() + "; 0: never",
			},
			&cli.StringSliceFlag{
				Name:  "events",
				Usage: "enable only the events matching `GLOB` (comma-separated or repeated; default: all; cpu_online and cpu_offline always)",
			},
			&cli.StringFlag{
				Name:  "cpus",
				Usage: "run the hypervisor's workload on the pCPUs in `LIST` only: 0,2-3 (default: all)",
			},
		},
		Action: t.create,
	})
}

func (t *tool) create(c *cli.Context) error {
	if c.NArg() > 1 {
		return usagef(c, "unexpected argument %q (one session NAME at most)", c.Args().Get(1))
	}
	if err := noFlagArgs(c); err != nil {
		return err
	}
	args, err := createArgs(c)
	if err != nil {
		return err
	}
	now := t.now()
	if args.Name, err = sessionName(c.Args().First(), now); err != nil {
		return err
	}
	if args.Mode == wire.ModeOverwrite {
		// A flight recorder has no consumer: snapshots read it.
		if c.IsSet("output") {
			return usagef(c, "--output: an overwrite-mode trace has no consumer (read it with lttctl-xen snapshot)")
		}
	} else if args.Output, err = t.outputDir(c, args.Name, c.Args().Present(), now); err != nil {
		return err
	}
	if _, err := t.do(c, &wire.Request{Op: wire.OpCreate, Create: args}); err != nil {
		return err
	}
	t.printf("Session %s created: %d sub-buffers of %s (%s), mode %s\n", args.Name,
		args.NumSubbuf, size.Format(args.SubbufSize), size.Format(args.NumSubbuf*args.SubbufSize), args.Mode)
	switch {
	case args.Output != "":
		t.printf("Traces will be written in %s\n", args.Output)
	case args.Mode == wire.ModeOverwrite:
		t.printf("Flight recorder: lttctl-xen snapshot writes the newest data\n")
	default:
		t.printf("No output: run lttd-xen --output DIR to record the trace\n")
	}
	return nil
}

// createArgs reads and checks create's flags. It checks what can be checked here, with
// errors naming the flag, its value and the rule; the hypervisor checks again.
func createArgs(c *cli.Context) (*wire.CreateArgs, error) {
	subbuf, err := cmdline.Size(c, "subbuf-size")
	if err != nil {
		return nil, err
	}
	raw := c.String("subbuf-size")
	num := c.Uint64("num-subbuf")
	// The rules are shm's (the hypervisor checks the same); the messages
	// name the flags and suggest a value that passes.
	var ge *shm.GeometryError
	if err := (shm.Geometry{SubbufSize: subbuf, NumSubbuf: num}).Validate(); errors.As(err, &ge) {
		switch ge.Field {
		case shm.FieldSubbufSize:
			return nil, cmdline.Usagef("--subbuf-size %s: must be a power of two, at least %s (try %s)",
				raw, size.Format(shm.MinSubbufSize), nearPow2(subbuf, shm.MinSubbufSize, size.Format))
		case shm.FieldNumSubbuf:
			return nil, cmdline.Usagef("--num-subbuf %d: %s (try %s)", num, ge.Rule, nearPow2(num, shm.MinNumSubbuf, formatCount))
		default:
			total := "over 16EiB"
			if hi, lo := bits.Mul64(num, subbuf); hi == 0 {
				total = size.Format(lo)
			}
			return nil, cmdline.Usagef("--num-subbuf %d x --subbuf-size %s = %s: the buffer must be at most %s in all",
				num, raw, total, size.Format(shm.MaxTotalSize))
		}
	} else if err != nil {
		return nil, cmdline.Usagef("%v", err)
	}
	mode := wire.Mode(c.String("mode"))
	if c.Bool("overwrite") {
		if c.IsSet("mode") && mode != wire.ModeOverwrite {
			return nil, cmdline.Usagef("--overwrite and --mode %s contradict each other", mode)
		}
		mode = wire.ModeOverwrite
	}
	if err := mode.Validate(); err != nil {
		return nil, cmdline.Usagef("--mode: %v", err)
	}
	timer, err := lttngTimer("switch-timer", c.String("switch-timer"), minSwitchTimer)
	if err != nil {
		return nil, err
	}
	events, err := globs(c.StringSlice("events"))
	if err != nil {
		return nil, err
	}
	var cpus []int
	if c.IsSet("cpus") {
		if cpus, err = parseCPUList(c.String("cpus")); err != nil {
			return nil, cmdline.Usagef("--cpus %q: %v", c.String("cpus"), err)
		}
	}
	return &wire.CreateArgs{
		SubbufSize:  subbuf,
		NumSubbuf:   num,
		Mode:        mode,
		SwitchTimer: timer,
		Events:      events,
		CPUs:        cpus,
	}, nil
}

// globs checks the --events globs ([path.Match] syntax).
func globs(list []string) ([]string, error) {
	out, err := checkGlobs(list)
	if err != nil {
		return nil, cmdline.Usagef("--events: %v", err)
	}
	return out, nil
}

func formatCount(v uint64) string { return strconv.FormatUint(v, 10) }

// nearPow2 names the valid values nearest to v: the powers of two around it, leaving out
// those below least (a power of two).
func nearPow2(v, least uint64, format func(uint64) string) string {
	if v < least {
		return format(least)
	}
	lo := uint64(1) << (63 - bits.LeadingZeros64(v))
	if lo == v || lo == 1<<63 {
		return format(lo)
	}
	return format(lo) + " or " + format(lo<<1)
}
