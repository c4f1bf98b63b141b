package relayd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Default back-off timing (Backoff fields left zero).
const (
	DefaultBackoffInitial = 100 * time.Millisecond
	DefaultBackoffMax     = 5 * time.Second
)

// Backoff is a retry policy for a relay that went away: retry at once,
// then wait Initial, and twice as long before each next attempt, at most
// Max, and give up when the next attempt would start more than Total
// after the first one. It holds no state: each Retry starts afresh.
type Backoff struct {
	Initial time.Duration // first wait; 0: DefaultBackoffInitial
	Max     time.Duration // longest wait; 0: DefaultBackoffMax
	Total   time.Duration // retry for this long; 0: a single attempt

	// Test hooks; nil means the real clock.
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// Retry calls attempt until it returns nil, returns an error that
// dialing again cannot cure (see [Retryable]), ctx ends, or the policy
// gives up. The waits between attempts are its only sleeping, and ctx
// cuts them short. The error is the last attempt's, saying how many
// attempts were made and for how long.
func (b Backoff) Retry(ctx context.Context, attempt func(context.Context) error) error {
	now, sleep := b.now, b.sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	wait, max := b.Initial, b.Max
	if wait <= 0 {
		wait = DefaultBackoffInitial
	}
	if max <= 0 {
		max = DefaultBackoffMax
	}
	start := now()
	for n := 1; ; n++ {
		err := attempt(ctx)
		switch {
		case err == nil:
			return nil
		case !Retryable(err):
			return err
		case ctx.Err() != nil:
			return fmt.Errorf("gave up after %d attempts: %w (%w)", n, context.Cause(ctx), err)
		}
		elapsed := now().Sub(start)
		if elapsed+wait > b.Total {
			if n == 1 {
				return err
			}
			return fmt.Errorf("gave up after %d attempts in %v: %w", n, elapsed.Round(time.Millisecond), err)
		}
		if serr := sleep(ctx, wait); serr != nil {
			return fmt.Errorf("gave up after %d attempts: %w (%w)", n, serr, err)
		}
		wait = min(2*wait, max)
	}
}

// Redial opens a new session in place of old, whose relay went away or
// whose connections broke: the same relay, session name and hostname, so
// live readers waiting for that session find the new one, in a new trace
// directory (old's with "-1", "-2", ... appended) so the relay never writes
// over what old sent. It dials as b allows. The caller adds its streams
// and sends its metadata again, as for a new trace, and closes old.
func Redial(ctx context.Context, old *Session, b Backoff) (*Session, error) {
	var s *Session
	err := b.Retry(ctx, func(ctx context.Context) error {
		var err error
		s, err = dial(ctx, old.url, old.info, old.trace, old.part+1)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Retryable reports whether dialing again may cure err: a relay that
// cannot be reached, closed a connection or did not answer in time. An
// answer that says no (ErrRefused, ErrVersion), a bad argument (ErrInvalid,
// ErrBadURL, ErrMetadataRewritten), a closed session and the end of a
// context are final.
func Retryable(err error) bool {
	for _, final := range []error{
		ErrRefused, ErrVersion, ErrInvalid, ErrBadURL, ErrMetadataRewritten,
		os.ErrClosed, context.Canceled, context.DeadlineExceeded,
	} {
		if errors.Is(err, final) {
			return false
		}
	}
	return err != nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
