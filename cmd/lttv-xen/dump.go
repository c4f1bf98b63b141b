package main

import (
	"bufio"
	"encoding/hex"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/analysis"
	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/record"
)

// dumpBufSize is the size of dump's output buffer.
const dumpBufSize = 256 << 10

func (t *tool) dumpCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "dump",
		Usage:     "print every event, one line each, in timestamp order",
		UsageText: name + " [global options] dump [--raw] [--salvage | --follow] DIR",
		Description: `Prints one line per event of the trace in DIR, in timestamp order: the stream
files (one per pCPU, channel0_<cpu>) are read together and merged by
timestamp, events with equal timestamps in stream file order:

   TIME cpuN EVENT FIELD=VALUE ...

TIME is the wall-clock time of the event in UTC with nanoseconds
(2006-01-02T15:04:05.000000000Z): its timestamp converted with the clock the
metadata declares (any frequency) plus its offset. With --raw it is the
timestamp itself, in cycles of the trace clock (nanoseconds of
CLOCK_MONOTONIC for lttng-xen's default clock). N is the pCPU that wrote the
event. Integers are decimal, strings Go-quoted, byte fields lower-case hex;
as xenalyze prints them, addresses and IRQ vectors (fields addr and vector)
are hex (addr=0x7f3a2000) and hypercall ops have Xen's name beside the
number (op=29(sched_op); hypercall_N for a number Xen does not define).
--raw prints every integer in decimal, as it is in the record.

If the trace is corrupt, the events before the bad spot are printed, then
"lttv-xen: FILE: offset N: what was expected" on stderr, and the exit status
is 1.

--salvage prints every event that can be recovered instead: the whole
events before each damaged spot and every valid packet after it (dump
resynchronises on the next packet header with the trace's magic and UUID
whose sizes, sequence number and timestamps fit). Each skipped region is one
line on stderr,
   lttv-xen: salvage: FILE: offset N: what was found; skipped B bytes at offsets X-Y (K packets)
followed by a summary line. The exit status is 0 if any event was recovered
(the warnings say what was lost), 1 if the trace is damaged and none was.

--follow prints the events of a trace being written, as lttd-xen writes
its packets, like tail -f: the events already there, then each packet's
events once the whole packet is in the file. It sleeps in inotify between
writes (no polling), reads newer metadata when lttd-xen replaces it (event
types added at run time), and follows stream files created later. It runs
until SIGINT or SIGTERM, then exits 0; damage in the trace ends it with
exit status 1 as without --follow. --follow cannot be combined with
--salvage.

EXAMPLES:
   lttv-xen dump /tmp/trace | less
   lttv-xen dump /tmp/trace | awk '$2 == "cpu0"'
   lttv-xen dump --raw /tmp/trace | grep -c sched_switch
   lttv-xen dump --follow /tmp/trace | grep printk
   lttv-xen dump --salvage /tmp/damaged-trace > events.txt`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "raw", Usage: "print raw timestamps (clock cycles) instead of wall-clock time, and every integer in decimal"},
			&cli.BoolFlag{Name: "salvage", Usage: "skip damaged regions, print every event that can be recovered, report the damage on stderr"},
			&cli.BoolFlag{Name: "follow", Usage: "keep printing the events of a trace being written, until SIGINT or SIGTERM"},
		},
		Action: action(t.dump),
	})
}

func (t *tool) dump(c *cli.Context, dir string) error {
	if c.Bool("follow") {
		if c.Bool("salvage") {
			return cmdline.Usagef("dump: --follow and --salvage cannot be combined (see: %s --help)", c.Command.HelpName)
		}
		return t.follow(dir, c.Bool("raw"))
	}
	tr, err := openTrace(dir)
	if err != nil {
		return err
	}
	salvage := c.Bool("salvage")
	w := bufio.NewWriterSize(t.stdout, dumpBufSize)
	f := lineFormatter{raw: c.Bool("raw"), time: timeFormatter{info: tr.Info}}
	var line []byte
	sum, err := eachRecord(tr, readMode(salvage), func(rec *record.Record) error {
		line = f.append(line[:0], rec)
		_, err := w.Write(line)
		return writeError(err)
	})
	if werr := w.Flush(); err == nil && werr != nil {
		return writeError(werr)
	}
	if err != nil {
		return err
	}
	return warnSalvage(t.stderr, dir, &sum)
}

// lineFormatter formats dump's lines. Not safe for concurrent use.
type lineFormatter struct {
	raw    bool
	time   timeFormatter
	styles map[*record.Event][]fieldStyle // without --raw: how each field is printed
}

// fieldStyle is how dump prints a field without --raw.
type fieldStyle uint8

const (
	plainField fieldStyle = iota // as record.Value.Format
	hexField                     // an address or vector: 0x hex
	opField                      // a hypercall op: the number and Xen's name, 29(sched_op)
)

// styleOf returns how dump prints e's fields: an integer field called addr
// or vector in hex, the op of hypercall_entry and hypercall_exit with its
// name, as xenalyze prints them.
func styleOf(e *record.Event) []fieldStyle {
	st := make([]fieldStyle, len(e.Fields))
	for i, f := range e.Fields {
		switch {
		case !f.Type.Integer() || f.Type.Signed():
		case f.Name == "addr" || f.Name == "vector":
			st[i] = hexField
		case f.Name == "op" && (e.Name == "hypercall_entry" || e.Name == "hypercall_exit"):
			st[i] = opField
		}
	}
	return st
}

// append appends rec's line, newline included, to dst.
func (f *lineFormatter) append(dst []byte, rec *record.Record) []byte {
	if f.raw {
		dst = strconv.AppendUint(dst, rec.Timestamp, 10)
	} else {
		dst = f.time.append(dst, rec.Timestamp)
	}
	dst = append(dst, " cpu"...)
	dst = strconv.AppendUint(dst, uint64(rec.CPU), 10)
	dst = append(dst, ' ')
	dst = append(dst, rec.Event.Name...)
	var styles []fieldStyle
	if !f.raw {
		var ok bool
		if styles, ok = f.styles[rec.Event]; !ok {
			if f.styles == nil {
				f.styles = make(map[*record.Event][]fieldStyle)
			}
			styles = styleOf(rec.Event)
			f.styles[rec.Event] = styles
		}
	}
	for i, fd := range rec.Event.Fields {
		dst = append(dst, ' ')
		dst = append(dst, fd.Name...)
		dst = append(dst, '=')
		v := rec.Values[i]
		switch {
		case styles == nil || styles[i] == plainField:
			dst = appendValue(dst, fd.Type, v)
		case styles[i] == hexField:
			dst = append(dst, "0x"...)
			dst = strconv.AppendUint(dst, v.U, 16)
		default: // opField
			dst = strconv.AppendUint(dst, v.U, 10)
			dst = append(dst, '(')
			dst = append(dst, analysis.HypercallLabel(v.U)...)
			dst = append(dst, ')')
		}
	}
	return append(dst, '\n')
}

// appendValue appends v as [record.Value.Format] writes it, without
// allocating.
func appendValue(dst []byte, t record.Type, v record.Value) []byte {
	switch {
	case t.Signed():
		return strconv.AppendInt(dst, v.Int(), 10)
	case t.Integer():
		return strconv.AppendUint(dst, v.U, 10)
	case t == record.String:
		return strconv.AppendQuote(dst, v.S)
	case t == record.Bytes:
		return hex.AppendEncode(dst, v.B)
	}
	return append(dst, v.Format(t)...)
}
