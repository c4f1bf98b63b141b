package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
)

// TestSalvageWhereBabeltraceFails: on each damaged trace babeltrace2
// refuses the whole trace (or stops at the damage), while dump --salvage
// gives back every intact event, exactly.
func TestSalvageWhereBabeltraceFails(t *testing.T) {
	bt := testenv.Babeltrace(t)
	b := sampleTrace(t, 600)
	// The intact trace first: babeltrace2 reads every event.
	out, err := exec.Command(bt, b.write()).Output()
	if err != nil || bytes.Count(out, []byte("\n")) != len(b.records) {
		t.Fatalf("babeltrace2 on the intact trace: %v, %d lines, want %d", err, bytes.Count(out, []byte("\n")), len(b.records))
	}
	for _, d := range damages(t, b) {
		t.Run(d.name, func(t *testing.T) {
			dir, _ := writeDamaged(b, d.stream)
			cmd := exec.Command(bt, dir)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			btEvents := strings.Count(stdout.String(), "\n")
			t.Logf("babeltrace2: %v, %d events printed", err, btEvents)
			if err == nil {
				t.Fatalf("babeltrace2 read the damaged trace without error:\n%s", stderr.String())
			}
			if btEvents >= len(d.recovered) {
				t.Errorf("babeltrace2 printed %d events, salvage recovers %d: nothing to show", btEvents, len(d.recovered))
			}
			r := run(t, "dump", "--raw", "--salvage", dir)
			if r.code != 0 || r.stdout != wantDump(d.recovered, true) {
				t.Fatalf("dump --salvage: exit %d, %d events, want 0 and exactly the %d intact ones",
					r.code, strings.Count(r.stdout, "\n"), len(d.recovered))
			}
		})
	}
}
