package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/size"
	"github.com/lttng-xen/lttng-xen/wire"
)

// statusWriter prints one status report: a table or JSON. status --watch prints one per
// interval with the same writer.
type statusWriter func(w io.Writer, r *statusReport) error

// statusReport is what status shows.
type statusReport struct {
	status *wire.Status
	// events is the number of event types in all, for the table to say whether every one
	// is enabled; -1 when not asked for, or not known (a dom0 or hypervisor without
	// event_list).
	events int
}

func (t *tool) statusCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "status",
		Usage:     "show the trace's state, buffers and counters",
		UsageText: name + " [global options] status [--json] [--watch [--interval DURATION]]",
		Description: `Shows the session's name, its trace's state (none, created, started, stopped),
where its consumer writes it, its buffers, the
pCPUs online (as ranges: 0-2,5), the events recorded (how many of the event
types, and their names unless all are), and its counters: events written and
lost (lost because the buffer was full, or because a record was bigger than a
sub-buffer), sub-buffers delivered to and consumed by the readers, rejected
consumed positions, live mappings (refcount) and readers.

--json prints the same as one JSON object, with the protocol's field names
(sizes in bytes, switch_timer_ns in nanoseconds, enabled_events the names).

--watch shows the status again every --interval (at least 100ms) over one
connection until interrupted (^C: exit 0) or until dom0 goes away (exit 1). On
a terminal it redraws in place; otherwise it prints one status per interval,
separated by a blank line (with --json, a stream of JSON objects).

EXAMPLES:
   lttctl-xen status
   lttctl-xen create && lttctl-xen start && lttctl-xen status --json | jq .events_lost
   lttctl-xen status --watch
   lttctl-xen status --watch --interval 200ms
   lttctl-xen status --watch --json --interval 5s | tee status.log`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the status as JSON"},
			&cli.BoolFlag{Name: "watch", Usage: "show the status again every interval until interrupted"},
			&cli.DurationFlag{
				Name:  "interval",
				Value: defaultWatchInterval,
				Usage: "with --watch, refresh every `DURATION` (at least " + minWatchInterval.String() + ")",
			},
		},
		Action: t.status,
	})
}

func (t *tool) status(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	write, withEvents := statusWriter(writeStatusTable), true
	if c.Bool("json") {
		write, withEvents = writeStatusJSON, false
	}
	if c.Bool("watch") {
		interval, err := watchInterval(c)
		if err != nil {
			return err
		}
		return t.watchStatus(c, interval, write, withEvents)
	}
	if c.IsSet("interval") {
		return usagef(c, "--interval goes with --watch")
	}
	s, err := t.dial(c)
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := s.report(withEvents)
	if err != nil {
		return err
	}
	return write(t.stdout, r)
}

// status fetches the trace's status, with every page of its per-pCPU list.
func (s *session) status() (*wire.Status, error) {
	return wire.WholeStatus(s.call) // wire checks that a status reply has one
}

// report fetches the status and, when withEvents is set and there is a trace, the number
// of event types.
func (s *session) report(withEvents bool) (*statusReport, error) {
	st, err := s.status()
	if err != nil {
		return nil, err
	}
	r := &statusReport{status: st, events: -1}
	if !withEvents || st.State == wire.StateNone {
		return r, nil
	}
	events, err := s.events()
	switch {
	case errors.Is(err, wire.ErrUnsupported), errors.Is(err, wire.ErrUnknownOp):
		s.t.log.Debug("no event list: showing the enabled events without the total", "err", err)
	case err != nil:
		return nil, err
	default:
		r.events = len(events)
	}
	return r, nil
}

func writeStatusJSON(w io.Writer, r *statusReport) error {
	b, err := json.MarshalIndent(r.status, "", "  ")
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeStatusTable prints r as aligned "name  value" lines.
func writeStatusTable(w io.Writer, r *statusReport) error {
	st := r.status
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", name, fmt.Sprintf(format, args...))
	}
	if st.State == wire.StateNone {
		row("state", "none (no trace: make one with lttctl-xen create)")
		row("cpus online", "%s", cpus(st))
		if st.Clock != "" {
			row("clock", "%s", st.Clock)
		}
		return tw.Flush()
	}
	row("session", "%s", st.Name)
	row("state", "%s", st.State)
	switch {
	case st.Output != "":
		row("output", "%s", st.Output)
	case st.Readers == 0:
		row("output", "none (no consumer: records are lost until lttd-xen attaches)")
	default:
		row("output", "an lttd-xen of yours")
	}
	row("uuid", "%s", st.UUID)
	row("sub-buffers", "%d x %s = %s per pCPU", st.NumSubbuf, size.Format(st.SubbufSize), size.Format(st.NumSubbuf*st.SubbufSize))
	row("mode", "%s", st.Mode)
	if st.SwitchTimer > 0 {
		row("switch timer", "%s", st.SwitchTimer)
	} else {
		row("switch timer", "off")
	}
	row("cpus online", "%s", cpus(st))
	if len(st.WorkloadCPUs) > 0 {
		row("workload cpus", "%s", ranges(st.WorkloadCPUs))
	}
	row("events", "%s", enabled(st.EnabledEvents, st.EnabledCount, r.events))
	row("events written", "%d", st.EventsWritten)
	row("events lost", "%d (buffer full %d, too big %d)", st.EventsLost, st.LostFull, st.LostTooBig)
	if st.Mode == wire.ModeOverwrite {
		var over uint64
		for _, c := range st.PerCPU {
			over += c.Overwritten
		}
		row("packets", "delivered %d, consumed %d, overwritten %d", st.PacketsDelivered, st.PacketsConsumed, over)
	} else {
		row("packets", "delivered %d, consumed %d", st.PacketsDelivered, st.PacketsConsumed)
	}
	row("bad consumed", "%d", st.BadConsumed)
	row("refcount", "%d", st.Refcount)
	row("readers", "%d", st.Readers)
	switch {
	case st.ConsumerPID != 0 && st.ConsumerOutput != "":
		row("consumer", "pid %d, to %s (sent %s, queued %s)", st.ConsumerPID, st.ConsumerOutput, size.Format(st.ConsumerSentBytes), size.Format(st.ConsumerQueuedBytes))
	case st.ConsumerPID != 0:
		row("consumer", "pid %d (sent %s, queued %s)", st.ConsumerPID, size.Format(st.ConsumerSentBytes), size.Format(st.ConsumerQueuedBytes))
	default:
		row("consumer", "none")
	}
	if st.Clock != "" {
		row("clock", "%s", st.Clock)
	}
	row("metadata version", "%d", st.MetadataVersion)
	if err := tw.Flush(); err != nil {
		return err
	}
	return writePerCPU(w, st.PerCPU, st.Mode == wire.ModeOverwrite)
}

// writePerCPU prints one line per pCPU stream that is online or has
// written anything: an offline pCPU that never wrote has no stream. In
// overwrite mode a column counts each ring's overwritten packets.
func writePerCPU(w io.Writer, per []wire.CPUStatus, overwrite bool) error {
	if len(per) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "cpu\tonline\twritten\tlost\tdelivered\tconsumed\t")
	if overwrite {
		fmt.Fprintf(tw, "overwritten\t")
	}
	fmt.Fprintf(tw, "\n")
	for _, c := range per {
		if !c.Online && c.EventsWritten == 0 && c.EventsLost == 0 {
			continue
		}
		on := "yes"
		if !c.Online {
			on = "no"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\t", c.CPU, on, c.EventsWritten, c.EventsLost, c.PacketsDelivered, c.PacketsConsumed)
		if overwrite {
			fmt.Fprintf(tw, "%d\t", c.Overwritten)
		}
		fmt.Fprintf(tw, "\n")
	}
	return tw.Flush()
}

// cpus lists the pCPUs online as ranges, with the count: "0-3,6 (5 of 8)".
func cpus(st *wire.Status) string {
	if len(st.CPUsOnline) == 0 {
		return fmt.Sprintf("none (0 of %d)", st.CPUs)
	}
	return fmt.Sprintf("%s (%d of %d)", ranges(st.CPUsOnline), len(st.CPUsOnline), st.CPUs)
}

// ranges writes ids as sorted ranges: "0-3,6".
func ranges(ids []int) string {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var b strings.Builder
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(ids[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(ids[j]))
		}
		i = j + 1
	}
	return b.String()
}

// enabled describes the enabled events (count of them, names the first ones; an older
// hypervisor sends no count) out of total event types (-1: unknown): "all 12 enabled",
// "2 of 12 enabled: sched_switch, irq_entry", "none of 12 enabled", "900 of 4000 enabled:
// a, b, ... and 880 more (lttctl-xen event list)".
func enabled(names []string, count, total int) string {
	count = max(count, len(names))
	list := strings.Join(names, ", ")
	if more := count - len(names); more > 0 {
		list += fmt.Sprintf(" and %d more (lttctl-xen event list)", more)
	}
	switch {
	case total < 0 && count == 0:
		return "none enabled"
	case total < 0:
		return fmt.Sprintf("%d enabled: %s", count, list)
	case count == 0:
		return fmt.Sprintf("none of %d enabled", total)
	case count >= total:
		return fmt.Sprintf("all %d enabled", count)
	}
	return fmt.Sprintf("%d of %d enabled: %s", count, total, list)
}
