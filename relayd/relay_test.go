package relayd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/testenv"
)

// relay is a real lttng-relayd on loopback ports the test picked, writing
// under its own output directory.
type relay struct {
	cmd              *exec.Cmd
	ctrl, data, live int
	out              string // --output directory
	log              *strings.Builder
	exited           chan struct{}
}

// startRelay starts lttng-relayd and waits until its three ports accept
// connections. The relay is killed when the test ends.
func startRelay(t *testing.T) *relay {
	t.Helper()
	bin := testenv.Relayd(t)
	home := t.TempDir()
	r := &relay{out: filepath.Join(home, "traces"), log: new(strings.Builder), exited: make(chan struct{})}
	ports := freePorts(t, 3)
	r.ctrl, r.data, r.live = ports[0], ports[1], ports[2]
	r.cmd = exec.Command(bin,
		"-C", fmt.Sprintf("tcp://127.0.0.1:%d", r.ctrl),
		"-D", fmt.Sprintf("tcp://127.0.0.1:%d", r.data),
		"-L", fmt.Sprintf("tcp://127.0.0.1:%d", r.live),
		"-o", r.out)
	r.cmd.Env = append(os.Environ(), "LTTNG_HOME="+home, "HOME="+home)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start lttng-relayd: %v", err)
	}
	go func() { r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		r.kill()
		if t.Failed() {
			t.Logf("lttng-relayd output:\n%s", r.log.String())
		}
	})
	for _, p := range ports {
		r.waitListening(t, p)
	}
	return r
}

// kill stops the relay (SIGKILL: the test of a relay that dies mid-trace
// uses it too) and waits for it.
func (r *relay) kill() {
	r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.exited
}

// waitListening waits until port accepts a connection, or the relay exits.
func (r *relay) waitListening(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-r.exited:
			t.Fatalf("lttng-relayd exited before listening on %d: %s", port, r.log.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("lttng-relayd does not listen on %d: %v", port, err)
		}
	}
}

// url returns the relay's net:// URL.
func (r *relay) url(t *testing.T) URL {
	t.Helper()
	u, err := ParseURL(fmt.Sprintf("net://127.0.0.1:%d:%d", r.ctrl, r.data))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// liveURL is the babeltrace2 lttng-live URL of a session.
func (r *relay) liveURL(host, session string) string {
	return fmt.Sprintf("net://127.0.0.1:%d/host/%s/%s", r.live, host, session)
}

// freePorts returns n distinct TCP ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func dial(t *testing.T, u URL, info SessionInfo) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Dial(ctx, u, info)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var _ = bufio.NewReader
var _ = errors.Is

func TestExperiment(t *testing.T) {
	r := startRelay(t)
	tr := newTestTrace(t, 2)
	s := dial(t, r.url(t), SessionInfo{Name: "exp", Hostname: "xenhost", TraceUUID: testUUID, LiveTimer: time.Second})
	if err := s.SendMetadata(tr.metadata(t)); err != nil {
		t.Fatal(err)
	}
	streams := make([]*Stream, 2)
	for i := range streams {
		var err error
		if streams[i], err = s.AddStream(fmt.Sprintf("channel0_%d", i), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.StreamsSent(); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		tr.add(t, i%2, i)
	}
	tr.sendAll(t, streams)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("find", r.out, "-ls").CombinedOutput()
	t.Logf("%s", out)
	bt, err := exec.Command("babeltrace2", filepath.Join(r.out, s.TracePath())).CombinedOutput()
	t.Logf("%v\n%s", err, bt)
}
