package main

import (
	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) disableEventCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "disable-event",
		Usage:     "stop recording the events matching globs",
		UsageText: name + " [global options] disable-event GLOB...",
		Description: `Stops recording the event types whose names match any GLOB in the trace
(make one first with "create"), at once, even while tracing; their records are
no longer written (not counted as lost). GLOBs use shell syntax: '*' any run of
characters, '?' one character, [a-z] a class ([^a-z] negated); quote them for
the shell. Several globs may be given as separate arguments or separated by
commas. Each glob must match at least one event type ("event list" shows them).

Enabling and disabling are rules applied in order: the last rule matching an
event decides, for the event types that exist and for those added later.

cpu_online and cpu_offline are always recorded, whatever the rules: they mark
where a hotplugged pCPU's stream has a gap (status lists them as enabled).

EXAMPLES:
   lttctl-xen create && lttctl-xen disable-event page_fault
   lttctl-xen disable-event 'hypercall_*' 'timer*'
   lttctl-xen disable-event '*' && lttctl-xen enable-event sched_switch`,
		Action: t.setEvents(wire.OpDisableEvent, "disabled"),
	})
}
