package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lttng-xen/lttng-xen/record"
	"github.com/lttng-xen/lttng-xen/relayd"
)

// RelayConfig sends the trace to an lttng-relayd instead of a directory.
type RelayConfig struct {
	URL      relayd.URL
	Session  string        // the relay's session name
	Hostname string        // the host directory and the host live readers list
	Live     time.Duration // live timer period; 0: not live
	// Retry is how long to keep redialing a relay that went away before
	// failing; meanwhile the rings fill and the producer discards (and
	// counts) what it cannot write. 0: fail at once.
	Retry time.Duration
}

// relaySink sends each pCPU's packets to an lttng-relayd stream of the same
// name (channel0_<cpu>), with the index live readers need, and the
// metadata as the relay's metadata stream. A stream is announced to the
// relay with its first packet, so a pCPU that never writes is never
// waited for by a live reader; with a live timer, each announced stream
// that sent nothing in a period gets a beacon saying it is idle up to now.
type relaySink struct {
	cfg     RelayConfig
	info    relayd.SessionInfo
	log     *slog.Logger
	ctx     context.Context // cancelled by Stop: ends a redial
	sess    *relayd.Session
	streams []*relayd.Stream // by pCPU; nil until its first packet
	busy    []bool           // sent a packet since the last tick
	meta    []byte           // the metadata text sent so far
	now     func() uint64    // the trace clock, for beacons
}

// dialRelay opens the relay session.
func dialRelay(ctx context.Context, cfg RelayConfig, uuid [16]byte, cpus int, log *slog.Logger) (*relaySink, error) {
	r := &relaySink{
		cfg: cfg, log: log, ctx: ctx,
		info: relayd.SessionInfo{
			Name: cfg.Session, Hostname: cfg.Hostname, LiveTimer: cfg.Live, TraceUUID: uuid,
		},
		streams: make([]*relayd.Stream, cpus),
		busy:    make([]bool, cpus),
		now:     record.Monotonic,
	}
	sess, err := relayd.Dial(ctx, cfg.URL, r.info)
	if err != nil {
		return nil, err
	}
	r.sess = sess
	log.Info("streaming to the relay", "url", cfg.URL.String(), "session", cfg.Session, "host", cfg.Hostname, "trace", sess.TracePath(), "live_timer", cfg.Live)
	return r, nil
}

func (r *relaySink) where() string { return r.cfg.URL.String() }

// writeMetadata sends text; it must extend what was sent (event types are
// only added), which the relay's metadata stream appends.
func (r *relaySink) writeMetadata(text []byte) error {
	// The clock of the beacons follows the metadata's.
	if info, _, err := record.ParseMetadata(text); err == nil && info.ClockName == record.TSCClockName {
		r.now = record.TSC
	}
	err := r.retry("send metadata", func() error { return r.sess.SendMetadata(text) })
	if err == nil {
		r.meta = append(r.meta[:0], text...)
	}
	return err
}

// stream returns cpu's relay stream, announcing it on first use.
func (r *relaySink) stream(cpu int) (*relayd.Stream, error) {
	if st := r.streams[cpu]; st != nil {
		return st, nil
	}
	st, err := r.sess.AddStream(StreamFile(cpu), 0)
	if err != nil {
		return nil, err
	}
	if err := r.sess.StreamsSent(); err != nil {
		return nil, err
	}
	r.streams[cpu] = st
	return st, nil
}

func (r *relaySink) write(cpu int, pkts [][]byte) (int, error) {
	for i, pkt := range pkts {
		p, err := record.ParsePacketHeader(pkt)
		if err != nil {
			return i, fmt.Errorf("packet %d of %s: %w", i, StreamFile(cpu), err)
		}
		idx := relayd.PacketIndex{
			ContentSize: p.ContentBytes(), TimestampBegin: p.TimestampBegin, TimestampEnd: p.TimestampEnd,
			EventsDiscarded: p.EventsDiscarded, StreamID: uint64(p.StreamID), StreamInstanceID: uint64(cpu),
			PacketSeqNum: p.SeqNum,
		}
		err = r.retry("send packet", func() error {
			st, err := r.stream(cpu)
			if err != nil {
				return err
			}
			return st.SendPacket(pkt, idx)
		})
		if err != nil {
			return i, err
		}
		r.busy[cpu] = true
	}
	return len(pkts), nil
}

// tick sends a beacon for every announced stream that sent no packet
// since the last tick: live readers then know it has nothing older than
// now and go on with the other streams.
func (r *relaySink) tick() error {
	now := r.now()
	for cpu, st := range r.streams {
		if st == nil {
			continue
		}
		if r.busy[cpu] {
			r.busy[cpu] = false
			continue
		}
		if _, err := st.SendBeacon(now); err != nil {
			if relayd.Retryable(err) {
				return r.redial(err)
			}
			return err
		}
	}
	return nil
}

// retry runs op; when the relay went away it redials (as long as
// RelayConfig.Retry allows), announces the streams again as they send,
// resends the metadata and runs op again.
func (r *relaySink) retry(what string, op func() error) error {
	for {
		err := op()
		if err == nil || !relayd.Retryable(err) {
			return err
		}
		if err := r.redial(err); err != nil {
			return err
		}
	}
}

// redial replaces a broken session with a new one on the same relay (a
// new trace directory there: packets acknowledged by the old session stay
// in the old one, and the new one starts where the rings are).
func (r *relaySink) redial(cause error) error {
	if r.cfg.Retry <= 0 {
		return fmt.Errorf("%w: %w (lttd-xen --relay-retry sets how long to keep trying)", ErrRelayGone, cause)
	}
	r.log.Warn("the relay went away; redialing", "url", r.cfg.URL.String(), "err", cause, "for", r.cfg.Retry)
	sess, err := relayd.Redial(r.ctx, r.sess, relayd.Backoff{Total: r.cfg.Retry})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%w: stopped while redialing: %w", ErrRelayGone, cause)
		}
		return fmt.Errorf("%w: %w", ErrRelayGone, err)
	}
	r.sess.Close()
	r.sess = sess
	clear(r.streams)
	r.log.Info("re-attached to the relay", "trace", sess.TracePath())
	if len(r.meta) > 0 {
		return r.sess.SendMetadata(r.meta)
	}
	return nil
}

func (r *relaySink) close() error {
	if r.sess == nil {
		return nil
	}
	err := r.sess.Close()
	r.sess = nil
	return err
}
