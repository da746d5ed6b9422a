package transport

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Spec is a parsed listen address such as "ws:127.0.0.1:8080/sip".
type Spec struct {
	Proto Proto
	Host  string // IP literal or name; "" binds all interfaces dual-stack, "0.0.0.0" IPv4 only, "::" IPv6 only
	Port  int
	Path  string // WS/WSS only: the upgrade request path; "/" (the default) accepts any path
}

// String formats s back into the form ParseListenSpec accepts.
func (s Spec) String() string {
	hp := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	return strings.ToLower(s.Proto.String()) + ":" + hp + s.Path
}

// ParseListenSpec parses "PROTO:HOST:PORT" for udp, tcp and tls, and
// "PROTO:HOST:PORT/PATH" for ws and wss. An IPv6 host is written in
// brackets ("udp:[::1]:5060"). The port is required (0 picks a free one);
// the path defaults to "/" and is only allowed for ws and wss.
func ParseListenSpec(s string) (Spec, error) {
	name, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Spec{}, fmt.Errorf("listen spec %q: want PROTO:HOST:PORT", s)
	}
	p, ok := ParseProto(name)
	if !ok {
		return Spec{}, fmt.Errorf("listen spec %q: unknown protocol %q (want udp, tcp, tls, ws or wss)", s, name)
	}
	spec := Spec{Proto: p}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest, spec.Path = rest[:i], rest[i:]
		if !p.websocket() {
			return Spec{}, fmt.Errorf("listen spec %q: a path is only allowed for ws and wss", s)
		}
	} else if p.websocket() {
		spec.Path = "/"
	}
	host, port, err := splitHostPort(rest)
	if err != nil {
		return Spec{}, fmt.Errorf("listen spec %q: %w", s, err)
	}
	spec.Host, spec.Port = host, port
	return spec, nil
}

// splitHostPort splits "HOST:PORT" and checks the port range.
func splitHostPort(hp string) (string, int, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, fmt.Errorf("bad HOST:PORT %q (IPv6 goes in brackets)", hp)
	}
	if strings.ContainsAny(host, "[]") {
		return "", 0, fmt.Errorf("bad host %q", host)
	}
	if ps == "" {
		return "", 0, errors.New("missing port")
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q (want 0-65535)", ps)
	}
	return host, port, nil
}
