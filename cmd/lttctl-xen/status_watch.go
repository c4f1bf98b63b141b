package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// status --watch's interval: the default, and the least accepted (a display refresh for a
// person, not a sampler).
const (
	defaultWatchInterval = time.Second
	minWatchInterval     = 100 * time.Millisecond
)

// ANSI control sequences for redrawing on a terminal.
const (
	cursorHome     = "\x1b[H"  // move to the top left corner
	clearScreen    = "\x1b[2J" // erase the whole screen
	clearLineEnd   = "\x1b[K"  // erase from the cursor to the end of the line
	clearScreenEnd = "\x1b[J"  // erase from the cursor to the end of the screen
)

// watchInterval reads and checks --interval.
func watchInterval(c *cli.Context) (time.Duration, error) {
	d := c.Duration("interval")
	if d < minWatchInterval {
		return 0, usagef(c, "--interval %s: must be at least %s", d, minWatchInterval)
	}
	return d, nil
}

// watchStatus shows a status report every interval over one connection, until the context
// of t.signals ends (exit 0) or a request fails (dom0 went away, the hypervisor is not
// reachable: exit 1). An interrupt during a request does not wait for its reply: it closes
// the connection, which ends the request at once.
func (t *tool) watchStatus(c *cli.Context, interval time.Duration, write statusWriter, withEvents bool) error {
	ctx, cancel := t.signals()
	defer cancel()
	s, err := t.dial(c)
	if err != nil {
		return err
	}
	defer s.Close()
	defer context.AfterFunc(ctx, func() { s.Close() })()

	scr := &screen{w: t.stdout, terminal: t.terminal(t.stdout), interval: interval}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		r, err := s.report(withEvents)
		if ctx.Err() != nil {
			return nil // interrupted, perhaps during the request
		}
		if err != nil {
			return err
		}
		if err := scr.show(write, r); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// screen shows successive reports: redrawn in place on a terminal, else one after another
// separated by a blank line.
type screen struct {
	w        io.Writer
	terminal bool
	interval time.Duration
	shown    int // reports shown so far
	buf      bytes.Buffer
}

// show writes one report with one Write, so that a terminal never shows half a redraw.
func (s *screen) show(write statusWriter, r *statusReport) error {
	s.buf.Reset()
	if err := write(&s.buf, r); err != nil {
		return err
	}
	var out strings.Builder
	switch {
	case s.terminal:
		if s.shown == 0 {
			out.WriteString(clearScreen)
		}
		out.WriteString(cursorHome)
		fmt.Fprintf(&out, "%s status every %s, %s (^C to quit)%s\n%s\n",
			name, s.interval, time.Now().Format(time.TimeOnly), clearLineEnd, clearLineEnd)
		// Erase what is left of each line and below the last one: the previous report
		// may have been longer.
		for line := range strings.Lines(s.buf.String()) {
			out.WriteString(strings.TrimSuffix(line, "\n"))
			out.WriteString(clearLineEnd + "\n")
		}
		out.WriteString(clearScreenEnd)
	case s.shown > 0:
		out.WriteString("\n")
		fallthrough
	default:
		out.Write(s.buf.Bytes())
	}
	s.shown++
	if _, err := io.WriteString(s.w, out.String()); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}
