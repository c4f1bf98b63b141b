package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) eventAddCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "add",
		Usage:     "declare a new event type",
		UsageText: name + " [global options] event add 'NAME(TYPE FIELD, ...)'",
		Description: `Declares an event type at run time and prints the id the hypervisor gave it.
The declaration is the event's name then its payload fields in parentheses,
each a type and a name; quote it for the shell. Types: u8, u16, u32, u64
(unsigned), s8, s16, s32, s64 (signed), string (UTF-8 text) and bytes (a byte
sequence). Names are identifiers (letters, digits, '_', not starting with a
digit or '_'); field names are distinct. An event may have no fields: NAME().

The declaration is checked here first; the hypervisor refuses a name that is
already taken. The new event joins the trace's metadata (lttd-xen rewrites its
metadata file) and is recorded when the trace's event selection matches its
name: every event is, unless "create --events", "enable-event" or
"disable-event" said otherwise.

EXAMPLES:
   lttctl-xen event add 'net_rx(u32 len, string dev)'
   lttctl-xen event add 'vm_exit(u16 domid, u16 vcpu, u64 reason, bytes regs)'
   lttctl-xen event add 'heartbeat()'
   lttctl-xen create && lttctl-xen start && lttctl-xen emit net_rx len=1500 dev=eth0`,
		Action: t.eventAdd,
	})
}

func (t *tool) eventAdd(c *cli.Context) error {
	decl, err := eventDecl(c)
	if err != nil {
		return err
	}
	rep, err := t.do(c, &wire.Request{Op: wire.OpEventAdd, EventAdd: &wire.EventAddArgs{Decl: decl}})
	if err != nil {
		return err
	}
	if len(rep.Events) == 0 {
		return fmt.Errorf("%s: the reply names no event (is the hypervisor older than lttctl-xen?)", commandPath(c))
	}
	ev := rep.Events[0]
	t.printf("event %s added: id %d\n", ev.Name, ev.ID)
	return nil
}

// eventDecl reads event add's one argument and checks it with [record.ParseDecl] and
// [record.NewEvent], so that a mistake is reported before anything is sent.
func eventDecl(c *cli.Context) (string, error) {
	switch c.NArg() {
	case 0:
		return "", usagef(c, "no declaration given (write: event add 'NAME(u32 a, string msg)')")
	case 1:
	default:
		return "", usagef(c, "%d arguments: quote the declaration as one (event add '%s')",
			c.NArg(), strings.Join(c.Args().Slice(), " "))
	}
	decl := c.Args().First()
	name, fields, err := record.ParseDecl(decl)
	if err == nil {
		_, err = record.NewEvent(0, name, fields) // the rules across fields
	}
	if err != nil {
		return "", usagef(c, "%v", err)
	}
	return decl, nil
}
