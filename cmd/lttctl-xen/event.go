package main

import (
	"github.com/urfave/cli/v2"
)

// eventCommand is the parent of the event-type subcommands: event add (event_add.go) and
// event list (event_list.go).
func (t *tool) eventCommand() *cli.Command {
	return parentCommand(&cli.Command{
		Name:      "event",
		Usage:     "add and list event types",
		UsageText: name + " [global options] event add DECL | event list [--json]",
		Description: `Event types are the hypervisor's: each has an id, a name and typed payload
fields. "event add" declares a new one at run time, "event list" shows them all
with whether each is enabled. "enable-event" and "disable-event" choose what is
recorded, "emit" makes a pCPU write one.

EXAMPLES:
   lttctl-xen event add 'net_rx(u32 len, string dev)'
   lttctl-xen event list`,
		Subcommands: []*cli.Command{
			t.eventAddCommand(),
			t.eventListCommand(),
		},
	})
}
