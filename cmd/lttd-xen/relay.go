package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/consumer"
	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/relayd"
)

// relayFlags send the trace to an lttng-relayd (lttng's URL syntax and
// defaults) instead of writing a directory.
var relayFlags = []cli.Flag{
	&cli.StringFlag{Name: "url", Aliases: []string{"U"}, Usage: "where to send the trace: net://HOST[:CTRL_PORT[:DATA_PORT]] (an lttng-relayd; ports default to 5342 and 5343) or file://DIR (a directory, like --output)"},
	&cli.StringFlag{Name: "session", Usage: "the relay's session name, which live readers look for (default auto-YYYYMMDD-HHMMSS, as lttng names sessions)"},
	&cli.StringFlag{Name: "hostname", Usage: "the host the relay files the trace under and live readers list (default this host's name)"},
	&cli.DurationFlag{Name: "live-timer", Usage: "make the relay session live: every `PERIOD` each quiet pCPU's stream tells live readers it is idle (0: not live)"},
	&cli.DurationFlag{Name: "relay-retry", Value: 30 * time.Second, Usage: "how long to keep redialing a relay that went away (the rings fill and the hypervisor discards and counts meanwhile) before failing; 0: fail at once"},
}

// destination reads --output and --url: the directory to write, or the
// relay to send to.
func destination(c *cli.Context) (dir string, relay *consumer.RelayConfig, err error) {
	out, url := c.String("output"), c.String("url")
	switch {
	case out != "" && url != "":
		return "", nil, cmdline.Usagef("--output and --url exclude each other (--url file://DIR is --output DIR)")
	case out != "":
		if c.IsSet("session") || c.IsSet("hostname") || c.IsSet("live-timer") {
			return "", nil, cmdline.Usagef("--session, --hostname and --live-timer go with --url net://HOST")
		}
		return out, nil, nil
	}
	u, err := relayd.ParseURL(url)
	if err != nil {
		return "", nil, cmdline.Usagef("--url: %v", err)
	}
	if u.IsFile() {
		return u.Path, nil, nil
	}
	if c.Bool("resume") || c.Bool("force") {
		return "", nil, cmdline.Usagef("--resume and --force are for a directory, not %s", u)
	}
	rc := &consumer.RelayConfig{URL: u, Session: c.String("session"), Hostname: c.String("hostname"),
		Live: c.Duration("live-timer"), Retry: c.Duration("relay-retry")}
	if rc.Session == "" {
		rc.Session = "auto-" + time.Now().Format("20060102-150405")
	}
	if rc.Hostname == "" {
		if rc.Hostname, err = os.Hostname(); err != nil {
			return "", nil, fmt.Errorf("host name (give --hostname): %w", err)
		}
	}
	if rc.Live < 0 || rc.Retry < 0 {
		return "", nil, cmdline.Usagef("--live-timer and --relay-retry cannot be negative")
	}
	return "", rc, nil
}
