package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) emitCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "emit",
		Usage:     "make a pCPU write one event",
		UsageText: name + " [global options] emit [--cpu N] NAME [FIELD=VALUE ...]",
		Description: `Makes pCPU N write one event of type NAME into the trace, with the given
payload. Every field of the event's declaration ("event list" shows them) must
be given once, and no other. Values are written as text and checked by the
hypervisor against the field's type:

   u8 ... u64, s8 ... s64   decimal, or 0x/0o/0b-prefixed; '_' separators
                            allowed; a sign only for s*; range-checked
   string                   the text itself, UTF-8 without NUL (quote spaces)
   bytes                    hexadecimal, two digits per byte, optionally
                            0x-prefixed or ':'-separated (de:ad:be:ef)

Everything after the first '=' is the value, so values may hold '='. Flags go
before NAME. The trace must be started, the event enabled and the pCPU online.

EXAMPLES:
   lttctl-xen event add 'heartbeat()' && lttctl-xen create && lttctl-xen start && lttctl-xen emit heartbeat
   lttctl-xen event add 'net_rx(u32 len, string dev)' && lttctl-xen emit --cpu 2 net_rx len=1500 dev=eth0
   lttctl-xen emit printk msg='hello, trace'
   lttctl-xen event add 'vm_exit(u16 domid, u16 vcpu, u64 reason, bytes regs)' && lttctl-xen emit --cpu 1 vm_exit domid=3 vcpu=0 reason=0x1e regs=de:ad:be:ef`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "cpu", Value: 0, Usage: "the pCPU `N` that writes the event"},
		},
		Action: t.emit,
	})
}

func (t *tool) emit(c *cli.Context) error {
	args, err := emitArgs(c)
	if err != nil {
		return err
	}
	if _, err := t.do(c, &wire.Request{Op: wire.OpEmit, Emit: args}); err != nil {
		return err
	}
	t.printf("event %s emitted on cpu %d\n", args.Name, args.CPU)
	return nil
}

// emitArgs reads and checks emit's flag and arguments: the CPU, the event name and the
// FIELD=VALUE pairs. The values' types are the hypervisor's to check, against the
// event's declaration.
func emitArgs(c *cli.Context) (*wire.EmitArgs, error) {
	if err := noFlagArgs(c); err != nil {
		return nil, err
	}
	cpu := c.Int("cpu")
	if cpu < 0 {
		return nil, usagef(c, "--cpu %d: must not be negative", cpu)
	}
	if !c.Args().Present() {
		return nil, usagef(c, "no event name given (write: emit NAME FIELD=VALUE ...)")
	}
	name := c.Args().First()
	if err := checkName(name, false); err != nil {
		return nil, usagef(c, "%v", err)
	}
	args := &wire.EmitArgs{CPU: cpu, Name: name}
	for _, a := range c.Args().Tail() {
		field, value, ok := strings.Cut(a, "=")
		if !ok {
			return nil, usagef(c, "argument %q: want FIELD=VALUE", a)
		}
		if err := checkName(field, true); err != nil {
			return nil, usagef(c, "argument %q: %v", a, err)
		}
		if _, dup := args.Fields[field]; dup {
			return nil, usagef(c, "field %s given twice", field)
		}
		if args.Fields == nil {
			args.Fields = map[string]string{}
		}
		args.Fields[field] = value
	}
	return args, nil
}

// checkName checks an event name, or a field name when field is true, with the record
// package's name rule, so that a name no event can have is reported here with the rule it
// breaks.
func checkName(name string, field bool) error {
	if field {
		return record.CheckFieldName(name)
	}
	return record.CheckEventName(name)
}
