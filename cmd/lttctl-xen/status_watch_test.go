package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

// watcher is a fake dom0's status handler for status --watch: the n-th status request
// (from 1) reports n events written; at request last it calls at(), then answers as
// atLast does. event_list gets eventTypes.
type watcher struct {
	t      *testing.T
	last   int
	at     func()
	atLast handler

	mu    sync.Mutex
	n     int
	times []time.Time // of each status request
}

func (w *watcher) handler() handler {
	return byOp(w.t, map[wire.Op]handler{
		wire.OpEventList: listOf(eventTypes),
		wire.OpStatus: func(req *wire.Request) (*wire.Reply, error) {
			w.mu.Lock()
			w.n++
			n := w.n
			w.times = append(w.times, time.Now())
			w.mu.Unlock()
			if n == w.last {
				if w.at != nil {
					w.at()
				}
				return w.atLast(req)
			}
			st := started
			st.EventsWritten = uint64(n)
			return &wire.Reply{Status: &st}, nil
		},
	})
}

// interruptible returns a setup for runWith whose signal context is cancelled by the
// returned function.
func interruptible(terminal bool) (setup func(*tool), interrupt func()) {
	ctx, cancel := context.WithCancel(context.Background())
	return func(tl *tool) {
		tl.signals = func() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }
		tl.terminal = func(io.Writer) bool { return terminal }
	}, cancel
}

// hangUp answers by closing the connection, as a dom0 that exits.
func hangUp(*wire.Request) (*wire.Reply, error) { return nil, errHangUp }

// table is the status table of started with n events written.
func table(t *testing.T, n int) string {
	t.Helper()
	st := started
	st.EventsWritten = uint64(n)
	var b strings.Builder
	if err := writeStatusTable(&b, &statusReport{status: &st, events: len(eventTypes)}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestStatusWatch runs --watch for 3 refreshes, then interrupts it during the 4th request:
// it exits 0 having printed 3 tables separated by blank lines, over one connection, one
// interval apart.
func TestStatusWatch(t *testing.T) {
	const interval = 100 * time.Millisecond
	setup, interrupt := interruptible(false)
	w := &watcher{t: t, last: 4, at: interrupt, atLast: hangUp}
	d := startFakeDom0(t, w.handler())
	r := d.runWith(t, setup, "status", "--watch", "--interval", interval.String())
	r.wantOK(t, table(t, 1)+"\n"+table(t, 2)+"\n"+table(t, 3))

	var want []wire.Request
	for range 3 {
		want = append(want, wire.Request{Op: wire.OpStatus}, wire.Request{Op: wire.OpEventList})
	}
	d.wantRequests(t, append(want, wire.Request{Op: wire.OpStatus})...)
	d.mu.Lock()
	if len(d.conns) != 1 {
		t.Errorf("%d connections, want 1 for the whole watch", len(d.conns))
	}
	d.mu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if took := w.times[3].Sub(w.times[0]); took < 2*interval {
		t.Errorf("4 refreshes took %s, want at least %s (3 intervals of %s)", took, 2*interval, interval)
	}
}

func TestStatusWatchJSON(t *testing.T) {
	setup, interrupt := interruptible(false)
	w := &watcher{t: t, last: 4, at: interrupt, atLast: hangUp}
	d := startFakeDom0(t, w.handler())
	r := d.runWith(t, setup, "status", "--watch", "--json", "--interval", "100ms")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Count(r.stdout, "}\n\n{") != 2 {
		t.Errorf("want 3 JSON objects separated by blank lines, got:\n%s", r.stdout)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	for n := 1; ; n++ {
		var st wire.Status
		err := dec.Decode(&st)
		if errors.Is(err, io.EOF) {
			if n != 4 {
				t.Errorf("%d statuses, want 3", n-1)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if st.EventsWritten != uint64(n) {
			t.Errorf("status %d: events_written %d, want %d", n, st.EventsWritten, n)
		}
	}
	// JSON has no events line: no event_list.
	d.wantRequests(t, wire.Request{Op: wire.OpStatus}, wire.Request{Op: wire.OpStatus},
		wire.Request{Op: wire.OpStatus}, wire.Request{Op: wire.OpStatus})
}

// TestStatusWatchTerminal checks the redraw in place: the screen cleared once, then each
// refresh from the top left corner, every line and the rest of the screen erased.
func TestStatusWatchTerminal(t *testing.T) {
	setup, interrupt := interruptible(true)
	w := &watcher{t: t, last: 3, at: interrupt, atLast: hangUp}
	d := startFakeDom0(t, w.handler())
	r := d.runWith(t, setup, "status", "--watch", "--interval", "100ms")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	frames := strings.Split(r.stdout, cursorHome)
	if len(frames) != 3 || frames[0] != clearScreen {
		t.Fatalf("stdout %q: want the screen cleared, then 2 frames from the top left corner", r.stdout)
	}
	for i, f := range frames[1:] {
		header, body, _ := strings.Cut(f, "\n")
		if !strings.HasPrefix(header, name+" status every 100ms, ") || !strings.HasSuffix(header, "(^C to quit)"+clearLineEnd) {
			t.Errorf("frame %d: header %q", i+1, header)
		}
		want := "\n" + strings.ReplaceAll(table(t, i+1), "\n", clearLineEnd+"\n") + clearScreenEnd
		if want = strings.Replace(want, "\n", clearLineEnd+"\n", 1); body != want {
			t.Errorf("frame %d:\n%q\nwant\n%q", i+1, body, want)
		}
	}
}

// TestStatusWatchDom0Exits checks that the watch ends with exit 1 when dom0 goes away,
// after printing what it had.
func TestStatusWatchDom0Exits(t *testing.T) {
	setup, interrupt := interruptible(false)
	defer interrupt()
	w := &watcher{t: t, last: 3, atLast: hangUp}
	d := startFakeDom0(t, w.handler())
	r := d.runWith(t, setup, "status", "--watch", "--interval", "100ms")
	if r.code != cmdline.ExitError {
		t.Errorf("exit %d, want %d", r.code, cmdline.ExitError)
	}
	if want := table(t, 1) + "\n" + table(t, 2); r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	if !strings.HasPrefix(r.stderr, name+": status: dom0 closed the connection") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// TestStatusWatchFails checks that a failed status (the hypervisor went away) ends the
// watch with exit 1 and the server's message.
func TestStatusWatchFails(t *testing.T) {
	const msg = "hypervisor is not reachable at /run/x/hypervisor.sock (start it with: hypervisor --run-dir /run/x)"
	setup, interrupt := interruptible(false)
	defer interrupt()
	w := &watcher{t: t, last: 2, atLast: fail(msg, wire.ErrUnavailable)}
	d := startFakeDom0(t, w.handler())
	r := d.runWith(t, setup, "status", "--watch", "--interval", "100ms")
	if r.code != cmdline.ExitError || r.stdout != table(t, 1) {
		t.Errorf("exit %d, stdout:\n%s\nwant exit 1 after one table", r.code, r.stdout)
	}
	if want := name + ": status: " + msg + "\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
}

// TestStatusWatchInterruptWhileWaiting interrupts the watch while dom0 sits on a request:
// it ends at once with exit 0, without waiting for --timeout.
func TestStatusWatchInterruptWhileWaiting(t *testing.T) {
	release := make(chan struct{})
	setup, interrupt := interruptible(false)
	w := &watcher{t: t, last: 2, at: interrupt, atLast: func(*wire.Request) (*wire.Reply, error) {
		<-release
		return nil, errHangUp
	}}
	d := startFakeDom0(t, w.handler())
	defer close(release) // before the fake's cleanup waits for its goroutines
	begin := time.Now()
	r := d.runWith(t, setup, "--timeout", "1m", "status", "--watch", "--interval", "100ms")
	r.wantOK(t, table(t, 1))
	if took := time.Since(begin); took > 30*time.Second {
		t.Errorf("took %s to end", took)
	}
}

func TestStatusWatchUsage(t *testing.T) {
	d := startFakeDom0(t, ok)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--watch", "--interval", "50ms"}, []string{"status: --interval 50ms: must be at least 100ms"}},
		{[]string{"--watch", "--interval", "0"}, []string{"status: --interval 0s: must be at least 100ms"}},
		{[]string{"--watch", "--interval", "-1s"}, []string{"status: --interval -1s: must be at least 100ms"}},
		{[]string{"--watch", "--interval", "often"}, []string{"status: ", "--interval", "often"}},
		{[]string{"--interval", "1s"}, []string{"status: --interval goes with --watch"}},
		{[]string{"--watch", "now"}, []string{`status: unexpected argument "now"`}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			d.run(t, append([]string{"status"}, tc.args...)...).wantFail(t, cmdline.ExitUsage, append(tc.want, "lttctl-xen status --help")...)
		})
	}
	d.wantRequests(t)
}
