package cmdline

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
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

// AllowUIDFlag is --allow-uid, for the daemons' peer-credential check.
func AllowUIDFlag(who string) *cli.Int64SliceFlag {
	return &cli.Int64SliceFlag{Name: "allow-uid", Usage: "also accept " + who + " from `UID` (root and our own uid always; repeatable); makes the run directory 0711 and the socket 0666 so that UID can reach it, the uid check still deciding who is served"}
}

// Daemon is what every daemon's main does first: refuse stray arguments,
// make the logger, read --allow-uid.
func Daemon(c *cli.Context, name string) (*slog.Logger, []uint32, error) {
	if c.NArg() > 0 {
		return nil, nil, Usagef("unexpected argument %q", c.Args().First())
	}
	log, err := Logger(c, c.App.ErrWriter, name)
	if err != nil {
		return nil, nil, err
	}
	allowed, err := ParseUIDs(c.Int64Slice("allow-uid"))
	if err != nil {
		return nil, nil, err
	}
	return log, allowed, nil
}
