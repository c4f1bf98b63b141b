package relayd

import (
	"bufio"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
)

// liveSessions returns what babeltrace2's lttng-live source lists on the
// relay's live port.
func (r relay) liveSessions(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(testenv.Babeltrace(t), "query", "src.ctf.lttng-live", "sessions",
		fmt.Sprintf(`--params=url="net://127.0.0.1:%d"`, r.Live)).CombinedOutput()
	if err != nil {
		t.Fatalf("babeltrace2 query sessions: %v\n%s", err, out)
	}
	return string(out)
}

// liveReader is a babeltrace2 reading a session live.
type liveReader struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}
	err   error // Wait's result, once done is closed
	errs  *syncBuffer
}

// syncBuffer is a strings.Builder safe for one writer and other readers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func startLiveReader(t *testing.T, url string) *liveReader {
	t.Helper()
	bin := testenv.Babeltrace(t)
	// stdbuf: babeltrace2 writes through stdio, which a pipe would
	// otherwise buffer until exit.
	lr := &liveReader{cmd: exec.Command("stdbuf", "-oL", bin, url), lines: make(chan string, 1<<16), done: make(chan struct{}), errs: new(syncBuffer)}
	out, err := lr.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	lr.cmd.Stderr = lr.errs
	if err := lr.cmd.Start(); err != nil {
		t.Fatalf("start babeltrace2: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lr.lines <- sc.Text()
		}
		lr.err = lr.cmd.Wait()
		close(lr.done)
	}()
	t.Cleanup(func() {
		lr.cmd.Process.Signal(syscall.SIGKILL)
		<-lr.done
	})
	return lr
}

// read returns the next n lines the reader prints, calling tick every
// 50 ms meanwhile (the live timer); it fails the test if the reader exits
// first or prints nothing for a minute.
func (lr *liveReader) read(t *testing.T, n int, tick func()) []string {
	t.Helper()
	var got []string
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for len(got) < n {
		select {
		case <-ticker.C:
			tick()
		case l := <-lr.lines:
			got = append(got, l)
		case <-lr.done:
			for len(lr.lines) > 0 && len(got) < n {
				got = append(got, <-lr.lines)
			}
			if len(got) < n {
				t.Fatalf("live babeltrace2 exited (%v) after %d of %d lines: %s", lr.err, len(got), n, lr.errs.String())
			}
		case <-time.After(time.Minute):
			t.Fatalf("live babeltrace2 printed %d of %d lines in a minute; stderr: %s", len(got), n, lr.errs.String())
		}
	}
	return got
}

// waitAttached waits until the relay counts a live client on the session.
func (r relay) waitAttached(t *testing.T, lr *liveReader) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(r.liveSessions(t), "client-count: 1") {
		select {
		case <-lr.done:
			t.Fatalf("live babeltrace2 exited (%v) before attaching: %s", lr.err, lr.errs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("live babeltrace2 did not attach in a minute: %s", lr.errs.String())
		}
	}
}

// TestLive reads a session with babeltrace2's lttng-live source while it
// is streamed: the session is listed, a stream idle from the start does
// not hold the other back (an empty packet, then beacons), and an event
// type registered while streaming shows up.
func TestLive(t *testing.T) {
	testenv.Babeltrace(t)
	if _, err := exec.LookPath("stdbuf"); err != nil {
		t.Skip("stdbuf (coreutils) not installed")
	}
	r := startRelay(t)
	tr := newTestTrace(t, 2)
	s := mustDial(t, r.url(t), SessionInfo{Name: "live", Hostname: "xenhost", TraceUUID: testUUID, LiveTimer: 100 * time.Millisecond})
	defer s.Close()
	if err := s.SendMetadata(tr.metadata(t)); err != nil {
		t.Fatal(err)
	}
	streams := addStreams(t, s, 2)
	if err := s.StreamsSent(); err != nil {
		t.Fatal(err)
	}

	list := r.liveSessions(t)
	for _, want := range []string{
		"session-name: live", "target-hostname: xenhost", "timer-us: 100000", "stream-count: 3",
		fmt.Sprintf("url: net://127.0.0.1:%d/host/xenhost/live", r.Live),
	} {
		if !strings.Contains(list, want) {
			t.Errorf("live session list lacks %q:\n%s", want, list)
		}
	}

	lr := startLiveReader(t, r.liveURL("xenhost", "live"))
	r.waitAttached(t, lr)

	// The live timer's tick: a beacon for every stream, each with its own
	// clock reading (two inactivity messages of the same time would leave
	// the reader without an order). Until the relay takes a beacon from
	// every stream, the reader cannot know that an idle stream has nothing
	// older than another stream's next event.
	tick := func() {
		for _, st := range streams {
			tr.ts += 10
			if _, err := st.SendBeacon(tr.ts); err != nil {
				t.Fatal(err)
			}
		}
	}

	// channel0_1 stays idle: its empty packet, then its beacons, tell the
	// reader it has nothing to add.
	idle := tr.emptyPacket(1)
	if err := streams[1].SendPacket(idle.pkt, idle.idx); err != nil {
		t.Fatal(err)
	}
	if _, err := streams[0].SendBeacon(tr.ts); !errors.Is(err, ErrInvalid) {
		t.Errorf("beacon on a stream with no packet: %v, want ErrInvalid", err)
	}
	for i := range 300 {
		tr.add(t, 0, i)
	}
	tr.sendAll(t, streams)
	checkEvents(t, lr.read(t, len(tr.want), tick), tr.want)

	// A new event type: its metadata is appended, then its records sent.
	before := len(tr.want)
	for i := range 100 {
		tr.addLate(t, i%2, i)
	}
	if err := s.SendMetadata(tr.metadata(t)); err != nil {
		t.Fatal(err)
	}
	tr.sendAll(t, streams)
	checkEvents(t, lr.read(t, len(tr.want)-before, tick), tr.want[before:])

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// babeltrace2 goes on waiting for a session of that name (its
	// session-not-found-action is "continue"): the cleanup kills it.
	if e := lr.errs.String(); e != "" {
		t.Errorf("live babeltrace2 stderr: %s", e)
	}
}
