package wire

import (
	"fmt"
	"os"
	"slices"
)

// Authorize decides whether a peer with uid may use a server: root and the server's own uid
// always may, others only if listed in allowed. The error wraps [ErrDenied], so
// [ErrorReply] sends it as code "denied".
func Authorize(uid uint32, allowed []uint32) error {
	if uid == 0 || uid == uint32(os.Geteuid()) || slices.Contains(allowed, uid) {
		return nil
	}
	return fmt.Errorf("uid %d is not allowed: %w", uid, ErrDenied)
}
