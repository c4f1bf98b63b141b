package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/consumer"
)

func TestSummary(t *testing.T) {
	st := consumer.Stats{Packets: 3, Bytes: 3 << 16, Lost: 7}
	for _, tc := range []struct {
		st   consumer.Stats
		err  error
		want string
	}{
		{st, nil, "lttd-xen: 3 packets, 192KiB written to /t; 7 events lost"},
		{consumer.Stats{Packets: 3, Bytes: 3 << 16, Kept: 2, Missing: 1, Reconnects: 1}, nil,
			"lttd-xen: 3 packets, 192KiB written to /t; 0 events lost; 2 packets kept from before --resume; " +
				"1 packets missing (consumed before --resume but not on disk); re-attached to dom0 1 times"},
		{st, fmt.Errorf("x: %w", consumer.ErrTraceGone), "lttd-xen: 3 packets, 192KiB written to /t; 7 events lost; trace incomplete: the trace went away"},
		{st, fmt.Errorf("x: %w", consumer.ErrNoRoom), "lttd-xen: 3 packets, 192KiB written to /t; 7 events lost; trace incomplete: no room left on disk"},
	} {
		if got := summary("/t", tc.st, tc.err); got != tc.want {
			t.Errorf("summary:\n got %q\nwant %q", got, tc.want)
		}
	}
}

// Not a terminal: a plain progress log line, at most every plainEvery.
func TestLiveViewPlain(t *testing.T) {
	var buf bytes.Buffer
	v := newLiveView(&buf, filepath.Join(t.TempDir(), "no-dom0.sock"), false)
	if v.bar != nil {
		t.Fatal("a bytes.Buffer was taken for a terminal")
	}
	v.Start(slog.New(slog.NewTextHandler(v.Writer(), nil)))
	defer v.Close()
	v.OnPackets(consumer.Stats{Packets: 1, Bytes: 4096})
	if buf.Len() != 0 {
		t.Fatalf("logged before %v: %q", plainEvery, buf.String())
	}
	v.lastLog = time.Now().Add(-plainEvery)
	v.OnPackets(consumer.Stats{Packets: 2, Bytes: 8192, Lost: 5, Streams: []consumer.StreamStats{{CPU: 3, Packets: 2, Lost: 5}}})
	if s := buf.String(); !strings.Contains(s, "msg=progress packets=2 written=8KiB") || !strings.Contains(s, "lost=5") || !strings.Contains(s, `streams="cpu3 2 (5 lost)"`) {
		t.Errorf("progress line: %q", s)
	}
}

// openPTY returns a pseudo-terminal's master and slave.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pts: %v", err)
	}
	return m, s
}

// On a terminal: one status line, redrawn every second, cleared at the end.
func TestLiveViewTerminal(t *testing.T) {
	master, slave := openPTY(t)
	defer master.Close()
	defer slave.Close()
	// Read the terminal all along, as a terminal does: the bar blocks in
	// write(2) (holding its lock) once the pty's buffer is full.
	out := make(chan string, 1)
	go func() {
		var all []byte
		sent := false
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			all = append(all, buf[:n]...)
			if !sent && (err != nil || bytes.Contains(all, []byte("lost"))) {
				out <- string(all)
				sent = true
			}
			if err != nil {
				return
			}
		}
	}()
	v := newLiveView(slave, filepath.Join(t.TempDir(), "no-dom0.sock"), true)
	if v.bar == nil {
		t.Fatal("a pseudo-terminal was not taken for a terminal")
	}
	v.Start(slog.New(slog.NewTextHandler(v.Writer(), nil)))
	v.OnPackets(consumer.Stats{Packets: 12, Bytes: 12 << 12, Lost: 3, Streams: []consumer.StreamStats{
		{CPU: 0, Packets: 5}, {CPU: 1, Packets: 7, Lost: 3},
	}})
	select {
	case s := <-out:
		if !strings.Contains(s, "lttd-xen: 12 packets, 48KiB written, ? events/s, 3 lost [cpu0 5, cpu1 7 (3 lost)]") {
			t.Errorf("status line: %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no status line on the terminal after 5 s")
	}
	v.Close()
}

// A terminal whose foreground lttd-xen does not own (here: not even its controlling
// terminal, as for "lttd-xen &" after the shell took the terminal back) gets no status line
// unless --progress says so.
func TestLiveViewBackground(t *testing.T) {
	master, slave := openPTY(t)
	defer master.Close()
	defer slave.Close()
	v := newLiveView(slave, filepath.Join(t.TempDir(), "no-dom0.sock"), false)
	if v.bar == nil || v.mayDraw == nil {
		t.Fatal("a terminal without --progress: want the bar, drawn only in the foreground")
	}
	if v.mayDraw() {
		t.Error("a pseudo-terminal that is not ours was taken for our foreground")
	}
	if p := newLiveView(slave, filepath.Join(t.TempDir(), "no-dom0.sock"), true); p.mayDraw != nil {
		t.Error("--progress: the bar should always be drawn")
	}
}
