package main

import (
	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) destroyCommand() *cli.Command {
	return t.simpleCommand(wire.OpDestroy, &cli.Command{
		Name:      "destroy",
		Usage:     "destroy the trace",
		UsageText: name + " [global options] destroy",
		Description: `Destroys the trace once every pCPU is outside its write section; a started
trace is stopped (and its partial sub-buffer flushed) first. Readers (lttd-xen)
are told, write what they hold and exit; the buffer memory goes when the last of
them unmaps it. Afterwards "create" makes a new trace.

EXAMPLES:
   lttctl-xen destroy
   lttctl-xen stop && lttctl-xen status && lttctl-xen destroy`,
	}, "trace destroyed")
}
