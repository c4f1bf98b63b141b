package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/analysis"
)

func (t *tool) timelineCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "timeline",
		Usage:     "draw a trace as one HTML page: a lane per pCPU, coloured by the vCPU running",
		UsageText: name + " [global options] timeline --output FILE.html [--salvage] [--begin DURATION] [--end DURATION] DIR",
		Description: `Writes FILE.html, one self-contained page (inline script and style, no
network access) that any browser opens, showing the trace in DIR (every
stream, merged by timestamp) or the window from --begin to --end
(durations after the first event):

   a lane per pCPU, coloured by the domain and vCPU running (from
   sched_switch; a hue per domain, grey for the idle domain, blank before
   a pCPU's first sched_switch);
   above each lane, marks for hypercalls (blue), IRQs (orange) and page
   faults (red);
   hatched: the pCPU was offline (cpu_offline to cpu_online);
   a red band where the pCPU's stream lost records (its buffer was full);
   a time axis in real units from the window's start (wall-clock start in
   the header).

Mouse wheel zooms around the pointer, dragging pans, +/-/0 zoom in, out and
back to the whole window; hovering shows what runs there and the marks
under the pointer (hypercall name and latency, IRQ and vector, fault
address).

A large trace stays small and quick: beyond 300000 vCPU runs, runs are
aggregated into time bins (each shows the vCPU that ran most of it), and
beyond 200000 marks, marks become a density strip; the page says so. The
page stays under 20 MiB whatever the trace's size.

EXAMPLES:
   lttv-xen timeline --output /tmp/trace.html /tmp/trace      # then open /tmp/trace.html in a browser
   lttv-xen timeline /tmp/trace --output /tmp/zoom.html --begin 100ms --end 120ms`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "output", Usage: "write the page to `FILE` (required)"},
			&cli.BoolFlag{Name: "salvage", Usage: "skip damaged regions, draw what can be read, report the damage on stderr"},
		}, windowFlags()...),
		Action: action(t.timeline),
	})
}

func (t *tool) timeline(c *cli.Context, dir string) (err error) {
	out, win, tr, err := analysisArgs(c, dir, "FILE.html")
	if err != nil {
		return err
	}
	tl := analysis.NewTimeline(analysis.DefaultLimits)
	res, err := replay(dir, tr, readMode(c.Bool("salvage")), win, tl)
	if err != nil {
		return err
	}
	tl.AddLosses(res.losses, tr.Info, res.end)
	title := fmt.Sprintf("lttng-xen timeline: %s (host %s)", dir, tr.Info.Hostname)
	if res.damaged() {
		title += fmt.Sprintf(" PARTIAL: damaged, %s skipped", plural(uint64(res.SkippedBytes), "byte"))
	}
	d := tl.Data(title, nsWall(tr.Info, res.begin).Format(timeLayout), res.windowEvents, res.end)
	f, err := createOutput(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = analysis.WriteHTML(w, d)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("write %s: %w", out, err)
	}
	return warnSalvage(t.stderr, dir, &res.sums)
}
