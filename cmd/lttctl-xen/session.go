package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

// session is one connection to dom0, for the duration of a subcommand. It is used by one
// goroutine, except [session.Close], which may be called from another to end a request
// early. A subcommand that makes several requests (status --watch) keeps one session and
// calls [session.call] repeatedly: each call gets its own deadline.
type session struct {
	t       *tool
	conn    *wire.Conn
	cmd     string        // the subcommand, as typed: "status", "event add"
	runDir  string        // where dom0.sock is
	timeout time.Duration // per request
}

// dial connects to dom0 in the run directory of c. When dom0 is not running, the error says
// so and how to start it (see [cmdline.DialDom0]).
func (t *tool) dial(c *cli.Context) (*session, error) {
	conn, err := cmdline.DialDom0(c)
	if err != nil {
		return nil, err
	}
	t.log.Debug("connected to dom0", "run_dir", cmdline.RunDir(c))
	return &session{t: t, conn: conn, cmd: commandPath(c), runDir: cmdline.RunDir(c), timeout: c.Duration("timeout")}, nil
}

// Close closes the connection. It is idempotent, and ends a call in progress.
func (s *session) Close() error { return s.conn.Close() }

// call sends req and waits at most s.timeout for its reply. Errors start with the
// subcommand (and the op, when it is not the subcommand's own) and say what happened in
// words a user can act on; a failure reported by dom0 or the
// hypervisor keeps the server's whole text (which says what to do) and matches the wire
// sentinels with errors.Is.
func (s *session) call(req *wire.Request) (*wire.Reply, error) {
	if err := s.conn.SetDeadline(time.Now().Add(s.timeout)); err != nil {
		return nil, fmt.Errorf("%s: %w", req.Op, err)
	}
	start := time.Now()
	rep, files, err := s.conn.Call(req)
	for _, f := range files { // none of our ops returns descriptors; never leak one
		f.Close()
	}
	s.t.log.Debug("request", "op", req.Op, "took", time.Since(start), "err", err)
	if err != nil {
		return nil, cmdline.Denied(callError(s.prefix(req.Op), s.timeout, err), s.runDir)
	}
	return rep, nil
}

// prefix names a request of op made by s in its errors: the subcommand ("event add" for
// event_add), followed by the op when the subcommand makes others ("status: event_list").
func (s *session) prefix(op wire.Op) string {
	if strings.NewReplacer(" ", "_", "-", "_").Replace(s.cmd) == string(op) {
		return s.cmd
	}
	return s.cmd + ": " + string(op)
}

// callError explains a failed call; what names it (see [session.prefix]).
func callError(what string, timeout time.Duration, err error) error {
	var re *wire.RemoteError
	switch {
	case errors.As(err, &re):
		return fmt.Errorf("%s: %w", what, err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%s: dom0 did not answer within %s (see dom0's log; --timeout sets the limit): %w",
			what, timeout, err)
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%s: dom0 closed the connection without answering (did it exit? see its log): %w",
			what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// do runs the single request req on a new session: what start, stop, destroy and create do.
func (t *tool) do(c *cli.Context, req *wire.Request) (*wire.Reply, error) {
	s, err := t.dial(c)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.call(req)
}

// simpleCommand is a subcommand without arguments that sends op and prints done.
func (t *tool) simpleCommand(op wire.Op, cmd *cli.Command, done string) *cli.Command {
	cmd.Action = func(c *cli.Context) error {
		if err := noArgs(c); err != nil {
			return err
		}
		if _, err := t.do(c, &wire.Request{Op: op}); err != nil {
			return err
		}
		t.printf("%s\n", done)
		return nil
	}
	return command(cmd)
}
