// Package testenv holds what tests across the module need from the
// machine. It is imported by tests only.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireBabeltraceEnv, set to 1 (as CI does), turns a missing babeltrace2
// from a skip into a failure, so CI cannot pass by skipping its checks.
const RequireBabeltraceEnv = "LTTNG_XEN_REQUIRE_BABELTRACE"

// Babeltrace returns the path of babeltrace2. When it is not installed the
// test is skipped, or fails if RequireBabeltraceEnv is 1.
func Babeltrace(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("babeltrace2")
	if err != nil {
		if os.Getenv(RequireBabeltraceEnv) == "1" {
			t.Fatalf("babeltrace2 is required (%s=1) but not found: %v", RequireBabeltraceEnv, err)
		}
		t.Skip("babeltrace2 not installed")
	}
	return path
}

// RequireChromiumEnv, set to 1 (as CI does), turns a missing chromium from
// a skip into a failure.
const RequireChromiumEnv = "LTTNG_XEN_REQUIRE_CHROMIUM"

// Chromium returns the path of a headless-capable Chromium (Debian's
// chromium, or chromium-browser, google-chrome). When none is installed
// the test is skipped, or fails if RequireChromiumEnv is 1.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv(RequireChromiumEnv) == "1" {
		t.Fatalf("chromium is required (%s=1) but not found (apt-get install chromium)", RequireChromiumEnv)
	}
	t.Skip("chromium not installed (apt-get install chromium): the timeline page is not tested in a browser")
	return ""
}
