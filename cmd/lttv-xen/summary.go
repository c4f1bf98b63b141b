package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/analysis"
	"github.com/lttng-xen/lttng-xen/record"
)

func (t *tool) summaryCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "summary",
		Usage:     "sum up what ran where: pCPUs, domains and vCPUs, hypercalls, IRQs, losses",
		UsageText: name + " [global options] summary [--json] [--salvage] [--begin DURATION] [--end DURATION] DIR",
		Description: `Reads every stream of the trace in DIR, merged by timestamp, and prints a
report like xenalyze --summary's, for the whole trace or the window from
--begin to --end (durations after the first event: 1.5s, 200ms, 10us):

   pCPUs     events, sched_switches, busy time (running a vCPU of a domain
             other than the idle one, 32767), idle time, offline time
             (cpu_offline to cpu_online), unknown (before its first
             sched_switch)
   domains   runtime (from sched_switch), wakeups (vcpu_wake), wake-to-run
   and vCPUs latency p50/p99/max (from a vcpu_wake to the sched_switch that
             runs the vCPU), time blocked (vcpu_block, or a sched_switch
             leaving it blocked, to the next vcpu_wake), page faults
   hypercalls by op, with Xen's names (mmu_update, sched_op, ...): count,
             latency p50/p99/max from entry to exit on the same pCPU
   IRQs      by number and vector: count, handler time p50/p99/max
   lost      records each pCPU's stream lost (its buffer was full), over
             the whole trace

Every figure comes from the trace alone. Percentiles are nearest-rank.

--json prints one JSON object:
   trace            DIR as given
   begin_ns         start of the window, ns of the trace clock
   end_ns           its end (the last event's time without --end)
   duration_ns      end_ns - begin_ns
   events           records in the window
   pcpus            array: cpu, events, sched_switches, busy_ns, idle_ns,
                    offline_ns, unknown_ns
   domains          array: domain, runtime_ns, wakeups, wake_to_run_p50_ns,
                    wake_to_run_p99_ns, wake_to_run_max_ns, blocked_ns,
                    page_faults, vcpus (array: vcpu and the same figures)
   hypercalls       array: op, name ("" if Xen defines none), count, p50_ns,
                    p99_ns, max_ns
   irqs             array: irq, vector, count, p50_ns, p99_ns, max_ns
   page_faults      array: domain, count
   lost             array: cpu, file, events_lost
   skipped_bytes    --salvage: bytes skipped as damaged
   skipped_packets  --salvage: packets lost or cut in them

A damaged trace stops at the damage (exit 1); with --salvage the report is
of what can be read, labelled PARTIAL, the damage reported on stderr as
dump --salvage does. A trace without events, or a window without any, is
an error (exit 1).

EXAMPLES:
   lttv-xen summary /tmp/trace
   lttv-xen summary --begin 100ms --end 200ms /tmp/trace
   lttv-xen summary --json /tmp/trace | jq '.hypercalls[] | select(.name == "sched_op")'`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the summary as one JSON object"},
			&cli.BoolFlag{Name: "salvage", Usage: "skip damaged regions, sum up what can be read, report the damage on stderr"},
		}, windowFlags()...),
		Action: action(t.summary),
	})
}

func (t *tool) summary(c *cli.Context, dir string) error {
	_, win, tr, err := analysisArgs(c, dir, "")
	if err != nil {
		return err
	}
	s := analysis.NewSummarizer()
	res, err := replay(dir, tr, readMode(c.Bool("salvage")), win, s)
	if err != nil {
		return err
	}
	sum := s.Summary(dir, res.begin, res.end, res.streams)
	if c.Bool("json") {
		b, err := json.MarshalIndent(sum, "", "  ")
		if err != nil {
			return fmt.Errorf("encode summary: %w", err)
		}
		_, err = fmt.Fprintf(t.stdout, "%s\n", b)
		if err != nil {
			return writeError(err)
		}
	} else if err := sum.WriteText(t.stdout, func(ns uint64) time.Time { return nsWall(tr.Info, ns) }); err != nil {
		return writeError(err)
	}
	return warnSalvage(t.stderr, dir, &res.sums)
}

// nsWall returns the wall-clock time of ns nanoseconds of the trace clock.
func nsWall(info record.TraceInfo, ns uint64) time.Time {
	return time.Unix(info.ClockOffsetSec, int64(info.NS(info.ClockOffset))).Add(time.Duration(ns)).UTC()
}
