package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func (t *tool) checkCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "check",
		Usage:     "validate every packet and every record of a trace",
		UsageText: name + " [global options] check DIR",
		Description: `Decodes the whole trace in DIR and checks everything the format promises:
the metadata parses and describes the lttng-xen layout; every packet has the
magic number, the trace's UUID and stream id, consistent content_size and
packet_size and fits in its file; packet_seq_num increases and the cumulative
events_discarded never decreases; every record has a declared event id, fits
in its packet's content with no padding after the last one, has NUL-terminated
strings, and timestamps never decrease, within or across packets.

On success it prints one line:
   DIR: OK: N packets, M events, L lost
(L: events the writer discarded because the buffer was full) and exits 0.
At the first problem it prints
   lttv-xen: check: FILE: offset N: what was expected and found
on stderr, N being the byte offset in FILE of the bad field, and exits 1.

EXAMPLES:
   lttv-xen check /tmp/trace
   lttv-xen check /tmp/trace && babeltrace2 /tmp/trace | head`,
		Action: action(t.check),
	})
}

func (t *tool) check(_ *cli.Context, dir string) error {
	tr, err := openTrace(dir)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	var packets, events, lost uint64
	for p, err := range tr.Packets() {
		if err != nil {
			return fmt.Errorf("check: %w", located(err))
		}
		packets++
		events += uint64(p.Records)
		lost += p.Discarded
	}
	_, err = fmt.Fprintf(t.stdout, "%s: OK: %d packets, %d events, %d lost\n", dir, packets, events, lost)
	return writeError(err)
}
