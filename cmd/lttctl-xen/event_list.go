package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/wire"
)

func (t *tool) eventListCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "list",
		Usage:     "list the event types",
		UsageText: name + " [global options] event list [--json]",
		Description: `Lists every event type, built-in and added, by id: its name, its payload
fields (type and name, in record order) and whether the trace records it. With
no trace, every event shows as enabled (a new trace records all of them unless
"create --events" says otherwise).

--json prints the list as a JSON array of objects with the protocol's field
names: id, name, fields (each name and type), enabled.

EXAMPLES:
   lttctl-xen event list
   lttctl-xen event list --json | jq -r '.[] | select(.enabled) | .name'`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the list as JSON"},
		},
		Action: t.eventList,
	})
}

func (t *tool) eventList(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	s, err := t.dial(c)
	if err != nil {
		return err
	}
	defer s.Close()
	events, err := s.events()
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeEventsJSON(t.stdout, events)
	}
	return writeEventsTable(t.stdout, events)
}

// events lists the event types, sorted by id. A long list comes in pages, one request
// each, each page starting at the id the previous reply named (NextEvent).
func (s *session) events() ([]wire.EventInfo, error) {
	var events []wire.EventInfo
	req := &wire.Request{Op: wire.OpEventList}
	for {
		rep, err := s.call(req)
		if err != nil {
			return nil, err
		}
		events = append(events, rep.Events...)
		if rep.NextEvent == 0 {
			break
		}
		if req.EventList != nil && rep.NextEvent <= req.EventList.From {
			return nil, fmt.Errorf("%s: event_list: the page from id %d names %d as the next: %w",
				s.cmd, req.EventList.From, rep.NextEvent, wire.ErrMalformed)
		}
		req = &wire.Request{Op: wire.OpEventList, EventList: &wire.EventListArgs{From: rep.NextEvent}}
	}
	slices.SortStableFunc(events, func(a, b wire.EventInfo) int { return cmp.Compare(a.ID, b.ID) })
	return events, nil
}

func writeEventsJSON(w io.Writer, events []wire.EventInfo) error {
	if events == nil {
		events = []wire.EventInfo{}
	}
	b, err := json.MarshalIndent(events, "", "  ")
	if err != nil {
		return fmt.Errorf("encode events: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeEventsTable prints events as an aligned table with a header line.
func writeEventsTable(w io.Writer, events []wire.EventInfo) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tNAME\tFIELDS\tENABLED\n")
	for _, ev := range events {
		on := "no"
		if ev.Enabled {
			on = "yes"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", ev.ID, ev.Name, fieldList(ev.Fields), on)
	}
	return tw.Flush()
}

// fieldList writes fields as a declaration does: "(u32 a, string msg)", "()".
func fieldList(fields []wire.FieldInfo) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Type + " " + f.Name
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
