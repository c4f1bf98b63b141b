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

// RequireRelaydEnv, set to 1 (as CI does), turns a missing lttng-relayd
// from a skip into a failure.
const RequireRelaydEnv = "LTTNG_XEN_REQUIRE_RELAYD"

// Relayd returns the path of lttng-relayd (Debian's lttng-tools). When it
// is not installed the test is skipped, or fails if RequireRelaydEnv is 1.
func Relayd(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("lttng-relayd")
	if err != nil {
		if os.Getenv(RequireRelaydEnv) == "1" {
			t.Fatalf("lttng-relayd is required (%s=1) but not found: %v", RequireRelaydEnv, err)
		}
		t.Skip("lttng-relayd not installed (apt-get install lttng-tools)")
	}
	return path
}
