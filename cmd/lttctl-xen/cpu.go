package main

import (
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

// cpuCommand is the parent of cpu online (cpu_online.go) and cpu offline (cpu_offline.go).
func (t *tool) cpuCommand() *cli.Command {
	return parentCommand(&cli.Command{
		Name:      "cpu",
		Usage:     "bring a pCPU online or take it offline",
		UsageText: name + " [global options] cpu online N | cpu offline N",
		Description: `pCPUs are the hypervisor's: "hypervisor --cpus N" are online at boot, and
"--max-cpus M" sets how many exist (default N). They can be brought up and down
at any time, tracing or not. "status" shows those online.

EXAMPLES:
   lttctl-xen cpu offline 3
   lttctl-xen cpu online 3`,
		Subcommands: []*cli.Command{
			t.cpuOnlineCommand(),
			t.cpuOfflineCommand(),
		},
	})
}

// setCPU is the action of cpu online and cpu offline: it sends op for the pCPU given as
// the one argument, then prints "cpu N " and done.
func (t *tool) setCPU(op wire.Op, done string) cli.ActionFunc {
	return func(c *cli.Context) error {
		cpu, err := cpuArg(c)
		if err != nil {
			return err
		}
		if _, err := t.do(c, &wire.Request{Op: op, CPU: &wire.CPUArgs{CPU: cpu}}); err != nil {
			return err
		}
		t.printf("cpu %d %s\n", cpu, done)
		return nil
	}
}

// cpuArg reads the one argument N of cpu online and cpu offline: a pCPU id.
func cpuArg(c *cli.Context) (int, error) {
	switch c.NArg() {
	case 0:
		return 0, usagef(c, "no pCPU given (write: %s 3)", commandPath(c))
	case 1:
	default:
		return 0, usagef(c, "unexpected argument %q: one pCPU at a time", c.Args().Get(1))
	}
	a := c.Args().First()
	cpu, err := strconv.Atoi(a)
	if err != nil || cpu < 0 {
		return 0, usagef(c, "%q is not a pCPU number (0, 1, ...)", a)
	}
	return cpu, nil
}
