package tests

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
)

// lttd-xen --url streams a session to a real lttng-relayd on loopback: a
// live reader lists the session while it runs, status says where the
// consumer sends, an event type added while streaming reaches the relay's
// metadata, and the relay's copy holds exactly what the hypervisor wrote
// (babeltrace2: events_written events, events_lost discarded).
func TestRelayStreamsTheSession(t *testing.T) {
	t.Parallel()
	testenv.Babeltrace(t)
	relay := testenv.StartRelay(t)
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "2", "--rate", "5000"})
	s.ctl("create", "--subbuf-size", "16KiB", "--num-subbuf", "8", "--switch-timer", "100ms")
	lttd := s.start("lttd-xen", "consuming", "--url", relay.URL(), "--session", "xen1", "--hostname", "hostA", "--live-timer", "200ms")
	s.ctl("start")
	time.Sleep(300 * time.Millisecond)

	list, err := exec.Command(testenv.Babeltrace(t), "query", "src.ctf.lttng-live", "sessions",
		`--params=url="`+relay.LiveURL("", "")+`"`).CombinedOutput()
	if err != nil || !strings.Contains(string(list), "session-name: xen1") || !strings.Contains(string(list), "target-hostname: hostA") {
		t.Errorf("the live session list does not show xen1 on hostA (%v):\n%s", err, list)
	}
	// babeltrace2 reads the session live: events arrive while tracing runs.
	if lines := readLive(t, relay.LiveURL("hostA", "xen1"), 20, 15*time.Second); len(lines) < 20 {
		t.Errorf("babeltrace2 live printed %d events in 15 s, want 20:\n%s", len(lines), strings.Join(lines, "\n"))
	} else if !strings.Contains(lines[0], "cpu_id = ") {
		t.Errorf("live event without its pCPU: %s", lines[0])
	}
	if st := s.status(); st.ConsumerOutput != relay.URL() {
		t.Errorf("status consumer_output %q, want %q", st.ConsumerOutput, relay.URL())
	}
	s.ctl("event", "add", "net_rx(u32 len, string dev)")
	s.ctl("emit", "--cpu", "1", "net_rx", "len=1500", "dev=eth0")
	time.Sleep(300 * time.Millisecond)
	s.ctl("stop")
	st := s.status()
	s.ctl("destroy")
	if code := s.wait(lttd, 30*time.Second); code != 0 {
		t.Fatalf("lttd-xen exit %d:\n%s", code, lttd.stderr)
	}
	traces, _ := filepath.Glob(filepath.Join(relay.Out, "hostA", "*", "metadata"))
	if len(traces) != 1 {
		t.Fatalf("the relay wrote %v, want one trace under hostA", traces)
	}
	dir := filepath.Dir(traces[0])
	events, stderr, discarded := babeltrace(t, dir)
	if uint64(len(events)) != st.EventsWritten || discarded != st.EventsLost {
		t.Errorf("relay's copy: babeltrace2 %d events, %d discarded; the hypervisor wrote %d and lost %d\n%s",
			len(events), discarded, st.EventsWritten, st.EventsLost, firstLines(stderr, 5))
	}
	found := false
	for _, e := range events {
		if e.name == "net_rx" && strings.Contains(e.line, `len = 1500, dev = "eth0"`) {
			found = true
		}
	}
	if !found {
		t.Error("the event type added while streaming is not in the relay's copy")
	}
	checkOrder(t, events)
}

// A relay killed mid-trace: lttd-xen redials for --relay-retry, then
// fails with one line naming the relay, exit 1; it does not hang, and the
// hypervisor counts what could not be written as lost.
func TestRelayKilledMidTrace(t *testing.T) {
	t.Parallel()
	relay := testenv.StartRelay(t)
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "1", "--rate", "5000"})
	s.ctl("create", "--subbuf-size", "4KiB", "--num-subbuf", "4")
	lttd := s.start("lttd-xen", "consuming", "--url", relay.URL(), "--session", "doomed", "--relay-retry", "1s")
	s.ctl("start")
	time.Sleep(200 * time.Millisecond)
	relay.Kill()
	if code := s.wait(lttd, 30*time.Second); code != 1 {
		t.Fatalf("lttd-xen exit %d after the relay died, want 1:\n%s", code, lttd.stderr)
	}
	if e := lttd.stderr.String(); !strings.Contains(e, "the relay went away") || !strings.Contains(e, relay.URL()) {
		t.Errorf("lttd-xen's error does not say the relay went away, naming it:\n%s", e)
	}
	eventually(t, 10*time.Second, "the hypervisor does not count lost records", func() bool {
		return s.status().LostFull > 0
	})
	s.ctl("stop")
	s.ctl("destroy")
}

// Bad destinations are usage errors naming what was wrong; nothing is
// mapped.
func TestRelayBadURL(t *testing.T) {
	t.Parallel()
	s := newSession(t)
	s.startDaemons([]string{"--cpus", "1"})
	s.ctl("create", "--subbuf-size", "4KiB", "--num-subbuf", "2")
	free := testenv.FreePorts(t, 1)[0]
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--url", "tcp://127.0.0.1"}, 2, "tcp://127.0.0.1"},
		{[]string{"--url", "net://127.0.0.1:99999"}, 2, "99999"},
		{[]string{"--url", "net://127.0.0.1", "--output", "/tmp/x"}, 2, "exclude each other"},
		{[]string{"--session", "x"}, 2, "missing --output DIR (or --url net://HOST)"},
		{[]string{"--url", "net://127.0.0.1:" + itoa(free)}, 1, "127.0.0.1:" + itoa(free)},
	} {
		r := s.run("lttd-xen", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("lttd-xen %v: exit %d, stderr %q; want exit %d naming %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
	if st := s.status(); st.ConsumerPID != 0 {
		t.Errorf("a refused lttd-xen holds the consumer role: pid %d", st.ConsumerPID)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// readLive runs babeltrace2 on a live URL and returns the first n lines
// it prints (fewer if timeout passes first), then kills it: a live reader
// keeps waiting for the session's next run.
func readLive(t *testing.T, url string, n int, timeout time.Duration) []string {
	t.Helper()
	cmd := exec.Command(testenv.Babeltrace(t), url)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	defer func() {
		cmd.Process.Kill()
		for range lines { // until the scanner sees the pipe close
		}
		cmd.Wait()
	}()
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	deadline := time.After(timeout)
	for len(got) < n {
		select {
		case l, ok := <-lines:
			if !ok {
				return got
			}
			got = append(got, l)
		case <-deadline:
			return got
		}
	}
	return got
}
