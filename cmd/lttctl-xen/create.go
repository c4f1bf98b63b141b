package main

import (
	"math/bits"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/internal/size"
	"github.com/lttng-xen/lttng-xen/shm"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Defaults of create.
const (
	defaultSubbufSize = "64KiB"
	defaultNumSubbuf  = 8
)

func (t *tool) createCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "create",
		Usage:     "create the trace and its buffers",
		UsageText: name + " [global options] create [--subbuf-size SIZE] [--num-subbuf N] [--mode discard|overwrite | --overwrite] [--switch-timer DURATION] [--events GLOB,...]",
		Description: `Creates the trace: a ring of N sub-buffers of SIZE bytes shared by the pCPUs,
each sub-buffer one CTF packet. The trace starts in the "created" state; "start"
starts tracing. There is one trace at a time: destroy the old one first.

SIZE takes binary units: B, K or KiB, M or MiB, G or GiB (64KiB = 65536 bytes).
Both SIZE and N are powers of two, SIZE at least 4KiB, N at least 2, and the
whole buffer (N x SIZE) at most 4GiB. In discard mode, a record that finds the
buffer full is dropped and counted. In overwrite mode (--overwrite, the flight
recorder) no consumer is needed: a pCPU whose ring is full reclaims its oldest
delivered sub-buffer and counts it overwritten; "snapshot" copies the newest
data. The switch timer closes the open sub-buffer
periodically, so that a quiet trace still reaches the reader (0: never).

EXAMPLES:
   lttctl-xen create
   lttctl-xen create --subbuf-size 1MiB --num-subbuf 4 --switch-timer 500ms
   lttctl-xen create --events 'sched_*,irq_*'
   lttctl-xen create --events 'sched_*' --events page_fault
   lttctl-xen create --overwrite --switch-timer 200ms`,
		Flags: []cli.Flag{
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
			&cli.DurationFlag{
				Name:  "switch-timer",
				Value: 0,
				Usage: "close the open sub-buffer every `DURATION` (500ms, 2s; 0: never)",
			},
			&cli.StringSliceFlag{
				Name:  "events",
				Usage: "enable only the events matching `GLOB` (comma-separated or repeated; default: all)",
			},
		},
		Action: t.create,
	})
}

func (t *tool) create(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	args, err := createArgs(c)
	if err != nil {
		return err
	}
	if _, err := t.do(c, &wire.Request{Op: wire.OpCreate, Create: args}); err != nil {
		return err
	}
	t.printf("trace created: %d sub-buffers of %s (%s), mode %s\n",
		args.NumSubbuf, size.Format(args.SubbufSize), size.Format(args.NumSubbuf*args.SubbufSize), args.Mode)
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
	if subbuf < shm.MinSubbufSize || !isPow2(subbuf) {
		return nil, cmdline.Usagef("--subbuf-size %s: must be a power of two, at least %s (try %s)",
			raw, size.Format(shm.MinSubbufSize), nearPow2(subbuf, shm.MinSubbufSize, size.Format))
	}
	num := c.Uint64("num-subbuf")
	if num < shm.MinNumSubbuf || !isPow2(num) {
		return nil, cmdline.Usagef("--num-subbuf %d: must be a power of two, at least %d (try %s)",
			num, shm.MinNumSubbuf, nearPow2(num, shm.MinNumSubbuf, formatCount))
	}
	if subbuf > shm.MaxTotalSize/num {
		total := "over 16EiB"
		if hi, lo := bits.Mul64(num, subbuf); hi == 0 {
			total = size.Format(lo)
		}
		return nil, cmdline.Usagef("--num-subbuf %d x --subbuf-size %s = %s: the buffer must be at most %s in all",
			num, raw, total, size.Format(shm.MaxTotalSize))
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
	timer := c.Duration("switch-timer")
	if timer < 0 {
		return nil, cmdline.Usagef("--switch-timer %s: must not be negative (0 disables it)", timer)
	}
	events, err := globs(c.StringSlice("events"))
	if err != nil {
		return nil, err
	}
	return &wire.CreateArgs{
		SubbufSize:  subbuf,
		NumSubbuf:   num,
		Mode:        mode,
		SwitchTimer: timer,
		Events:      events,
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

func isPow2(v uint64) bool { return v != 0 && v&(v-1) == 0 }

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
