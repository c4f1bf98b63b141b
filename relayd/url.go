package relayd

import (
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
)

// Default relay ports (lttng-relayd's defaults).
const (
	DefaultControlPort = 5342
	DefaultDataPort    = 5343
	DefaultLivePort    = 5344
)

// URL is a trace destination in LTTng's URL syntax:
//
//	net://HOST[:CONTROL_PORT[:DATA_PORT]][/PATH]   a relay (net6:// likewise)
//	file://PATH                                    a local directory
//
// HOST is a name, an IPv4 address or an IPv6 address in brackets. PATH of
// a net URL is the trace's directory under the relay's HOSTNAME directory
// (default: the session name).
type URL struct {
	Scheme      string // "net", "net6" or "file"
	Host        string // relay host (net, net6), without brackets
	ControlPort int    // relay control port (net, net6)
	DataPort    int    // relay data port (net, net6)
	Path        string // directory (file); trace path under the host directory, or "" (net, net6)
}

// ParseURL parses a destination URL. Errors wrap ErrBadURL, name the URL
// and say what is wrong, on one line.
func ParseURL(s string) (URL, error) {
	bad := func(format string, args ...any) (URL, error) {
		return URL{}, fmt.Errorf("%w %q: %s", ErrBadURL, s, fmt.Sprintf(format, args...))
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return bad("want net://HOST[:CONTROL_PORT[:DATA_PORT]] or file://PATH")
	}
	switch scheme {
	case "file":
		if rest == "" {
			return bad("no directory after file://")
		}
		if strings.IndexByte(rest, 0) >= 0 {
			return bad("path contains NUL")
		}
		return URL{Scheme: scheme, Path: path.Clean(rest)}, nil
	case "net", "net6":
	default:
		return bad("scheme %q is not net, net6 or file", scheme)
	}
	hostPorts, tracePath, _ := strings.Cut(rest, "/")
	u := URL{Scheme: scheme, ControlPort: DefaultControlPort, DataPort: DefaultDataPort}
	var ports string
	if strings.HasPrefix(hostPorts, "[") {
		end := strings.IndexByte(hostPorts, ']')
		if end < 0 {
			return bad("IPv6 address has no closing ]")
		}
		u.Host, ports = hostPorts[1:end], hostPorts[end+1:]
		if net.ParseIP(u.Host) == nil || !strings.Contains(u.Host, ":") {
			return bad("%q is not an IPv6 address", u.Host)
		}
		if ports != "" && ports[0] != ':' {
			return bad("%q after the IPv6 address is not :PORT", ports)
		}
	} else {
		i := strings.IndexByte(hostPorts, ':')
		if i < 0 {
			i = len(hostPorts)
		}
		u.Host, ports = hostPorts[:i], hostPorts[i:]
		if !validHost(u.Host) {
			if u.Host == "" {
				return bad("no host")
			}
			return bad("host %q is not a host name or address", u.Host)
		}
	}
	if ports != "" {
		fields := strings.Split(ports[1:], ":")
		if len(fields) > 2 {
			return bad("more than two ports")
		}
		for i, f := range fields {
			p, err := strconv.Atoi(f)
			if err != nil || p < 1 || p > 65535 || f[0] == '+' {
				return bad("port %q is not a number from 1 to 65535", f)
			}
			if i == 0 {
				u.ControlPort = p
			} else {
				u.DataPort = p
			}
		}
	}
	if u.ControlPort == u.DataPort {
		return bad("control and data ports are both %d", u.ControlPort)
	}
	if tracePath != "" {
		if strings.IndexByte(tracePath, 0) >= 0 {
			return bad("path contains NUL")
		}
		clean := path.Clean(tracePath)
		if clean == ".." || strings.HasPrefix(clean, "../") {
			return bad("path %q leaves the relay's output directory", tracePath)
		}
		if clean != "." {
			u.Path = clean
		}
	}
	return u, nil
}

// validHost accepts host names (letters, digits, '-', '.', '_') and IPv4
// addresses.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// IsFile reports whether u is a local directory (file://).
func (u URL) IsFile() bool { return u.Scheme == "file" }

// ControlAddr is the relay's control address, for net.Dial.
func (u URL) ControlAddr() string { return net.JoinHostPort(u.Host, strconv.Itoa(u.ControlPort)) }

// DataAddr is the relay's data address, for net.Dial.
func (u URL) DataAddr() string { return net.JoinHostPort(u.Host, strconv.Itoa(u.DataPort)) }

// String returns u in the syntax ParseURL reads, with both ports.
func (u URL) String() string {
	if u.IsFile() {
		return "file://" + u.Path
	}
	host := u.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	s := fmt.Sprintf("%s://%s:%d:%d", u.Scheme, host, u.ControlPort, u.DataPort)
	if u.Path != "" {
		s += "/" + u.Path
	}
	return s
}
