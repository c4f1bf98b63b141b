package tests

import (
	"github.com/lttng-xen/lttng-xen/wire"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// traceSession runs create → lttd-xen → start → wait → stop → status →
// destroy and returns the status after stop and the consumer's summary.
func traceSession(t *testing.T, s *session, out string, d time.Duration, createArgs ...string) (st wire.Status, summary string) {
	t.Helper()
	s.ctl(append([]string{"create"}, createArgs...)...)
	lttd := s.startConsumer(out)
	s.ctl("start")
	time.Sleep(d)
	s.ctl("stop")
	st = s.status()
	s.ctl("destroy")
	if code := s.wait(lttd, 60*time.Second); code != 0 {
		t.Fatalf("lttd-xen exited %d:\n%s", code, lttd.stderr)
	}
	return st, lttd.stdout.String()
}

func TestSessionModerateRate(t *testing.T) {
	testenv.Babeltrace(t)
	s := newSession(t)
	const cpus = 3
	s.startDaemons([]string{"--cpus", "3", "--rate", "20000"})
	out := filepath.Join(t.TempDir(), "trace")
	st, summary := traceSession(t, s, out, 1500*time.Millisecond, "--subbuf-size", "64KiB", "--num-subbuf", "8")
	if st.EventsWritten == 0 || st.EventsLost != 0 {
		t.Fatalf("status after stop: written %d lost %d", st.EventsWritten, st.EventsLost)
	}
	if !strings.Contains(summary, "0 events lost") {
		t.Errorf("lttd-xen summary: %q", summary)
	}
	events, stderr, discarded := babeltrace(t, out)
	if stderr != "" {
		t.Errorf("babeltrace2 complained:\n%s", stderr)
	}
	if uint64(len(events)) != st.EventsWritten || discarded != 0 {
		t.Errorf("babeltrace2 printed %d events (discarded %d); the hypervisor wrote %d", len(events), discarded, st.EventsWritten)
	}
	checkOrder(t, events)
	seen := map[int]int{}
	for _, e := range events {
		seen[e.cpu]++
	}
	for cpu := range cpus {
		if seen[cpu] == 0 {
			t.Errorf("no event from pCPU %d (%v)", cpu, seen)
		}
	}
	if r := s.run("lttv-xen", "check", out); r.code != 0 {
		t.Errorf("lttv-xen check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestSessionFlatOutLossIsExact(t *testing.T) {
	testenv.Babeltrace(t)
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "4", "--rate", "0"})
	out := filepath.Join(t.TempDir(), "trace")
	st, _ := traceSession(t, s, out, 500*time.Millisecond, "--subbuf-size", "4KiB", "--num-subbuf", "2")
	if st.EventsLost == 0 {
		t.Skip("no loss with 4 flat-out pCPUs into 2 x 4 KiB: nothing to check")
	}
	events, stderr, discarded := babeltrace(t, out)
	if discarded != st.EventsLost {
		t.Errorf("babeltrace2 reports %d discarded events; the hypervisor counted %d lost\n%s", discarded, st.EventsLost, firstLines(stderr, 5))
	}
	if uint64(len(events)) != st.EventsWritten {
		t.Errorf("babeltrace2 printed %d events; the hypervisor wrote %d", len(events), st.EventsWritten)
	}
	checkOrder(t, events)
}

func TestWakeupKinds(t *testing.T) {
	for _, kind := range []string{"eventfd", "pipe"} {
		t.Run(kind, func(t *testing.T) {
			s := newSession(t)
			s.startDaemons([]string{"--cpus", "2", "--rate", "50000"}, "--wakeup", kind)
			out := filepath.Join(t.TempDir(), "trace")
			st, summary := traceSession(t, s, out, 700*time.Millisecond, "--subbuf-size", "16KiB", "--num-subbuf", "4")
			if st.PacketsDelivered == 0 || st.PacketsConsumed != st.PacketsDelivered {
				t.Errorf("delivered %d, consumed %d", st.PacketsDelivered, st.PacketsConsumed)
			}
			var total int
			for _, pkts := range streamDir(t, out, 16<<10) {
				total += len(pkts)
			}
			if uint64(total) != st.PacketsDelivered {
				t.Errorf("stream files hold %d packets, want %d; summary %q", total, st.PacketsDelivered, summary)
			}
		})
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
