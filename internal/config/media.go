package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Media configures the media relay Parley drives for calls between WebRTC
// (browsers: DTLS-SRTP, ICE) and plain RTP (SIP phones), which cannot send
// media to each other directly.
type Media struct {
	// RTPEngine is the ng control address of rtpengine, "udp:HOST:PORT"
	// (HOST an IP address, IPv6 in brackets, or a name). Empty (the
	// default): no relay, and a call that needs one gets 488.
	RTPEngine string `yaml:"rtpengine"`
	// Timeout is how long each try waits for rtpengine's reply. Default
	// 500ms; 10ms to 10s.
	Timeout Duration `yaml:"timeout"`
	// Tries is how many times a command is sent before rtpengine counts as
	// unreachable (the call then gets 503 with Retry-After). Default 3; 1 to 10.
	Tries int `yaml:"tries"`
}

// DefaultMedia returns the media relay defaults (no relay).
func DefaultMedia() Media {
	return Media{Timeout: Duration(500 * time.Millisecond), Tries: 3}
}

// Validate checks the rtpengine address, the timeout and the tries.
func (m Media) Validate() error {
	var errs []error
	if m.RTPEngine != "" {
		if err := checkRTPEngine(m.RTPEngine); err != nil {
			errs = append(errs, fieldErr("rtpengine", err))
		}
	}
	if m.Timeout < Duration(10*time.Millisecond) || m.Timeout > Duration(10*time.Second) {
		errs = append(errs, fieldErr("timeout", fmt.Errorf("%s out of range 10ms-10s", m.Timeout)))
	}
	if m.Tries < 1 || m.Tries > 10 {
		errs = append(errs, fieldErr("tries", fmt.Errorf("%d out of range 1-10", m.Tries)))
	}
	return errors.Join(errs...)
}

// checkRTPEngine accepts "udp:HOST:PORT", the form Kamailio's rtpengine_sock
// uses (rtpengine's ng protocol over UDP).
func checkRTPEngine(s string) error {
	rest, ok := strings.CutPrefix(s, "udp:")
	if !ok {
		return fmt.Errorf("%q: want udp:HOST:PORT, such as udp:127.0.0.1:2223", s)
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil || host == "" {
		return fmt.Errorf("%q: want udp:HOST:PORT, such as udp:127.0.0.1:2223", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q is not 1-65535", s, port)
	}
	return nil
}
