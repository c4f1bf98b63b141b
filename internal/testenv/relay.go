package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Relay is a real lttng-relayd on loopback ports the test picked, writing
// under its own output directory. It is killed when the test ends.
type Relay struct {
	Ctrl, Data, Live int    // the control, data and live ports
	Out              string // its --output directory
	cmd              *exec.Cmd
	mu               sync.Mutex
	log              strings.Builder
	exited           chan struct{}
}

// StartRelay starts lttng-relayd on three free loopback ports and waits
// until they accept connections (skipping the test, or failing it, as
// [Relayd] does when lttng-relayd is not installed).
func StartRelay(t testing.TB) *Relay {
	t.Helper()
	return StartRelayAt(t, FreePorts(t, 3), filepath.Join(t.TempDir(), "traces"))
}

// StartRelayAt starts lttng-relayd on the control, data and live ports
// given, writing under out.
func StartRelayAt(t testing.TB, ports []int, out string) *Relay {
	t.Helper()
	bin := Relayd(t)
	home := t.TempDir()
	r := &Relay{Ctrl: ports[0], Data: ports[1], Live: ports[2], Out: out, exited: make(chan struct{})}
	r.cmd = exec.Command(bin,
		"-C", fmt.Sprintf("tcp://127.0.0.1:%d", r.Ctrl),
		"-D", fmt.Sprintf("tcp://127.0.0.1:%d", r.Data),
		"-L", fmt.Sprintf("tcp://127.0.0.1:%d", r.Live),
		"-o", r.Out)
	r.cmd.Env = append(os.Environ(), "LTTNG_HOME="+home, "HOME="+home)
	r.cmd.Stdout, r.cmd.Stderr = (*relayLog)(r), (*relayLog)(r)
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start lttng-relayd: %v", err)
	}
	go func() { r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		r.Kill()
		if t.Failed() {
			t.Logf("lttng-relayd output:\n%s", r.Log())
		}
	})
	for _, p := range ports {
		r.waitListening(t, p)
	}
	return r
}

type relayLog Relay

func (l *relayLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.log.Write(b)
}

// Log is what the relay printed so far.
func (r *Relay) Log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// Kill stops the relay with SIGKILL (as a relay dying mid-trace would) and
// waits for it.
func (r *Relay) Kill() {
	r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.exited
}

// URL is the relay's net:// URL for a consumer: control and data ports.
func (r *Relay) URL() string { return fmt.Sprintf("net://127.0.0.1:%d:%d", r.Ctrl, r.Data) }

// LiveURL is the babeltrace2 lttng-live URL of a session; with an empty
// host and session, the relay's live URL itself.
func (r *Relay) LiveURL(host, session string) string {
	if host == "" {
		return fmt.Sprintf("net://127.0.0.1:%d", r.Live)
	}
	return fmt.Sprintf("net://127.0.0.1:%d/host/%s/%s", r.Live, host, session)
}

// waitListening waits until port accepts a connection, or the relay exits.
func (r *Relay) waitListening(t testing.TB, port int) {
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
			t.Fatalf("lttng-relayd exited before listening on %d: %s", port, r.Log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("lttng-relayd does not listen on %d: %v", port, err)
		}
	}
}

// FreePorts returns n distinct TCP ports that were free a moment ago.
func FreePorts(t testing.TB, n int) []int {
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
