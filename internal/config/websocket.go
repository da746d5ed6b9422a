package config

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// WebSocket configures the ws and wss listeners (RFC 7118).
type WebSocket struct {
	// AllowedOrigins lists the web origins whose pages may open a SIP
	// WebSocket to Parley (the browser's Origin header, RFC 6455 §10.2), as
	// patterns in path.Match syntax, compared without regard to case with
	// the Origin's host[:port], or with its scheme://host[:port] when the
	// pattern has "://": "example.com", "*.example.com",
	// "https://app.example.com:8443". A handshake from any other origin gets
	// 403. A page served from the host the WebSocket is opened to (Origin
	// host equal to Host), and a client that sends no Origin (a SIP phone,
	// not a browser), are always allowed.
	//
	// Empty, the default, allows every origin, as Kamailio's and OpenSIPS's
	// websocket modules do unless the routing script checks Origin: a SIP
	// WebSocket carries no cookies Parley trusts (every request is
	// authenticated by digest), so the check limits which web sites may use
	// the server, it does not protect accounts. Changing it needs a restart.
	AllowedOrigins []string `yaml:"allowed_origins" reload:"restart"`
}

// Validate checks that each origin pattern is well formed and listed once.
func (w WebSocket) Validate() error {
	var errs []error
	seen := map[string]int{}
	for i, p := range w.AllowedOrigins {
		name := "allowed_origins[" + strconv.Itoa(i) + "]"
		if err := checkOriginPattern(p); err != nil {
			errs = append(errs, fieldErr(name, err))
			continue
		}
		if j, ok := seen[strings.ToLower(p)]; ok {
			errs = append(errs, fieldErr(name, fmt.Errorf("%q repeats allowed_origins[%d]", p, j)))
			continue
		}
		seen[strings.ToLower(p)] = i
	}
	return errors.Join(errs...)
}

// checkOriginPattern accepts a path.Match pattern for host[:port], or for
// scheme://host[:port]; nothing may follow the host.
func checkOriginPattern(p string) error {
	host := p
	if scheme, h, ok := strings.Cut(p, "://"); ok {
		if scheme == "" || strings.ContainsAny(scheme, " \t\r\n/") {
			return fmt.Errorf("%q: want a host pattern such as *.example.com, or scheme://host[:port]", p)
		}
		host = h
	}
	if host == "" || strings.ContainsAny(host, " \t\r\n/") {
		return fmt.Errorf("%q: want a host pattern such as *.example.com, or scheme://host[:port]", p)
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("%q: %v", p, err)
	}
	return nil
}
