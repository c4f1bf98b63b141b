package main

import (
	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) cpuOfflineCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "offline",
		Usage:     "take a pCPU down",
		UsageText: name + " [global options] cpu offline N",
		Description: `Takes pCPU N down once it is outside its write section; while tracing it
writes a cpu_offline event as its last record, then nothing until "cpu online".
The last pCPU online cannot be taken down.

EXAMPLES:
   lttctl-xen cpu offline 3
   lttctl-xen cpu online 3 && lttctl-xen cpu offline 3 && lttctl-xen status`,
		Action: t.setCPU(wire.OpCPUOffline, "offline"),
	})
}
