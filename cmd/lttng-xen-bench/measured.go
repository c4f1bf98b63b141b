package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lttng-xen/lttng-xen/consumer"
	"github.com/lttng-xen/lttng-xen/wire"
)

// measuredConsumer is lttd-xen's engine (consumer.Consumer) running in
// this process on the trace dom0 serves, writing its stream files into a
// directory, with the latency of every packet measured (packetLatency).
// Woken by dom0 it is lttd-xen; with a polling interval it is woken by a
// timer instead (timerWakeups), as xentrace polls.
type measuredConsumer struct {
	c     *consumer.Consumer
	lat   *packetLatency
	timer *timerWakeups // nil when dom0 wakes the consumer
	done  chan error
}

// startConsumer maps the trace as its consumer and starts consuming into
// dir. pollEvery > 0: woken every pollEvery instead of by dom0. rt: the
// consuming goroutine's thread runs at SCHED_FIFO 1.
func startConsumer(sock, dir string, sbSize uint64, pollEvery time.Duration, rt bool) (m *measuredConsumer, err error) {
	conn, err := wire.Dial(sock, 5*time.Second)
	if err != nil {
		return nil, err
	}
	m = &measuredConsumer{lat: newPacketLatency(dir, sbSize), done: make(chan error, 1)}
	if pollEvery > 0 {
		if m.timer, conn, err = newTimerWakeups(conn, pollEvery); err != nil {
			return nil, err
		}
	}
	m.c, err = consumer.Open(conn, consumer.Config{
		Output:    dir,
		Force:     true,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnPackets: m.lat.hook,
	})
	if err != nil {
		if m.timer != nil {
			m.timer.close()
		}
		return nil, fmt.Errorf("consumer: %w", err)
	}
	ready := make(chan error, 1)
	go func() {
		if rt {
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			if err := setFIFO(); err != nil {
				ready <- err
				m.done <- nil
				return
			}
		}
		ready <- nil
		m.done <- m.c.Run()
	}()
	if err := <-ready; err != nil {
		m.stop()
		return nil, err
	}
	return m, nil
}

// stop makes the consumer write what is delivered and return, unmaps, and
// returns the first failure of the run or of the measure.
func (m *measuredConsumer) stop() error {
	m.c.Stop()
	err := <-m.done
	err = errors.Join(err, m.c.Close())
	if m.timer != nil {
		m.timer.close()
	}
	m.lat.close()
	return errors.Join(err, m.lat.err)
}

// timerWakeups stands between a consumer and dom0: it relays every request
// to dom0 but poll (the reader registration), to which it answers with a
// timerfd that expires every interval. dom0 then has no reader to wake and
// the kernel wakes the consumer's poll(2) every interval, as xentrace's
// poll with a timeout does.
type timerWakeups struct {
	cons *wire.Conn // the proxy's end of the consumer's connection
	dom0 *wire.Conn
	tfd  int
	quit chan struct{}
	wg   sync.WaitGroup
}

// newTimerWakeups returns the connection the consumer must use.
func newTimerWakeups(dom0 *wire.Conn, every time.Duration) (_ *timerWakeups, consConn *wire.Conn, err error) {
	t := &timerWakeups{dom0: dom0, tfd: -1, quit: make(chan struct{})}
	consConn, t.cons, err = wire.Pair()
	if err != nil {
		dom0.Close()
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			t.close()
			consConn.Close()
		}
	}()
	if t.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK); err != nil {
		return nil, nil, fmt.Errorf("timerfd: %w", err)
	}
	ts := unix.NsecToTimespec(every.Nanoseconds())
	if err := unix.TimerfdSettime(t.tfd, 0, &unix.ItimerSpec{Interval: ts, Value: ts}, nil); err != nil {
		return nil, nil, fmt.Errorf("timerfd: %w", err)
	}
	t.wg.Go(t.relay)
	return t, consConn, nil
}

// relay serves the consumer until its connection closes.
func (t *timerWakeups) relay() {
	for {
		req, err := t.cons.RecvRequest(wire.Tools)
		if err != nil {
			var re *wire.RemoteError
			if errors.As(err, &re) {
				_ = t.cons.ReplyError(err)
				continue
			}
			return
		}
		if req.Op == wire.OpPoll {
			_ = t.cons.Reply(nil, t.tfd)
			continue
		}
		rep, files, err := t.dom0.Call(req)
		if err != nil {
			_ = t.cons.ReplyError(err)
			continue
		}
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		_ = t.cons.Reply(rep, fds...)
		for _, f := range files {
			f.Close()
		}
	}
}

func (t *timerWakeups) close() {
	select {
	case <-t.quit:
		return
	default:
	}
	close(t.quit)
	t.cons.Close()
	t.wg.Wait()
	t.dom0.Close()
	if t.tfd >= 0 {
		unix.Close(t.tfd)
	}
}

// setFIFO puts the calling thread in SCHED_FIFO at priority 1.
func setFIFO() error {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 1}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		return fmt.Errorf("SCHED_FIFO: %w", err)
	}
	return nil
}
