package main

import (
	"fmt"
	"path"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) enableEventCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "enable-event",
		Usage:     "record the events matching globs",
		UsageText: name + " [global options] enable-event GLOB...",
		Description: `Starts recording the event types whose names match any GLOB in the trace
(make one first with "create"), at once, even while tracing. GLOBs use shell
syntax: '*' any run of characters, '?' one character, [a-z] a class ([^a-z]
negated); quote them for the shell. Several globs may be given as separate
arguments or separated by commas. Each glob must match at least one event type
("event list" shows them).

Enabling and disabling are rules applied in order: the last rule matching an
event decides, for the event types that exist and for those added later. A new
trace ("create") records every event unless --events says otherwise.

EXAMPLES:
   lttctl-xen create && lttctl-xen enable-event 'sched_*'
   lttctl-xen enable-event 'irq_*' page_fault
   lttctl-xen disable-event '*' && lttctl-xen enable-event 'sched_*,vcpu_*'`,
		Action: t.setEvents(wire.OpEnableEvent, "enabled"),
	})
}

// setEvents is the action of enable-event and disable-event: it sends op with the globs
// given as arguments, then prints done and the globs.
func (t *tool) setEvents(op wire.Op, done string) cli.ActionFunc {
	return func(c *cli.Context) error {
		globs, err := globArgs(c)
		if err != nil {
			return err
		}
		if _, err := t.do(c, &wire.Request{Op: op, Events: &wire.EventsArgs{Globs: globs}}); err != nil {
			return err
		}
		t.printf("events %s: %s\n", done, strings.Join(globs, ", "))
		return nil
	}
}

// globArgs reads the GLOB arguments of enable-event and disable-event: at least one, each
// well-formed for [path.Match]; commas separate globs within an argument.
func globArgs(c *cli.Context) ([]string, error) {
	if err := noFlagArgs(c); err != nil {
		return nil, err
	}
	if !c.Args().Present() {
		return nil, usagef(c, "no glob given (write: %s 'sched_*')", commandPath(c))
	}
	var list []string
	for _, a := range c.Args().Slice() {
		list = append(list, strings.Split(a, ",")...)
	}
	globs, err := checkGlobs(list)
	if err != nil {
		return nil, usagef(c, "%v", err)
	}
	return globs, nil
}

// checkGlobs trims each glob and checks it is non-empty and well-formed for [path.Match].
func checkGlobs(list []string) ([]string, error) {
	var out []string
	for _, g := range list {
		g = strings.TrimSpace(g)
		if g == "" {
			return nil, fmt.Errorf("empty glob (write 'sched_*,irq_*')")
		}
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("%q: bad glob: %w", g, err)
		}
		out = append(out, g)
	}
	return out, nil
}
