package wire

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// Authorize decides whether a peer with uid may use a server: root and the server's own uid
// always may, others only if listed in allowed. The error wraps [ErrDenied], so
// [ErrorReply] sends it as code "denied".
func Authorize(uid uint32, allowed []uint32) error {
	if uid == 0 || uid == uint32(os.Geteuid()) || slices.Contains(allowed, uid) {
		return nil
	}
	return fmt.Errorf("uid %d is not allowed (this daemon serves root, its own uid %d and its --allow-uid list): %w",
		uid, os.Geteuid(), ErrDenied)
}

// refuseLinger is how long [Refuse] waits for a refused peer's requests.
const refuseLinger = time.Second

// refuseReplies bounds the requests [Refuse] answers.
const refuseReplies = 4

// Refuse answers a peer the server will not serve (err from [Authorize]) and
// returns when the caller may close the connection. It sends the refusal at
// once (a peer that reads first gets it), then answers each request the
// peer sends with it too, until the peer closes, after [refuseLinger] or
// after a few requests. Closing straight after the first reply would lose
// it: the peer's request, sent after the close, fails with EPIPE, and one
// sent just before it makes the close reset the connection (ECONNRESET);
// either way the peer never reads why.
func Refuse(c *Conn, err error) {
	if c.ReplyError(err) != nil {
		return
	}
	if c.SetDeadline(time.Now().Add(refuseLinger)) != nil {
		return
	}
	for range refuseReplies {
		var req Request
		if _, rerr := c.recv(&req, 0, nil); rerr != nil && !errors.Is(rerr, ErrMalformed) &&
			!errors.Is(rerr, ErrMessageTooLarge) && !errors.Is(rerr, ErrTruncated) && !errors.Is(rerr, ErrFDCount) {
			return // EOF, the deadline, a closed connection
		}
		if c.ReplyError(err) != nil {
			return
		}
	}
}
