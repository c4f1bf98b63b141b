// Package testenv holds what tests across the module need from the
// machine. It is imported by tests only.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// The variables that, set to 1 (as CI does), turn a missing tool from a
// skip into a failure, so CI cannot pass by skipping its checks.
const (
	RequireBabeltraceEnv = "LTTNG_XEN_REQUIRE_BABELTRACE"
	RequireChromiumEnv   = "LTTNG_XEN_REQUIRE_CHROMIUM"
	RequireRelaydEnv     = "LTTNG_XEN_REQUIRE_RELAYD"
)

// Babeltrace returns the path of babeltrace2. When it is not installed the
// test is skipped, or fails if RequireBabeltraceEnv is 1.
func Babeltrace(t testing.TB) string {
	t.Helper()
	return require(t, RequireBabeltraceEnv, "apt-get install babeltrace2", "babeltrace2")
}

// Chromium returns the path of a headless-capable Chromium (Debian's
// chromium, or chromium-browser, google-chrome). When none is installed
// the test is skipped, or fails if RequireChromiumEnv is 1.
func Chromium(t testing.TB) string {
	t.Helper()
	return require(t, RequireChromiumEnv, "apt-get install chromium", "chromium", "chromium-browser", "google-chrome")
}

// Relayd returns the path of lttng-relayd (Debian's lttng-tools). When it
// is not installed the test is skipped, or fails if RequireRelaydEnv is 1.
func Relayd(t testing.TB) string {
	t.Helper()
	return require(t, RequireRelaydEnv, "apt-get install lttng-tools", "lttng-relayd")
}

// require returns the path of the first of names on $PATH, else skips t
// (or fails it when the environment variable env is 1), saying how to get
// one.
func require(t testing.TB, env, install string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv(env) == "1" {
		t.Fatalf("%s is required (%s=1) but not installed (%s)", names[0], env, install)
	}
	t.Skipf("%s not installed (%s)", names[0], install)
	return ""
}
