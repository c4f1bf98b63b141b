package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/analysis"
	"github.com/lttng-xen/lttng-xen/record"
)

func (t *tool) statsCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "stats",
		Usage:     "count the events per type and per pCPU, the packets and the losses",
		UsageText: name + " [global options] stats [--json] [--salvage] DIR",
		Description: `Decodes the whole trace in DIR, checking it as "check" does, and prints:
the number of events, of packets (sub-buffers) and of events lost (records
dropped because the buffer was full: the sum of each packet's events_discarded
increase, which is the last packet's cumulative count); the first and last
event's time and the duration between them; the mean rate in events per
second; the count of each event type the metadata declares (most frequent
first) and of each pCPU; then each stream file's packets, events and losses
(lttd-xen writes one stream per pCPU, channel0_<cpu>, and its own loss
count: the pCPU whose buffer was full).

--json prints the same as one JSON object with these keys:
   trace            DIR as given
   events           events decoded
   packets          packets decoded (whole packets, with --salvage)
   events_lost      events discarded by the writer
   per_event        object: event name -> count (every declared type, 0 included)
   per_cpu          object: pCPU id, as a decimal string -> count
   first_ns         first event's timestamp, in ns of the trace clock (0 if none)
   last_ns          last event's timestamp, in ns of the trace clock (0 if none)
   duration_ns      last_ns - first_ns
   first_time       first event's wall-clock time, RFC 3339 UTC with ns ("" if none)
   last_time        last event's wall-clock time, RFC 3339 UTC with ns ("" if none)
   events_per_sec   events / duration (0 if the duration is 0)
   skipped_bytes    --salvage: bytes skipped as damaged (0 otherwise)
   skipped_packets  --salvage: packets lost or cut in them
   skipped          --salvage: the regions skipped, in file order: objects with
                    file, offset, bytes, packets and error (the damage found,
                    "FILE: offset N: what was found"); [] when none

A corrupt trace prints nothing on stdout but "lttv-xen: FILE: offset N: what
was expected" on stderr, and the exit status is 1.

--salvage counts what "dump --salvage" recovers: it skips each damaged
region, resumes at the next valid packet, reports each region on stderr
(as dump --salvage does) and exits 0 if any event was recovered, 1 if the
trace is damaged and none was.

EXAMPLES:
   lttv-xen stats /tmp/trace
   lttv-xen stats --json /tmp/trace | jq .per_cpu
   lttv-xen stats /tmp/trace --json | jq '.events_lost / (.events + .events_lost)'
   lttv-xen stats --salvage --json /tmp/damaged-trace | jq .skipped`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the statistics as one JSON object"},
			&cli.BoolFlag{Name: "salvage", Usage: "skip damaged regions, count what can be recovered, report the damage on stderr"},
		},
		Action: action(t.stats),
	})
}

// stats is what "lttv-xen stats" reports; its JSON form is the --json
// output, whose keys the command's help documents.
type stats struct {
	Trace          string            `json:"trace"`
	Events         uint64            `json:"events"`
	Packets        uint64            `json:"packets"`
	EventsLost     uint64            `json:"events_lost"`
	PerEvent       map[string]uint64 `json:"per_event"`
	PerCPU         map[string]uint64 `json:"per_cpu"`
	PerStream      []streamStats     `json:"per_stream"`
	FirstNS        uint64            `json:"first_ns"`
	LastNS         uint64            `json:"last_ns"`
	DurationNS     uint64            `json:"duration_ns"`
	FirstTime      string            `json:"first_time"`
	LastTime       string            `json:"last_time"`
	EventsPerSec   float64           `json:"events_per_sec"`
	SkippedBytes   int64             `json:"skipped_bytes"`
	SkippedPackets uint64            `json:"skipped_packets"`
	Skipped        []skipped         `json:"skipped"`
}

// streamStats is one stream file's figures, in the JSON output.
type streamStats struct {
	File       string  `json:"file"`
	CPU        *uint32 `json:"cpu"` // from the file name channelN_<cpu>
	Packets    uint64  `json:"packets"`
	Events     uint64  `json:"events"`
	EventsLost uint64  `json:"events_lost"`
}

// skipped is one region --salvage skipped, in the JSON output.
type skipped struct {
	File    string `json:"file"`
	Offset  int64  `json:"offset"`
	Bytes   int64  `json:"bytes"`
	Packets uint64 `json:"packets"`
	Error   string `json:"error"`
}

func (t *tool) stats(c *cli.Context, dir string) error {
	tr, err := openTrace(dir)
	if err != nil {
		return err
	}
	acc := statsAcc{perEvent: make(map[*record.Event]uint64, len(tr.Events)), perCPU: make(map[uint32]uint64)}
	acc.sum, err = eachRecord(tr, readMode(c.Bool("salvage")), func(rec *record.Record) error {
		acc.add(rec)
		return nil
	})
	if err != nil {
		return err
	}
	st := acc.result(tr, dir)
	if c.Bool("json") {
		err = writeStatsJSON(t.stdout, st)
	} else {
		err = writeStatsTable(t.stdout, st)
	}
	if err != nil {
		return writeError(err)
	}
	return warnSalvage(t.stderr, dir, &acc.sum)
}

// statsAcc accumulates the counts of every stream of a trace.
type statsAcc struct {
	sum         sums // packets, records, losses, skips: the Readers' totals
	perEvent    map[*record.Event]uint64
	perCPU      map[uint32]uint64
	seen        bool   // an event has been decoded
	first, last uint64 // timestamps, valid if seen
}

// add counts one record.
func (a *statsAcc) add(rec *record.Record) {
	a.perEvent[rec.Event]++
	a.perCPU[rec.CPU]++
	if !a.seen || rec.Timestamp < a.first {
		a.first = rec.Timestamp
	}
	if !a.seen || rec.Timestamp > a.last {
		a.last = rec.Timestamp
	}
	a.seen = true
}

// result returns the statistics of trace tr, in directory dir.
func (a *statsAcc) result(tr *record.Trace, dir string) stats {
	st := stats{
		Trace:          dir,
		Events:         a.sum.Records,
		Packets:        a.sum.Packets,
		EventsLost:     a.sum.Discarded,
		PerEvent:       make(map[string]uint64, len(tr.Events)),
		PerCPU:         make(map[string]uint64, len(a.perCPU)),
		SkippedBytes:   a.sum.SkippedBytes,
		SkippedPackets: a.sum.SkippedPackets,
		Skipped:        []skipped{},
	}
	for _, e := range tr.Events {
		st.PerEvent[e.Name] = a.perEvent[e]
	}
	for cpu, n := range a.perCPU {
		st.PerCPU[strconv.FormatUint(uint64(cpu), 10)] = n
	}
	st.PerStream = make([]streamStats, 0, len(a.sum.streams))
	for _, s := range a.sum.streams {
		ss := streamStats{File: s.File, Packets: s.Packets, Events: s.Records, EventsLost: s.Discarded}
		if s.HasCPU {
			ss.CPU = &s.CPU
		}
		st.PerStream = append(st.PerStream, ss)
	}
	for _, s := range a.sum.skips {
		st.Skipped = append(st.Skipped, skipped{File: s.File, Offset: s.Offset, Bytes: s.Size, Packets: s.Packets, Error: s.Err.Error()})
	}
	if a.seen {
		st.FirstNS, st.LastNS = tr.Info.NS(a.first), tr.Info.NS(a.last)
		st.DurationNS = st.LastNS - st.FirstNS
		st.FirstTime = wallTime(tr.Info, a.first)
		st.LastTime = wallTime(tr.Info, a.last)
		if st.DurationNS > 0 {
			st.EventsPerSec = float64(st.Events) / (float64(st.DurationNS) / 1e9)
		}
	}
	return st
}

func writeStatsJSON(w io.Writer, st stats) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stats: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeStatsTable prints st as aligned "name  value" lines, then the per-event
// and per-pCPU counts.
func writeStatsTable(w io.Writer, st stats) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", name, fmt.Sprintf(format, args...))
	}
	row("trace", "%s", st.Trace)
	row("events", "%d", st.Events)
	row("packets", "%d", st.Packets)
	row("events lost", "%d", st.EventsLost)
	if st.FirstTime != "" {
		row("first", "%s (%d ns)", st.FirstTime, st.FirstNS)
		row("last", "%s (%d ns)", st.LastTime, st.LastNS)
	} else {
		row("first", "-")
		row("last", "-")
	}
	row("duration", "%s", time.Duration(min(st.DurationNS, 1<<63-1)))
	row("rate", "%.1f events/s", st.EventsPerSec)
	if len(st.Skipped) > 0 {
		row("skipped", "%s (%s) in %s", plural(uint64(st.SkippedBytes), "byte"), plural(st.SkippedPackets, "packet"), plural(uint64(len(st.Skipped)), "damaged region"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nper event:\n")
	events := counts(st.PerEvent)
	slices.SortFunc(events, func(a, b count) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.key, b.key)) })
	if err := writeCounts(w, "", events, st.Events); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nper pCPU:\n")
	cpus := counts(st.PerCPU)
	slices.SortFunc(cpus, func(a, b count) int { return cmp.Compare(cpuID(a.key), cpuID(b.key)) })
	if err := writeCounts(w, "cpu", cpus, st.Events); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nper stream:\n")
	rows := [][]string{{"file", "pCPU", "packets", "events", "lost"}}
	for _, s := range st.PerStream {
		cpu := "-"
		if s.CPU != nil {
			cpu = strconv.FormatUint(uint64(*s.CPU), 10)
		}
		rows = append(rows, []string{filepath.Base(s.File), cpu, strconv.FormatUint(s.Packets, 10),
			strconv.FormatUint(s.Events, 10), strconv.FormatUint(s.EventsLost, 10)})
	}
	return analysis.WriteTable(w, rows)
}

// count is one entry of a per-event or per-pCPU table.
type count struct {
	key string
	n   uint64
}

// counts returns m's entries, unsorted.
func counts(m map[string]uint64) []count {
	s := make([]count, 0, len(m))
	for k, n := range m {
		s = append(s, count{k, n})
	}
	return s
}

// cpuID reads a per_cpu key.
func cpuID(key string) uint64 {
	id, _ := strconv.ParseUint(key, 10, 32)
	return id
}

// writeCounts prints one indented line per entry: prefix+key, left-aligned,
// then its count and its share of total, right-aligned.
func writeCounts(w io.Writer, prefix string, s []count, total uint64) error {
	keyW, nW := 0, 0
	for _, c := range s {
		keyW = max(keyW, len(prefix)+len(c.key))
		nW = max(nW, len(strconv.FormatUint(c.n, 10)))
	}
	for _, c := range s {
		if _, err := fmt.Fprintf(w, "   %-*s  %*d  %6s\n", keyW, prefix+c.key, nW, c.n, percent(c.n, total)); err != nil {
			return err
		}
	}
	return nil
}

// percent formats n as a share of total.
func percent(n, total uint64) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(total))
}
