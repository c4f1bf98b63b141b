package main

import (
	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) cpuOnlineCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "online",
		Usage:     "bring a pCPU up",
		UsageText: name + " [global options] cpu online N",
		Description: `Brings pCPU N up: it resumes its workload, and while tracing it writes a
cpu_online event as its first record. N ranges over the hypervisor's pCPUs,
0 to its --max-cpus minus one ("status" shows how many there are and which are
online).

EXAMPLES:
   lttctl-xen cpu offline 3 && lttctl-xen cpu online 3
   for n in 1 2 3; do lttctl-xen cpu offline $n; done; for n in 1 2 3; do lttctl-xen cpu online $n; done`,
		Action: t.setCPU(wire.OpCPUOnline, "online"),
	})
}
