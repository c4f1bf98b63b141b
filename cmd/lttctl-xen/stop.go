package main

import (
	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) stopCommand() *cli.Command {
	return t.simpleCommand(wire.OpStop, &cli.Command{
		Name:      "stop",
		Usage:     "stop tracing and flush the partial sub-buffer",
		UsageText: name + " [global options] stop",
		Description: `Stops the pCPUs writing records and flushes the partly filled sub-buffer, so
that lttd-xen receives every record written. The trace and its buffers stay:
"start" resumes it, "destroy" removes it.

EXAMPLES:
   lttctl-xen create && lttctl-xen start && lttctl-xen stop
   lttctl-xen start && lttctl-xen stop && lttctl-xen status`,
	}, "tracing stopped")
}
