package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/record"
)

func (t *tool) checkCommand() *cli.Command {
	return command(&cli.Command{
		Name:      "check",
		Usage:     "validate every packet and every record of a trace",
		UsageText: name + " [global options] check [--salvage] DIR",
		Description: `Decodes the whole trace in DIR and checks everything the format promises:
the metadata parses and describes the lttng-xen layout; every packet has the
magic number, the trace's UUID and stream id, consistent content_size and
packet_size and fits in its file; packet_seq_num increases and the cumulative
events_discarded never decreases; every record has a declared event id, fits
in its packet's content with no padding after the last one, has NUL-terminated
strings, and timestamps never decrease, within or across packets. Each
stream file (one per pCPU, channel0_<cpu>) is checked on its own; across
them, every packet must carry the UUID of the one metadata, and no pCPU may
have records in two stream files.

On success it prints
   DIR: OK: N packets, M events, L lost
(L: events the writer discarded because the buffer was full), then one line
per stream file,
   stream channel0_C (pCPU C): N packets, M events, L lost
and exits 0.
At the first problem it prints
   lttv-xen: check: FILE: offset N: what was expected and found
on stderr, N being the byte offset in FILE of the bad field, and exits 1.

--salvage checks the whole trace, past the damage, and prints the recovery
plan of "dump --salvage" on stdout: a summary line
   DIR: DAMAGED: R regions to skip (B bytes, K packets); recoverable: N packets, M events, L lost
(N: whole packets; M counts the events before the damage in a damaged
packet too), then one line per region to skip:
   FILE: offset N: what was found; skipped B bytes at offsets X-Y (K packets)
then the per-stream lines.
It exits 1 if anything would be skipped (with one line on stderr), 0 with
the OK line if nothing would.

EXAMPLES:
   lttv-xen check /tmp/trace
   lttv-xen check /tmp/trace && babeltrace2 /tmp/trace | head
   lttv-xen check --salvage /tmp/trace || lttv-xen dump --salvage /tmp/trace > events.txt`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "salvage", Usage: "go past damage and print what dump --salvage would skip and recover"},
		},
		Action: action(t.check),
	})
}

func (t *tool) check(c *cli.Context, dir string) error {
	tr, err := openTrace(dir)
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	var sum sums
	owner := make(map[uint32]string) // pCPU -> the first stream file holding its records
	var rec record.Record
	err = eachStream(tr, readMode(c.Bool("salvage")), func(r *record.Reader) error {
		defer sum.add(r)
		seen := make(map[uint32]bool)
		for {
			if err := r.NextInto(&rec); err != nil {
				if isEOF(err) {
					return nil
				}
				return err
			}
			if seen[rec.CPU] {
				continue
			}
			seen[rec.CPU] = true
			if other, ok := owner[rec.CPU]; ok {
				return fmt.Errorf("%s: offset %d: pCPU %d has records in two stream files, %s and this one (one stream per pCPU)",
					r.Name(), rec.Offset, rec.CPU, filepath.Base(other))
			}
			owner[rec.CPU] = r.Name()
		}
	})
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if !sum.damaged() {
		fmt.Fprintf(t.stdout, "%s: OK: %d packets, %d events, %d lost\n", dir, sum.Packets, sum.Records, sum.Discarded)
		return writeError(writeStreamLines(t.stdout, &sum))
	}
	fmt.Fprintf(t.stdout, "%s: DAMAGED: %s to skip (%s, %s); recoverable: %d packets, %d events, %d lost\n", dir,
		plural(uint64(len(sum.skips)), "region"), plural(uint64(sum.SkippedBytes), "byte"), plural(sum.SkippedPackets, "packet"),
		sum.Packets, sum.Records, sum.Discarded)
	for _, s := range sum.skips {
		if _, err := fmt.Fprintf(t.stdout, "   %s\n", skipText(s)); err != nil {
			return writeError(err)
		}
	}
	if err := writeStreamLines(t.stdout, &sum); err != nil {
		return writeError(err)
	}
	return fmt.Errorf("check: %s: damaged: %s would be skipped; %s recoverable with %s dump --salvage",
		dir, plural(uint64(sum.SkippedBytes), "byte"), plural(sum.Records, "event"), name)
}

// writeStreamLines prints one line per stream file of s:
//
//	stream channel0_2 (pCPU 2): N packets, M events, L lost
func writeStreamLines(w io.Writer, s *sums) error {
	for _, st := range s.streams {
		cpu := ""
		if st.HasCPU {
			cpu = fmt.Sprintf(" (pCPU %d)", st.CPU)
		}
		if _, err := fmt.Fprintf(w, "   stream %s%s: %d packets, %d events, %d lost\n",
			filepath.Base(st.File), cpu, st.Packets, st.Records, st.Discarded); err != nil {
			return err
		}
	}
	return nil
}
