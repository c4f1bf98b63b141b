package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/consumer"
	"github.com/lttng-xen/lttng-xen/internal/size"
	"github.com/lttng-xen/lttng-xen/wire"
)

// Live status. On a terminal, one line redrawn once a second by
// progressbar: packets, bytes written, events/s, events lost. Otherwise
// (a pipe, a log file, the tests) a plain log line at most every
// plainEvery, written only when packets are: an idle consumer logs
// nothing and wakes for nothing. The consumer's loop has no timer either
// way: the terminal's redraw runs in its own goroutine.
const (
	liveEvery  = time.Second
	plainEvery = 5 * time.Second
)

// liveView shows the consumer's progress. OnPackets is called from the
// consumer's goroutine; the rest from main's.
type liveView struct {
	w     io.Writer // stderr
	log   *slog.Logger
	probe *rateProbe
	mu    sync.Mutex // serializes drawing and log lines on a terminal

	packets, bytes, lost atomic.Uint64
	streams              atomic.Pointer[string] // per-stream packets: "cpu0 12, cpu1 9"

	// terminal mode
	bar  *progressbar.ProgressBar
	stop chan struct{}
	wg   sync.WaitGroup
	// mayDraw reports whether the status line may be drawn now: lttd-xen
	// owns the terminal's foreground (nil with --progress: always). A
	// background lttd-xen (started with &) would otherwise draw over the
	// shell's prompt.
	mayDraw func() bool
	drawn   bool // the status line is on the terminal (under mu)

	// plain mode
	lastLog time.Time
}

// newLiveView picks the mode from w (stderr): a terminal gets the bar,
// drawn while lttd-xen is in the terminal's foreground, or always with
// progress (--progress). Log through Writer, so that a log line clears
// the status line first. Start begins the display.
func newLiveView(w io.Writer, dom0Socket string, progress bool) *liveView {
	v := &liveView{w: w, probe: &rateProbe{path: dom0Socket}, lastLog: time.Now()}
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		if !progress {
			v.mayDraw = func() bool { return isForeground(f) }
		}
		v.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSpinnerType(14),
			// No spinner goroutine of the library's own (it would redraw
			// every 100 ms, and reads the bar's state without its lock):
			// redraw is the only timer.
			progressbar.OptionSetSpinnerChangeInterval(0),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetDescription("lttd-xen: waiting for packets"),
		)
	}
	return v
}

// Writer is the view's stderr for log lines.
func (v *liveView) Writer() io.Writer {
	if v.bar == nil {
		return v.w
	}
	return barWriter{v}
}

// barWriter clears the status line before a log line; the next redraw
// puts the status back under it.
type barWriter struct{ v *liveView }

func (b barWriter) Write(p []byte) (int, error) {
	b.v.mu.Lock()
	defer b.v.mu.Unlock()
	if b.v.drawn {
		b.v.bar.Clear()
		b.v.drawn = false
	}
	return b.v.w.Write(p)
}

// Start begins the display (plain mode logs on log).
func (v *liveView) Start(log *slog.Logger) {
	v.log = log
	if v.bar != nil {
		stop := make(chan struct{})
		v.stop = stop
		v.wg.Go(func() { v.redraw(stop) })
	}
}

// isTerminal reports whether f is a terminal (TCGETS works on it).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// isForeground reports whether our process group is the foreground one of
// the terminal f (tcgetpgrp(3) == getpgrp(2)); false if f is not our
// controlling terminal.
func isForeground(f *os.File) bool {
	pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// OnPackets records the consumer's totals (consumer.Config.OnPackets).
func (v *liveView) OnPackets(st consumer.Stats) {
	per := streamFigures(st.Streams)
	v.streams.Store(&per)
	v.packets.Store(st.Packets)
	v.bytes.Store(st.Bytes)
	v.lost.Store(st.Lost)
	if v.bar != nil || v.log == nil || time.Since(v.lastLog) < plainEvery {
		return
	}
	v.lastLog = time.Now()
	rate, _ := v.probe.sample()
	v.log.Info("progress", "packets", st.Packets, "written", size.Format(st.Bytes),
		"events_per_s", fmt.Sprintf("%.0f", rate), "lost", st.Lost, "streams", per)
}

// redraw is the terminal's once-a-second refresh.
func (v *liveView) redraw(stop <-chan struct{}) {
	tk := time.NewTicker(liveEvery)
	defer tk.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tk.C:
		}
		rate, ok := v.probe.sample()
		eps := "? events/s"
		if ok {
			eps = fmt.Sprintf("%.0f events/s", rate)
		}
		v.mu.Lock()
		if v.mayDraw == nil || v.mayDraw() {
			line := fmt.Sprintf("lttd-xen: %d packets, %s written, %s, %d lost",
				v.packets.Load(), size.Format(v.bytes.Load()), eps, v.lost.Load())
			if per := v.streams.Load(); per != nil && *per != "" {
				line += " [" + *per + "]"
			}
			v.bar.Describe(line)
			v.bar.Set64(int64(v.bytes.Load()))
			v.drawn = true
		} else if v.drawn { // sent to the background (^Z, bg) since the last draw
			v.bar.Clear()
			v.drawn = false
		}
		v.mu.Unlock()
	}
}

// Close stops the redraw and clears the line, so the summary that follows
// starts on a clean line.
func (v *liveView) Close() {
	if v.bar == nil || v.stop == nil {
		return
	}
	close(v.stop)
	v.stop = nil
	v.wg.Wait()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.drawn {
		v.bar.Clear()
		v.drawn = false
	}
}

// rateProbe measures events/s from dom0's status (events_written), over
// its own short-lived connection: the consumer's connection is not
// touched.
type rateProbe struct {
	path   string
	last   uint64
	lastAt time.Time
}

func (p *rateProbe) sample() (float64, bool) {
	c, err := wire.Dial(p.path, time.Second)
	if err != nil {
		return 0, false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	rep, _, err := c.Call(&wire.Request{Op: wire.OpStatus})
	if err != nil || rep.Status == nil {
		return 0, false
	}
	now, n := time.Now(), rep.Status.EventsWritten
	defer func() { p.last, p.lastAt = n, now }()
	if p.lastAt.IsZero() || n < p.last {
		return 0, true
	}
	return float64(n-p.last) / now.Sub(p.lastAt).Seconds(), true
}

// streamFigures is the per-stream part of the status: each stream's
// packets, and its lost records when there are any ("cpu0 12, cpu1 9 (3
// lost)"), for the first eight streams.
func streamFigures(streams []consumer.StreamStats) string {
	const most = 8 // a status line is one terminal line
	var b strings.Builder
	for i, ss := range streams {
		if i == most {
			fmt.Fprintf(&b, ", +%d more", len(streams)-most)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "cpu%d %d", ss.CPU, ss.Packets)
		if ss.Lost > 0 {
			fmt.Fprintf(&b, " (%d lost)", ss.Lost)
		}
	}
	return b.String()
}
