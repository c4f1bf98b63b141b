package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/lttng-xen/lttng-xen/internal/cmdline"
)

// runCommand runs app with args as main does: [cmdline.Run] after [interspersed].
func runCommand(app *cli.App, args []string) int { return cmdline.Run(app, interspersed(app, args)) }

// interspersedCommands take their positional argument before or after their flags, as
// lttng(1) does ("create demo --output DIR"). urfave/cli stops reading flags at the first
// positional argument, so for these commands the positional arguments are moved after the
// flags before the command line is parsed.
var interspersedCommands = []string{"create"}

// interspersed returns args (program name first) with the positional arguments of an
// [interspersedCommands] command moved after its flags. Anything it does not understand is
// left as it is, for urfave/cli to report.
func interspersed(app *cli.App, args []string) []string {
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") { // global flags
		if takesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	if i >= len(args) || !slices.Contains(interspersedCommands, args[i]) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	out := slices.Clone(args[:i+1])
	var pos []string
	for j := i + 1; j < len(args); j++ {
		a := args[j]
		switch {
		case a == "--":
			pos = append(pos, args[j:]...)
			j = len(args)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			out = append(out, a)
			if takesValue(cmd.Flags, a) && j+1 < len(args) {
				j++
				out = append(out, args[j])
			}
		default:
			pos = append(pos, a)
		}
	}
	return append(out, pos...)
}

// takesValue reports whether the flag token a ("--output", "-o", "--output=x") names a flag
// of flags that takes its value from the next argument.
func takesValue(flags []cli.Flag, a string) bool {
	if strings.Contains(a, "=") {
		return false
	}
	name := strings.TrimLeft(a, "-")
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			if df, ok := f.(cli.DocGenerationFlag); ok {
				return df.TakesValue()
			}
			return true
		}
	}
	return false
}
