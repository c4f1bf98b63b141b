package tests

import (
	"path/filepath"
	"testing"
	"time"
)

// A quiet trace reaches the consumer while it runs when a switch timer is
// set, and does not without one (the sub-buffer is far from full).
func TestSwitchTimerDeliversQuietTrace(t *testing.T) {
	for _, tc := range []struct {
		timer string
		want  bool
	}{{"100ms", true}, {"0", false}} {
		t.Run("timer="+tc.timer, func(t *testing.T) {
			s := newSession(t)
			s.startDaemons([]string{"--cpus", "1", "--rate", "200"})
			s.ctl("create", "--subbuf-size", "1MiB", "--num-subbuf", "4", "--switch-timer", tc.timer)
			lttd := s.startConsumer(filepath.Join(t.TempDir(), "trace"))
			s.ctl("start")
			time.Sleep(800 * time.Millisecond)
			st := s.status()
			if got := st.PacketsDelivered > 0 && st.PacketsConsumed > 0; got != tc.want {
				t.Errorf("while tracing with --switch-timer %s: %d packets delivered, %d consumed", tc.timer, st.PacketsDelivered, st.PacketsConsumed)
			}
			s.ctl("destroy")
			if code := s.wait(lttd, 30*time.Second); code != 0 {
				t.Errorf("lttd-xen exit %d", code)
			}
		})
	}
}
