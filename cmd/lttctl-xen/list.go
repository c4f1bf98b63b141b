package main

import (
	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) listCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "list",
		Usage:     "list the tracing sessions",
		UsageText: name + " [global options] list",
		Description: `Lists the tracing sessions as "lttng list" does: name, state and where the
trace is written. There is at most one session at a time.

EXAMPLES:
   lttctl-xen list
   lttctl-xen create demo --output demo-trace && lttctl-xen list`,
		Action: t.list,
	})
}

func (t *tool) list(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	rep, err := t.do(c, &wire.Request{Op: wire.OpStatus})
	if err != nil {
		return err
	}
	st := rep.Status
	if st.State == wire.StateNone {
		t.printf("Currently no available tracing session\n")
		return nil
	}
	out := st.Output
	if out == "" {
		out = "no output: an lttd-xen of yours, if any"
	}
	t.printf("Available tracing sessions:\n  1) %s (%s) [%s]\n", st.Name, out, st.State)
	return nil
}
