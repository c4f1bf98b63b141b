package main

import (
	"bufio"
	"encoding/hex"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/record"
)

// dumpBufSize is the size of dump's output buffer.
const dumpBufSize = 256 << 10

func (t *tool) dumpCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "dump",
		Usage:     "print every event, one line each, in stream order",
		UsageText: name + " [global options] dump [--raw] DIR",
		Description: `Prints one line per event of the trace in DIR, in stream order (the order the
pCPUs reserved their records, which is timestamp order), stream file after
stream file:

   TIME cpuN EVENT FIELD=VALUE ...

TIME is the wall-clock time of the event in UTC with nanoseconds
(2006-01-02T15:04:05.000000000Z): its timestamp plus the clock offset the
metadata declares. With --raw it is the timestamp itself, in cycles of the
trace clock (nanoseconds of CLOCK_MONOTONIC for lttng-xen). N is the pCPU that
wrote the event. Integers are decimal, strings Go-quoted, byte fields
lower-case hex.

If the trace is corrupt, the events before the bad spot are printed, then
"lttv-xen: FILE: offset N: what was found" on stderr, and the exit status is 1.

EXAMPLES:
   lttv-xen dump /tmp/trace | less
   lttv-xen dump /tmp/trace | awk '$2 == "cpu0"'
   lttv-xen dump --raw /tmp/trace | grep -c sched_switch`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "raw", Usage: "print raw timestamps (clock cycles) instead of wall-clock time"},
		},
		Action: action(t.dump),
	})
}

func (t *tool) dump(c *cli.Context, dir string) error {
	tr, err := openTrace(dir)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(t.stdout, dumpBufSize)
	f := lineFormatter{raw: c.Bool("raw"), time: timeFormatter{clock: newClock(tr.Info)}}
	var line []byte
	for rec, err := range tr.Records() {
		if err != nil {
			if werr := w.Flush(); werr != nil {
				return writeError(werr)
			}
			return located(err)
		}
		line = f.append(line[:0], &rec)
		if _, err := w.Write(line); err != nil {
			return writeError(err)
		}
	}
	return writeError(w.Flush())
}

// lineFormatter formats dump's lines. Not safe for concurrent use.
type lineFormatter struct {
	raw  bool
	time timeFormatter
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
	for i, fd := range rec.Event.Fields {
		dst = append(dst, ' ')
		dst = append(dst, fd.Name...)
		dst = append(dst, '=')
		dst = appendValue(dst, fd.Type, rec.Values[i])
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
