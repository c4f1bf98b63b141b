package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/analysis"
	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/record"
)

// What summary, timeline and export share: the --begin/--end window and
// one replay of the merged streams into an analysis.Handler.

// windowFlags are the flags of the time window.
func windowFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "begin", Usage: "start the window `DURATION` after the first event (e.g. 1.5s, 200ms)"},
		&cli.StringFlag{Name: "end", Usage: "end the window `DURATION` after the first event (default: the end of the trace)"},
	}
}

// window reads --begin and --end.
func window(c *cli.Context) (analysis.Window, error) {
	var w analysis.Window
	for _, f := range []struct {
		name string
		dst  *uint64
	}{{"begin", &w.Begin}, {"end", &w.End}} {
		s := c.String(f.name)
		if s == "" {
			continue
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || f.name == "end" && d == 0 {
			return w, cmdline.Usagef("%s: --%s %q: want a positive duration after the first event, such as 1.5s or 200ms (see: %s --help)",
				c.Command.Name, f.name, s, c.Command.HelpName)
		}
		*f.dst = uint64(d)
	}
	if w.End != 0 && w.End <= w.Begin {
		return w, cmdline.Usagef("%s: --end %s is not after --begin %s (see: %s --help)", c.Command.Name, c.String("end"), c.String("begin"), c.Command.HelpName)
	}
	return w, nil
}

// analysisArgs reads what summary, timeline and export take besides their
// own flags: --output FILE when out names its kind (required then; "" for
// none), the window, and the trace at dir.
func analysisArgs(c *cli.Context, dir, out string) (file string, win analysis.Window, tr *record.Trace, err error) {
	if out != "" {
		if file = c.String("output"); file == "" {
			return "", win, nil, cmdline.Usagef("%s: --output %s is required (see: %s --help)", c.Command.Name, out, c.Command.HelpName)
		}
	}
	if win, err = window(c); err != nil {
		return "", win, nil, err
	}
	tr, err = openTrace(dir)
	return file, win, tr, err
}

// replayed is what [replay] found.
type replayed struct {
	sums   // packets, records, losses, skips
	losses []record.Loss
	begin  uint64 // the window analysed, ns of the trace clock
	end    uint64
	// windowEvents counts the records in the window.
	windowEvents uint64
}

// replay reads every stream of tr in mode, merged by timestamp, through an
// analysis.Replayer over win into h. A trace without events, or a window
// without any, is an error saying so.
func replay(dir string, tr *record.Trace, mode record.Mode, win analysis.Window, h analysis.Handler) (replayed, error) {
	var res replayed
	p := analysis.NewReplayer(tr.Info, win, h)
	var first, last uint64
	var n uint64
	m, err := tr.OpenMerger(mode)
	if err != nil {
		return res, err
	}
	defer m.Close()
	var rec record.Record
	for {
		if err := m.NextInto(&rec); err != nil {
			if isEOF(err) {
				break
			}
			return res, err
		}
		if n == 0 {
			first = rec.Timestamp
		}
		last = rec.Timestamp
		n++
		// Past the window's end, read on all the same, for the streams' totals.
		if p.Add(&rec) && p.InWindow(rec.Timestamp) {
			res.windowEvents++
		}
	}
	res.addMerger(m)
	res.losses = m.Losses()
	begin, end, ok := p.Finish()
	switch {
	case !ok:
		return res, fmt.Errorf("%s: the trace holds no event", dir)
	case begin == end:
		return res, fmt.Errorf("%s: the window holds no event: the trace spans %s after its first event (at %s)", dir,
			time.Duration(tr.Info.NS(last)-tr.Info.NS(first)), wallTime(tr.Info, first))
	}
	res.begin, res.end = begin, end
	return res, nil
}
