package cmdline

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// UnknownCommand is the usage error for a command name that is not one of
// cmds: "unknown command "strat" (did you mean "start"?) (see: NAME --help)".
// helpName is how the parent command is typed ("lttctl-xen", "lttctl-xen
// event").
func UnknownCommand(helpName, name string, cmds []*cli.Command) error {
	var names []string
	for _, c := range cmds {
		if !c.Hidden && c.Name != "help" {
			names = append(names, c.Names()...)
		}
	}
	if s := Closest(name, names); s != "" {
		return Usagef("unknown command %q: did you mean %q? (see: %s --help)", name, s, helpName)
	}
	return Usagef("unknown command %q (see: %s --help)", name, helpName)
}

// Closest returns the candidate nearest to s by edit distance (insertions,
// deletions, substitutions, transpositions of neighbours), if it is close
// enough to be a typo of it: at most 2 edits, and fewer than half of s's
// length; "" otherwise.
func Closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), c)
		if d < bestD && 2*d < max(len(s), 2) {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// Missing is the usage error for a required flag that is not set: one line
// and the command's usage line, not its whole help.
func Missing(c *cli.Context, flag, what string) error {
	usage := c.App.UsageText
	if c.Command != nil && c.Command.UsageText != "" {
		usage = c.Command.UsageText
	}
	return Usagef("missing --%s %s\nusage: %s", flag, what, usage)
}

// VerboseFlag is -v/--verbose, as lttng(1) has it: more log lines.
var VerboseFlag = &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log more: the same as --log-level debug"}

// versionFlag is --version/-V, as lttng(1) has it (urfave/cli's default
// takes -v, which lttng users type for verbosity).
var versionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version"}

func init() { cli.VersionFlag = versionFlag }

// withVerbose adds VerboseFlag to an app that has LogLevelFlag.
func withVerbose(app *cli.App) {
	has := false
	for _, f := range app.Flags {
		for _, n := range f.Names() {
			switch n {
			case VerboseFlag.Name:
				return
			case LogLevelFlag.Name:
				has = true
			}
		}
	}
	if has {
		app.Flags = append(app.Flags, VerboseFlag)
	}
}
