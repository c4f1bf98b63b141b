package cmdline

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// ShutdownSignals returns a context cancelled at the first SIGINT or
// SIGTERM; a second signal restores the default action (a stuck daemon
// can still be killed with ^C twice).
func ShutdownSignals() (context.Context, context.CancelFunc) {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		signal.Reset(os.Interrupt, syscall.SIGTERM)
	}()
	return ctx, cancel
}

// ParseUIDs reads --allow-uid values.
func ParseUIDs(vals []int64) ([]uint32, error) {
	out := make([]uint32, 0, len(vals))
	for _, v := range vals {
		if v < 0 || v > 1<<32-1 {
			return nil, Usagef("--allow-uid %d: not a uid", v)
		}
		out = append(out, uint32(v))
	}
	return out, nil
}

// OpenFDs counts this process's open descriptors (/proc/self/fd), -1 if
// it cannot tell: the daemons log it on SIGUSR1 for leak checks.
func OpenFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents) - 1 // the directory being read
}
