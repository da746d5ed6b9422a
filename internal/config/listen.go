package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Listener is a parsed listen spec: PROTO:HOST:PORT for udp, tcp and tls,
// PROTO:HOST:PORT/PATH for ws and wss (RFC 7118). IPv6 hosts are written
// in brackets. Port 0 asks the kernel for a free port.
type Listener struct {
	Proto string // "udp", "tcp", "tls", "ws" or "wss"
	Host  string // IP address or hostname, without brackets
	Port  uint16
	Path  string // HTTP path for ws and wss ("/" if not given); "" otherwise
}

// ParseListener parses a listen spec such as "udp:0.0.0.0:5060",
// "tls:[::]:5061" or "wss:0.0.0.0:443/sip". The protocol is case-insensitive.
func ParseListener(spec string) (Listener, error) {
	proto, rest, ok := strings.Cut(spec, ":")
	if !ok {
		return Listener{}, fmt.Errorf("invalid listen spec %q: want PROTO:HOST:PORT", spec)
	}
	l := Listener{Proto: strings.ToLower(proto)}
	switch l.Proto {
	case "udp", "tcp", "tls":
		if strings.Contains(rest, "/") {
			return Listener{}, fmt.Errorf("invalid listen spec %q: a path is only allowed for ws and wss", spec)
		}
	case "ws", "wss":
		rest, l.Path = splitPath(rest)
		if err := checkPath(l.Path); err != nil {
			return Listener{}, fmt.Errorf("invalid listen spec %q: %w", spec, err)
		}
	default:
		return Listener{}, fmt.Errorf("invalid listen spec %q: unknown protocol %q (want udp, tcp, tls, ws or wss)", spec, proto)
	}
	var err error
	if l.Host, l.Port, err = splitHostPort(rest, false); err != nil {
		return Listener{}, fmt.Errorf("invalid listen spec %q: %w", spec, err)
	}
	if ip, err := netip.ParseAddr(l.Host); err == nil {
		l.Host = ip.String() // canonical: lowercase, shortest IPv6 form
	}
	return l, nil
}

// splitPath splits "HOST:PORT/PATH" at the first slash. The path is "/"
// when there is none.
func splitPath(s string) (hostport, path string) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i], s[i:]
	}
	return s, "/"
}

// checkPath rejects characters that cannot appear in an HTTP request path.
func checkPath(p string) error {
	for i := range len(p) {
		if c := p[i]; c <= ' ' || c == 0x7f || c == '?' || c == '#' {
			return fmt.Errorf("invalid character %q in path %q", c, p)
		}
	}
	return nil
}

// String returns the canonical spec: lowercase protocol, IPv6 in brackets,
// and the path for ws and wss.
func (l Listener) String() string {
	return l.Proto + ":" + l.Addr() + l.Path
}

// Addr returns HOST:PORT in the form net.Listen expects.
func (l Listener) Addr() string {
	return net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))
}

// Network returns "udp" for udp listeners and "tcp" for the others.
func (l Listener) Network() string {
	if l.Proto == "udp" {
		return "udp"
	}
	return "tcp"
}

// Secure reports whether the listener uses TLS (tls and wss).
func (l Listener) Secure() bool {
	return l.Proto == "tls" || l.Proto == "wss"
}

// checkListen validates c.Listen: at least one spec, each valid, and no two
// binding the same network, host and port (port 0 never clashes).
func checkListen(specs []string) []error {
	if len(specs) == 0 {
		return []error{fieldErr("listen", fmt.Errorf("at least one listener is required"))}
	}
	var errs []error
	bound := map[string]int{}
	for i, s := range specs {
		path := "listen[" + strconv.Itoa(i) + "]"
		l, err := ParseListener(s)
		if err != nil {
			errs = append(errs, fieldErr(path, err))
			continue
		}
		key := l.Network() + " " + l.Addr()
		if j, dup := bound[key]; dup && l.Port != 0 {
			errs = append(errs, fieldErr(path, fmt.Errorf("%s binds the same %s address as listen[%d]", s, l.Network(), j)))
			continue
		}
		bound[key] = i
	}
	return errs
}
