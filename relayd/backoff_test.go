package relayd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// virtualClock drives a Backoff without sleeping: each wait moves the
// clock, and onSleep (if set) runs first.
type virtualClock struct {
	t       time.Time
	waits   []time.Duration
	onSleep func(n int)
}

func (c *virtualClock) policy(b Backoff) Backoff {
	b.now = func() time.Time { return c.t }
	b.sleep = func(ctx context.Context, d time.Duration) error {
		c.waits = append(c.waits, d)
		if c.onSleep != nil {
			c.onSleep(len(c.waits))
		}
		c.t = c.t.Add(d)
		return ctx.Err()
	}
	return b
}

var errTransient = fmt.Errorf("relayd net://x: %w", syscall.ECONNREFUSED)

func TestBackoffSchedule(t *testing.T) {
	for _, tc := range []struct {
		name      string
		b         Backoff
		failures  int // attempts that fail before one succeeds
		err       error
		waits     []time.Duration
		wantErr   string
		wantFinal bool
	}{
		{"first attempt succeeds", Backoff{Total: time.Minute}, 0, errTransient, nil, "", false},
		{"doubling up to max", Backoff{Initial: time.Second, Max: 4 * time.Second, Total: time.Minute}, 5, errTransient,
			[]time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}, "", false},
		{"defaults", Backoff{Total: time.Hour}, 3, errTransient,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}, "", false},
		// 1+2+4 = 7 s of waits; the next (8 s) would end after 10 s.
		{"gives up", Backoff{Initial: time.Second, Max: time.Minute, Total: 10 * time.Second}, 100, errTransient,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, "gave up after 4 attempts in 7s", false},
		{"zero total: one attempt", Backoff{}, 100, errTransient, nil, "connection refused", false},
		{"final error", Backoff{Total: time.Hour}, 100, fmt.Errorf("relayd net://x: create session: %w", ErrRefused), nil, "relay refused", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &virtualClock{t: time.Unix(1e9, 0)}
			attempts := 0
			err := c.policy(tc.b).Retry(context.Background(), func(context.Context) error {
				attempts++
				if attempts <= tc.failures {
					return tc.err
				}
				return nil
			})
			if fmt.Sprint(c.waits) != fmt.Sprint(tc.waits) {
				t.Errorf("waits %v, want %v", c.waits, tc.waits)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Retry: %v after %d attempts", err, attempts)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Retry: %v, want an error with %q", err, tc.wantErr)
			case tc.wantErr != "" && !errors.Is(err, tc.err):
				t.Errorf("Retry: %v does not wrap the attempt's error", err)
			case tc.wantFinal && attempts != 1:
				t.Errorf("%d attempts after a final error", attempts)
			}
		})
	}
}

func TestBackoffCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &virtualClock{t: time.Unix(1e9, 0), onSleep: func(n int) {
		if n == 2 {
			cancel()
		}
	}}
	attempts := 0
	err := c.policy(Backoff{Total: time.Hour}).Retry(ctx, func(context.Context) error {
		attempts++
		return errTransient
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, syscall.ECONNREFUSED) || attempts != 2 {
		t.Errorf("Retry: %v after %d attempts, want cancelled after 2", err, attempts)
	}
	// The real sleep returns as soon as ctx ends.
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepCtx: %v", err)
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("x: %w", syscall.ECONNREFUSED), true},
		{fmt.Errorf("x: %w", ErrPeerClosed), true},
		{fmt.Errorf("x: %w", os.ErrDeadlineExceeded), true},
		{fmt.Errorf("x: %w: %w", ErrBroken, ErrPeerClosed), true},
		{fmt.Errorf("x: %w", ErrRefused), false},
		{fmt.Errorf("x: %w: %w", ErrBroken, ErrRefused), false},
		{fmt.Errorf("x: %w", ErrVersion), false},
		{fmt.Errorf("x: %w", ErrInvalid), false},
		{fmt.Errorf("x: %w", os.ErrClosed), false},
		{context.Canceled, false},
	} {
		if got := Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestRedial replaces a session whose relay went away by one on the relay
// that comes back after two refused attempts, in a new trace directory.
func TestRedial(t *testing.T) {
	ports := freePorts(t, 2)
	u, err := ParseURL(fmt.Sprintf("net://127.0.0.1:%d:%d", ports[0], ports[1]))
	if err != nil {
		t.Fatal(err)
	}
	// up starts a fake relay on the reserved ports; down stops it.
	var p *fakePeer
	var ls []net.Listener
	up := func() {
		p = &fakePeer{}
		ls = nil
		for i, h := range []func(net.Conn){relayLike(version{2, 13}, codeOK), func(c net.Conn) { io.Copy(io.Discard, c) }} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ports[i]))
			if err != nil {
				t.Fatalf("port %d taken meanwhile: %v", ports[i], err)
			}
			p.serve(l, h)
			ls = append(ls, l)
		}
	}
	down := func() {
		for _, l := range ls {
			l.Close()
		}
		p.close()
	}
	up()
	old, err := Dial(context.Background(), u, SessionInfo{Name: "s", Hostname: "h", TracePath: "run"})
	if err != nil {
		t.Fatal(err)
	}
	down()
	t.Cleanup(func() { down() })

	c := &virtualClock{t: time.Unix(1e9, 0), onSleep: func(n int) {
		if n == 2 {
			up()
		}
	}}
	s, err := Redial(context.Background(), old, c.policy(Backoff{Total: time.Minute}))
	if err != nil {
		t.Fatalf("Redial: %v (waits %v)", err, c.waits)
	}
	if len(c.waits) != 2 {
		t.Errorf("waits %v, want 2", c.waits)
	}
	if old.TracePath() != "h/run" || s.TracePath() != "h/run-1" {
		t.Errorf("trace paths %q then %q, want h/run then h/run-1", old.TracePath(), s.TracePath())
	}
	s.closeConns()
	s2, err := Redial(context.Background(), s, Backoff{})
	if err != nil {
		t.Fatal(err)
	}
	if s2.TracePath() != "h/run-2" {
		t.Errorf("second redial: trace path %q, want h/run-2", s2.TracePath())
	}
	s2.closeConns()
	old.closeConns()

	// A peer that is no relay is not dialed again.
	down()
	g := newFakePeer(t, func(c net.Conn) { c.Write([]byte("garbage!")) }, nil)
	old.url = g.u
	c = &virtualClock{t: time.Unix(1e9, 0)}
	_, err = Redial(context.Background(), old, c.policy(Backoff{Total: time.Minute}))
	if !errors.Is(err, ErrVersion) || len(c.waits) != 0 {
		t.Errorf("Redial to a non-relay: %v after waits %v", err, c.waits)
	}
	up()
}
