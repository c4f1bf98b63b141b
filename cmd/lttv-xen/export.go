package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/analysis"
	"github.com/lttng-xen/lttng-xen/internal/cmdline"
)

func (t *tool) exportCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "export",
		Usage:     "convert a trace for Perfetto UI and chrome://tracing (Trace Event Format)",
		UsageText: name + " [global options] export --format chrome --output FILE.json [--salvage] [--begin DURATION] [--end DURATION] DIR",
		Description: `Writes the trace in DIR (every stream, merged by timestamp), or the window
from --begin to --end (durations after the first event), to FILE.json in
the Trace Event Format, which https://ui.perfetto.dev and chrome://tracing
open:

   a process "Xen host HOST", a thread (track) per pCPU, "pCPU N";
   on it a slice per vCPU run, "d1v0" (from sched_switch; "idle" for the
   idle domain), and "offline" slices (cpu_offline to cpu_online);
   nested in the runs, a slice per hypercall, named as Xen names the op
   ("sched_op", or hypercall_N), and per IRQ ("irq 40"), cut at the end
   of the run if it outlasts it (args.cut = true);
   an instant event per other record (page_fault, vcpu_wake, printk, ...)
   with its fields as args (addresses as hex strings), and an instant
   "lost" where a pCPU's stream lost records.

Times are µs from the start of the window; otherData holds the host, the
clock's wall-clock origin and the window's start in ns of the trace clock.
--format chrome is the only format for now.

EXAMPLES:
   lttv-xen export --format chrome --output /tmp/trace.json /tmp/trace
   lttv-xen export --format chrome --output /tmp/window.json --begin 100ms --end 200ms /tmp/trace`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "the output `FORMAT`: chrome (Trace Event Format JSON)", Value: "chrome"},
			&cli.StringFlag{Name: "output", Usage: "write to `FILE` (required)"},
			&cli.BoolFlag{Name: "salvage", Usage: "skip damaged regions, export what can be read, report the damage on stderr"},
		}, windowFlags()...),
		Action: action(t.export),
	})
}

func (t *tool) export(c *cli.Context, dir string) (err error) {
	if f := c.String("format"); f != "chrome" {
		return cmdline.Usagef("export: --format %q: the formats are: chrome (see: %s --help)", f, c.Command.HelpName)
	}
	out, win, tr, err := analysisArgs(c, dir, "FILE")
	if err != nil {
		return err
	}
	f, err := createOutput(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", out, cerr)
		}
		if err != nil {
			os.Remove(out)
		}
	}()
	cw := analysis.NewChromeWriter(f, tr.Info)
	res, err := replay(dir, tr, readMode(c.Bool("salvage")), win, cw)
	if err != nil {
		return err
	}
	if err := cw.Close(res.losses, res.end); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return warnSalvage(t.stderr, dir, &res.sums)
}

// createOutput creates the output file name, saying what is wrong in one
// line when it cannot.
func createOutput(name string) (*os.File, error) {
	f, err := os.Create(name)
	var pe *os.PathError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("cannot write %s: %w", name, pe.Err)
	}
	return f, err
}
