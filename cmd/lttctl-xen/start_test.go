package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

func TestStart(t *testing.T) {
	consumed := wire.Status{State: wire.StateStarted, Mode: wire.ModeDiscard, Output: "/srv/t", Readers: 1}
	d := startFakeDom0(t, byOp(t, map[wire.Op]handler{
		wire.OpStart:  ok,
		wire.OpStatus: func(*wire.Request) (*wire.Reply, error) { return &wire.Reply{Status: &consumed}, nil },
	}))
	d.run(t, "start").wantOK(t, "tracing started\n")
	d.wantRequests(t, wire.Request{Op: wire.OpStart}, wire.Request{Op: wire.OpStatus})
}

// With no consumer (no output directory, no reader), start warns that records are lost.
func TestStartWarnsWithoutConsumer(t *testing.T) {
	alone := wire.Status{State: wire.StateStarted, Mode: wire.ModeDiscard}
	d := startFakeDom0(t, byOp(t, map[wire.Op]handler{
		wire.OpStart:  ok,
		wire.OpStatus: func(*wire.Request) (*wire.Reply, error) { return &wire.Reply{Status: &alone}, nil },
	}))
	r := d.run(t, "start")
	if r.code != 0 || r.stdout != "tracing started\n" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	if want := name + ": warning: no consumer is attached (readers 0): records are lost until lttd-xen attaches"; !strings.HasPrefix(r.stderr, want) {
		t.Errorf("stderr %q, want it to start with %q", r.stderr, want)
	}
}

// start --duration stops the trace after the duration (the sleep is the tool's hook).
func TestStartDuration(t *testing.T) {
	d := startFakeDom0(t, byOp(t, map[wire.Op]handler{
		wire.OpStart:  ok,
		wire.OpStop:   ok,
		wire.OpStatus: func(*wire.Request) (*wire.Reply, error) { return &wire.Reply{Status: &wire.Status{Readers: 1}}, nil },
	}))
	var slept time.Duration
	r := d.runWith(t, func(tl *tool) {
		tl.sleep = func(_ context.Context, dur time.Duration) error { slept = dur; return nil }
	}, "start", "--duration", "10s")
	r.wantOK(t, "tracing started\ntracing stopped after 10s\n")
	if slept != 10*time.Second {
		t.Errorf("slept %s, want 10s", slept)
	}
	d.wantRequests(t, wire.Request{Op: wire.OpStart}, wire.Request{Op: wire.OpStatus}, wire.Request{Op: wire.OpStop})
	d.run(t, "start", "--duration", "0s").wantFail(t, cmdline.ExitUsage, "--duration 0s: must be positive")
}

func TestStartFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
		code *wire.RemoteError
	}{
		{"bad state", "wrong trace state: the trace is already started (stop it first: lttctl-xen stop)", wire.ErrBadState},
		{"no trace", "no trace exists: create one first (lttctl-xen create)", wire.ErrNoTrace},
		{"unavailable", "hypervisor is not reachable: start it with: hypervisor --run-dir /x", wire.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := startFakeDom0(t, fail(tc.msg, tc.code))
			r := d.run(t, "start")
			r.wantFail(t, cmdline.ExitError)
			if want := name + ": start: " + tc.msg + "\n"; r.stderr != want {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
			d.wantRequests(t, wire.Request{Op: wire.OpStart})
		})
	}
}
