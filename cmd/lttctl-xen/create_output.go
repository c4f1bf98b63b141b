package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
	"github.com/lttng-xen/lttng-xen/wire"
)

// A session's name and output directory, chosen as lttng(1) chooses them: an automatic name
// auto-YYYYMMDD-HHMMSS, and a directory under $HOME/lttng-traces.

// dateFormat is the date in automatic names and output directories (lttng's).
const dateFormat = "20060102-150405"

// sessionName returns the session's name: arg if given (checked), else auto-DATE.
func sessionName(arg string, now time.Time) (string, error) {
	if arg == "" {
		return "auto-" + now.Format(dateFormat), nil
	}
	switch {
	case len(arg) > wire.MaxSessionName:
		return "", cmdline.Usagef("create: session name of %d bytes: at most %d", len(arg), wire.MaxSessionName)
	case strings.ContainsFunc(arg, func(r rune) bool { return r < ' ' || r == '/' || r == 0x7f }),
		arg == ".", arg == "..":
		return "", cmdline.Usagef("create: session name %q: it names a directory, so no '/', '.' or '..' and no control characters", arg)
	}
	return arg, nil
}

// outputDir returns the absolute output directory of the session named name: --output (made
// absolute), "" with --no-output, else $HOME/lttng-traces/NAME-DATE (NAME alone for an
// automatic name, which has the date already), with "-1", "-2", ... added if it exists.
func (t *tool) outputDir(c *cli.Context, name string, named bool, now time.Time) (string, error) {
	if c.Bool("no-output") {
		if c.IsSet("output") {
			return "", usagef(c, "--output and --no-output exclude each other")
		}
		return "", nil
	}
	if dir := c.String("output"); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("create: --output %s: %w", dir, err)
		}
		return abs, nil
	}
	home, err := t.home()
	if err != nil || home == "" {
		return "", usagef(c, "no $HOME for the default output directory: give --output DIR (or --no-output)")
	}
	base := filepath.Join(home, "lttng-traces", name)
	if named {
		base += "-" + now.Format(dateFormat)
	}
	dir := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
			return dir, nil
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}
