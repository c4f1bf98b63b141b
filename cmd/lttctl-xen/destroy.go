package main

import (
	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) destroyCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "destroy",
		Usage:     "destroy the session and its trace",
		UsageText: name + " [global options] destroy",
		Description: `Destroys the session's trace once every pCPU is outside its write section; a
started trace is stopped (and its partial sub-buffer flushed) first. Readers
(lttd-xen) are told, write what they hold and exit; the buffer memory goes
when the last of them unmaps it. Afterwards "create" makes a new session.

For a session with an output directory, destroy returns once its consumer has
written the whole trace and exited, and prints the consumer's summary: the
trace is complete on disk. A consumer you started yourself (--no-output) may
still be writing when destroy returns: wait for it to exit.

EXAMPLES:
   lttctl-xen create && lttctl-xen destroy
   lttctl-xen create --output trace && lttctl-xen start && lttctl-xen stop && lttctl-xen status && lttctl-xen destroy && lttv-xen stats trace`,
		Action: t.destroy,
	})
}

func (t *tool) destroy(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	rep, err := t.do(c, &wire.Request{Op: wire.OpDestroy})
	if err != nil {
		return err
	}
	t.printf("trace destroyed\n")
	if rep.Summary != "" {
		t.printf("%s\n", rep.Summary)
	}
	return nil
}
