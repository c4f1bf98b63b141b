package relayd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
)

// relay is a real lttng-relayd on loopback ports the test picked
// (testenv.Relay), with the package's URL type.
type relay struct{ *testenv.Relay }

func startRelay(t testing.TB) relay { return relay{testenv.StartRelay(t)} }

func startRelayAt(t testing.TB, ports []int, out string) relay {
	return relay{testenv.StartRelayAt(t, ports, out)}
}

// url returns the relay's net:// URL.
func (r relay) url(t testing.TB) URL {
	t.Helper()
	u, err := ParseURL(r.URL())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (r relay) liveURL(host, session string) string { return r.LiveURL(host, session) }

func freePorts(t testing.TB, n int) []int { return testenv.FreePorts(t, n) }

func mustDial(t *testing.T, u URL, info SessionInfo) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Dial(ctx, u, info)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// babeltrace runs babeltrace2 on a trace directory and returns its output
// lines; it fails the test on a non-zero exit or anything on stderr.
func babeltrace(t *testing.T, dir string) []string {
	t.Helper()
	bin := testenv.Babeltrace(t)
	var stdout, stderr strings.Builder
	cmd := exec.Command(bin, dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("babeltrace2 %s: %v\n%s", dir, err, stderr.String())
	}
	return strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
}

// addStreams adds channel0_0 .. channel0_{n-1}.
func addStreams(t *testing.T, s *Session, n int) []*Stream {
	t.Helper()
	streams := make([]*Stream, n)
	for i := range streams {
		var err error
		if streams[i], err = s.AddStream(fmt.Sprintf("channel0_%d", i), 0); err != nil {
			t.Fatal(err)
		}
	}
	return streams
}

// TestStreamToRelay streams a four-stream trace, with an event type
// registered half way and its metadata appended, and checks that the
// relay's copy holds exactly the events sent.
func TestStreamToRelay(t *testing.T) {
	testenv.Babeltrace(t)
	r := startRelay(t)
	const cpus = 4
	tr := newTestTrace(t, cpus)
	s := mustDial(t, r.url(t), SessionInfo{Name: "offline", Hostname: "xenhost", TraceUUID: testUUID})
	if err := s.SendMetadata(tr.metadata(t)); err != nil {
		t.Fatal(err)
	}
	streams := addStreams(t, s, cpus)
	if err := s.StreamsSent(); err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		tr.add(t, i%cpus, i)
	}
	tr.sendAll(t, streams)
	for i := range 500 {
		tr.addLate(t, (i*7)%cpus, i)
		tr.add(t, i%cpus, 3000+i)
	}
	// The metadata grows before any record of the new type is sent, as
	// the consumer does when the metadata version changes.
	if err := s.SendMetadata(tr.metadata(t)); err != nil {
		t.Fatal(err)
	}
	tr.sendConcurrently(t, streams)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var packets uint64
	for _, st := range streams {
		p, b := st.Sent()
		if b != p*testPacketSize {
			t.Errorf("%s: %d bytes in %d packets", st.Name(), b, p)
		}
		packets += p
	}
	if want := tr.seq[0] + tr.seq[1] + tr.seq[2] + tr.seq[3]; packets != want {
		t.Errorf("streams count %d packets sent, want %d", packets, want)
	}

	dir := filepath.Join(r.Out, s.TracePath())
	if !regexp.MustCompile(`^xenhost/offline-[0-9]{8}-[0-9]{6}$`).MatchString(s.TracePath()) {
		t.Errorf("trace path %q, want xenhost/offline-YYYYMMDD-HHMMSS", s.TracePath())
	}
	for i := range cpus {
		fi, err := os.Stat(filepath.Join(dir, fmt.Sprintf("channel0_%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(tr.seq[i]) * testPacketSize; fi.Size() != want {
			t.Errorf("channel0_%d is %d bytes, want %d (whole packets)", i, fi.Size(), want)
		}
		if _, err := os.Stat(filepath.Join(dir, "index", fmt.Sprintf("channel0_%d.idx", i))); err != nil {
			t.Errorf("relay wrote no index: %v", err)
		}
	}
	checkEvents(t, babeltrace(t, dir), tr.want)
}

// wantOneLine checks that err is one line holding every one of want.
func wantOneLine(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one holding %q", want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}

// TestRelayKilled kills the relay mid-trace: the next packet fails with an
// error naming the relay, every later call fails at once with ErrBroken,
// and nothing hangs.
func TestRelayKilled(t *testing.T) {
	r := startRelay(t)
	tr := newTestTrace(t, 1)
	u := r.url(t)
	s := mustDial(t, u, SessionInfo{Name: "killed", Hostname: "xenhost", TraceUUID: testUUID, Timeout: 5 * time.Second})
	if err := s.SendMetadata(tr.metadata(t)); err != nil {
		t.Fatal(err)
	}
	streams := addStreams(t, s, 1)
	for i := range 500 {
		tr.add(t, 0, i)
	}
	tr.sendAll(t, streams)
	r.Kill()

	for i := range 1000 {
		tr.add(t, 0, i)
	}
	tr.flush(0)
	var err error
	for _, p := range tr.pending[0] {
		if err = streams[0].SendPacket(p.pkt, p.idx); err != nil {
			break
		}
	}
	t.Logf("first error: %v", err)
	wantOneLine(t, err, u.String(), "send packet on \"channel0_0\"")
	if !errors.Is(err, ErrPeerClosed) {
		t.Errorf("error %v is not ErrPeerClosed", err)
	}
	p := tr.pending[0][0]
	err2 := streams[0].SendPacket(p.pkt, p.idx)
	if !errors.Is(err2, ErrBroken) {
		t.Errorf("packet after the failure: %v, want ErrBroken", err2)
	}
	wantOneLine(t, err2, u.String(), err.Error())
	if err := s.Close(); !errors.Is(err, ErrBroken) {
		t.Errorf("Close: %v, want ErrBroken", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.SendMetadata(nil); !errors.Is(err, ErrBroken) {
		t.Errorf("SendMetadata after Close: %v", err)
	}
}

// TestRelayRestart kills the relay mid-trace, starts it again on the same
// ports and output directory, and goes on in a new session with Redial:
// the new trace directory holds exactly what was sent after the restart,
// and the first one is left alone.
func TestRelayRestart(t *testing.T) {
	testenv.Babeltrace(t)
	r := startRelay(t)
	tr := newTestTrace(t, 2)
	s := mustDial(t, r.url(t), SessionInfo{Name: "restart", Hostname: "xenhost", TraceUUID: testUUID, TracePath: "run"})
	if err := s.SendMetadata(tr.metadata(t)); err != nil {
		t.Fatal(err)
	}
	streams := addStreams(t, s, 2)
	for i := range 400 {
		tr.add(t, i%2, i)
	}
	tr.sendAll(t, streams)
	r.Kill()
	tr.add(t, 0, -1)
	tr.flush(0)
	p := tr.pending[0][0]
	if err := streams[0].SendPacket(p.pkt, p.idx); err == nil {
		// The kernel may take one packet after the peer died; the index's
		// reply cannot come.
		if err = streams[0].SendPacket(p.pkt, p.idx); err == nil {
			t.Fatal("no error after the relay died")
		}
	}
	tr.pending[0] = nil
	r2 := startRelayAt(t, []int{r.Ctrl, r.Data, r.Live}, r.Out)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s2, err := Redial(ctx, s, Backoff{Total: 30 * time.Second})
	if err != nil {
		t.Fatalf("Redial: %v\n%s", err, r2.Log())
	}
	s.Close()
	if s2.TracePath() != "xenhost/run-1" {
		t.Errorf("new trace path %q, want xenhost/run-1", s2.TracePath())
	}
	if err := s2.SendMetadata(tr.metadata(t)); err != nil {
		t.Fatal(err)
	}
	streams = addStreams(t, s2, 2)
	tr.want = nil
	for i := range 300 {
		tr.add(t, i%2, 1000+i)
	}
	tr.sendAll(t, streams)
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	checkEvents(t, babeltrace(t, filepath.Join(r.Out, s2.TracePath())), tr.want)
	if _, err := os.Stat(filepath.Join(r.Out, "xenhost/run/metadata")); err != nil {
		t.Errorf("the first session's trace is gone: %v", err)
	}
}
