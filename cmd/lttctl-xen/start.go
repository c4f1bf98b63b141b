package main

import (
	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) startCommand() *cli.Command {
	return t.simpleCommand(wire.OpStart, &cli.Command{
		Name:      "start",
		Usage:     "start tracing: the pCPUs write records",
		UsageText: name + " [global options] start",
		Description: `Starts the trace made by "create": the hypervisor's pCPUs begin writing
records into the sub-buffers. Start lttd-xen before, so that it reads the
sub-buffers as they fill. The trace must be created or stopped, not started:
"lttctl-xen status" shows its state.

EXAMPLES:
   lttctl-xen start
   lttctl-xen create --num-subbuf 16 && lttctl-xen start`,
	}, "tracing started")
}
