package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

// session is one connection to dom0, for the duration of a subcommand. It is used by one
// goroutine. A subcommand that makes several requests (a future status --watch) keeps one
// session and calls [session.call] repeatedly: each call gets its own deadline.
type session struct {
	t       *tool
	conn    *wire.Conn
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
	return &session{t: t, conn: conn, timeout: c.Duration("timeout")}, nil
}

// Close closes the connection.
func (s *session) Close() error { return s.conn.Close() }

// call sends req and waits at most s.timeout for its reply. Errors start with the op and
// say what happened in words a user can act on; a failure reported by dom0 or the
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
		return nil, callError(req.Op, s.timeout, err)
	}
	return rep, nil
}

// callError explains a failed call of op.
func callError(op wire.Op, timeout time.Duration, err error) error {
	var re *wire.RemoteError
	switch {
	case errors.As(err, &re):
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%s: dom0 did not answer within %s (see dom0's log; --timeout sets the limit): %w",
			op, timeout, err)
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%s: dom0 closed the connection without answering (did it exit? see its log): %w",
			op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
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
