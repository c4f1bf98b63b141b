package relayd

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want URL
		str  string
	}{
		{"net://relay.example.com", URL{Scheme: "net", Host: "relay.example.com", ControlPort: 5342, DataPort: 5343}, "net://relay.example.com:5342:5343"},
		{"net://10.0.0.1:6000", URL{Scheme: "net", Host: "10.0.0.1", ControlPort: 6000, DataPort: 5343}, "net://10.0.0.1:6000:5343"},
		{"net://10.0.0.1:6000:6001", URL{Scheme: "net", Host: "10.0.0.1", ControlPort: 6000, DataPort: 6001}, "net://10.0.0.1:6000:6001"},
		{"net://h:6000:6001/xen/run1", URL{Scheme: "net", Host: "h", ControlPort: 6000, DataPort: 6001, Path: "xen/run1"}, "net://h:6000:6001/xen/run1"},
		{"net://h/", URL{Scheme: "net", Host: "h", ControlPort: 5342, DataPort: 5343}, "net://h:5342:5343"},
		{"net6://[::1]:7000:7001", URL{Scheme: "net6", Host: "::1", ControlPort: 7000, DataPort: 7001}, "net6://[::1]:7000:7001"},
		{"net://[fe80::1]", URL{Scheme: "net", Host: "fe80::1", ControlPort: 5342, DataPort: 5343}, "net://[fe80::1]:5342:5343"},
		{"file:///var/trace", URL{Scheme: "file", Path: "/var/trace"}, "file:///var/trace"},
		{"file://out/", URL{Scheme: "file", Path: "out"}, "file://out"},
	} {
		got, err := ParseURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if s := got.String(); s != tc.str {
			t.Errorf("%q: String() = %q, want %q", tc.in, s, tc.str)
		}
		if again, err := ParseURL(got.String()); err != nil || again != got {
			t.Errorf("%q: String() does not parse back: %+v, %v", tc.in, again, err)
		}
	}
	if u, _ := ParseURL("net://[::1]:1:2"); u.ControlAddr() != "[::1]:1" || u.DataAddr() != "[::1]:2" {
		t.Errorf("addresses %s %s", u.ControlAddr(), u.DataAddr())
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"relay:5342", "want net://"},
		{"", "want net://"},
		{"http://h", `scheme "http"`},
		{"tcp://h:5342", `scheme "tcp"`},
		{"net://", "no host"},
		{"net://:5342", "no host"},
		{"net://bad host", `host "bad host"`},
		{"net://h:0", `port "0"`},
		{"net://h:65536", `port "65536"`},
		{"net://h:x", `port "x"`},
		{"net://h:+5", `port "+5"`},
		{"net://h:", `port ""`},
		{"net://h:1:2:3", "more than two ports"},
		{"net://h:5343", "both 5343"},
		{"net://[::1", "no closing ]"},
		{"net://[nothost]", "not an IPv6 address"},
		{"net://[::1]x", "not :PORT"},
		{"net://h/../up", "leaves the relay's output directory"},
		{"file://", "no directory"},
	} {
		_, err := ParseURL(tc.in)
		if !errors.Is(err, ErrBadURL) {
			t.Errorf("ParseURL(%q): %v, want ErrBadURL", tc.in, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "\""+tc.in+"\"") || strings.Contains(msg, "\n") {
			t.Errorf("ParseURL(%q): %q, want one line naming the URL and %q", tc.in, msg, tc.want)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"net://h:1:2/p", "net6://[::1]", "file:///x", "net://h:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURL(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		if again, err := ParseURL(u.String()); err != nil || again != u {
			t.Errorf("%q parsed to %+v, whose String %q parses to %+v, %v", s, u, u.String(), again, err)
		}
	})
}
