package tests

import (
	"bytes"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lttng-xen/lttng-xen/wire"
)

type btEvent struct {
	cycles uint64
	name   string
	cpu    int
	line   string
}

var (
	btLine      = regexp.MustCompile(`^\[(\d+)\] \([^)]*\) \S+ (\w+): \{ cpu_id = (\d+) \}`)
	btDiscarded = regexp.MustCompile(`discarded (\d+) events?\b`)
)

// babeltrace reads dir with babeltrace2 (timestamps in clock cycles, so
// they compare as integers) and returns the events, the stderr text and
// the total of the discarded-events warnings.
func babeltrace(t *testing.T, dir string) (events []btEvent, stderr string, discarded uint64) {
	t.Helper()
	cmd := exec.Command("babeltrace2", "--clock-cycles", dir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("babeltrace2 %s: %v\n%s", dir, err, errb.String())
	}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		m := btLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("babeltrace2 printed a line we cannot parse: %q", line)
		}
		c, _ := strconv.ParseUint(m[1], 10, 64)
		cpu, _ := strconv.Atoi(m[3])
		events = append(events, btEvent{cycles: c, name: m[2], cpu: cpu, line: line})
	}
	for _, m := range btDiscarded.FindAllStringSubmatch(errb.String(), -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		discarded += n
	}
	return events, errb.String(), discarded
}

// checkExact fails t unless babeltrace2 reads in dir exactly what st says
// the hypervisor did: every record written, and the lost ones reported as
// discarded. It returns babeltrace2's events and stderr.
func checkExact(t *testing.T, dir string, st wire.Status) ([]btEvent, string) {
	t.Helper()
	events, stderr, discarded := babeltrace(t, dir)
	if uint64(len(events)) != st.EventsWritten || discarded != st.EventsLost {
		t.Errorf("babeltrace2: %d events, %d discarded; the hypervisor wrote %d and lost %d\n%s",
			len(events), discarded, st.EventsWritten, st.EventsLost, firstLines(stderr, 5))
	}
	return events, stderr
}

// checkOrder fails the test if timestamps decrease. babeltrace2 merges the
// pCPUs' streams by time in nanoseconds, so with the TSC clock (a few
// cycles per ns) two records of different streams less than a nanosecond
// apart may come out in either order: a decrease of less than maxCyclesNS
// cycles between events of different pCPUs is allowed.
func checkOrder(t *testing.T, events []btEvent) {
	t.Helper()
	const maxCyclesNS = 8 // an 8 GHz counter
	for i := 1; i < len(events); i++ {
		a, b := events[i-1], events[i]
		if b.cycles < a.cycles && (a.cpu == b.cpu || a.cycles-b.cycles >= maxCyclesNS) {
			t.Fatalf("timestamps decrease at event %d:\n%s\n%s", i, events[i-1].line, events[i].line)
		}
	}
}
