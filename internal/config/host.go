package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// splitHostPort splits "HOST:PORT" or "[IPv6]:PORT". The host may be
// empty only if emptyOK; a bracketed host must be an IPv6 address.
func splitHostPort(hp string, emptyOK bool) (string, uint16, error) {
	if strings.Count(hp, ":") > 1 && !strings.HasPrefix(hp, "[") {
		return "", 0, errors.New("IPv6 address must be in brackets, as in [::1]:5060")
	}
	host, p, err := net.SplitHostPort(hp)
	if err != nil {
		if ae, ok := errors.AsType[*net.AddrError](err); ok {
			return "", 0, fmt.Errorf("want HOST:PORT: %s", ae.Err)
		}
		return "", 0, err
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("invalid port %q (want 0-65535)", p)
	}
	if host == "" && emptyOK {
		return "", uint16(port), nil
	}
	return host, uint16(port), checkHost(host, strings.HasPrefix(hp, "["))
}

// checkHost validates an IP address or a hostname. A host that was written
// in brackets must be an IPv6 address.
func checkHost(host string, bracketed bool) error {
	if host == "" {
		return errors.New("missing host")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if bracketed && !ip.Is6() {
			return fmt.Errorf("brackets are only for IPv6 addresses, not %q", host)
		}
		return nil
	}
	if bracketed || !validHostname(host) {
		return fmt.Errorf("invalid host %q", host)
	}
	return nil
}

// validHostname reports whether s is a hostname as RFC 3261 §25.1 defines it:
//
//	hostname    = *( domainlabel "." ) toplabel [ "." ]
//	domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum
//	toplabel    = ALPHA / ALPHA *( alphanum / "-" ) alphanum
//
// with the RFC 1035 length limits (63 per label, 253 in all).
func validHostname(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if !validLabel(l) {
			return false
		}
	}
	return isAlpha(labels[len(labels)-1][0])
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := range len(l) {
		if c := l[i]; !isAlpha(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// canonicalDomain returns d as it appears in a SIP URI host (RFC 3261
// §25.1): hostnames lowercased without a trailing dot, IPv6 addresses in
// brackets. It returns an error if d is neither a hostname nor an IP.
func canonicalDomain(d string) (string, error) {
	bare, bracketed := strings.CutPrefix(d, "[")
	if bracketed {
		var ok bool
		if bare, ok = strings.CutSuffix(bare, "]"); !ok {
			return "", fmt.Errorf("invalid host %q", d)
		}
	}
	if ip, err := netip.ParseAddr(bare); err == nil {
		switch {
		case ip.Zone() != "":
			return "", fmt.Errorf("IPv6 zone not allowed in %q", d)
		case ip.Is6():
			return "[" + ip.String() + "]", nil
		case bracketed:
			return "", fmt.Errorf("brackets are only for IPv6 addresses, not %q", bare)
		}
		return ip.String(), nil
	}
	if bracketed || !validHostname(bare) {
		return "", fmt.Errorf("invalid host %q", d)
	}
	return strings.ToLower(strings.TrimSuffix(bare, ".")), nil
}

// checkAdvertise validates "host", "host:port", "[IPv6]" or "[IPv6]:port".
func checkAdvertise(s string) error {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return checkHost(s[1:len(s)-1], true)
	}
	if !strings.Contains(s, ":") {
		return checkHost(s, false)
	}
	_, port, err := splitHostPort(s, false)
	if err == nil && port == 0 {
		err = errors.New("port must be 1-65535")
	}
	return err
}

// checkHTTP validates the management listener address: "" or "off", or
// HOST:PORT where HOST may be empty (all interfaces).
func checkHTTP(s string) error {
	if s == "" || strings.EqualFold(s, "off") {
		return nil
	}
	_, _, err := splitHostPort(s, true)
	return err
}
