package cmdline

import "testing"

func TestClosest(t *testing.T) {
	cmds := []string{"create", "start", "stop", "destroy", "status", "list", "event", "emit", "cpu"}
	for _, tc := range []struct{ in, want string }{
		{"strat", "start"}, // transposition
		{"destory", "destroy"},
		{"stauts", "status"},
		{"lst", "list"},
		{"STOP", "stop"},
		{"cpus", "cpu"},
		{"xyzzy", ""},
		{"c", ""},         // too short to guess
		{"delete", ""},    // not a typo of anything
		{"stat", "start"}, // one insertion; status needs two
	} {
		if got := Closest(tc.in, cmds); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
