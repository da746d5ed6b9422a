package config

import (
	"errors"
	"fmt"
	"time"
)

// Limits bounds what one peer or the whole server may consume.
type Limits struct {
	// MaxMessageSize is the largest SIP message accepted, in bytes.
	// Default 65535 (the largest UDP datagram); 1500 to 16 MiB.
	MaxMessageSize int `yaml:"max_message_size"`
	// MaxHeaders is the most header fields one message may carry.
	// Default 128; 1 to 1024.
	MaxHeaders int `yaml:"max_headers"`
	// MaxConnsPerIP caps concurrent TCP, TLS and WebSocket connections
	// from one source address. Default 256.
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// IdleTimeout closes a stream connection that carried no message for
	// this long. Default 10m.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// HandshakeTimeout bounds the TLS and WebSocket handshakes. Default 5s.
	HandshakeTimeout Duration `yaml:"handshake_timeout"`
	// MaxTransactions caps the transactions at work: server transactions
	// that have not answered yet, and client transactions. New requests
	// beyond it are answered 503. Default 200000.
	MaxTransactions int `yaml:"max_transactions"`
	// MaxAnsweredTransactions caps the server transactions that have sent
	// their final response and linger only to absorb retransmissions (Timer
	// J: 32 s over UDP, RFC 3261 §17.2.2; about 1.1 KB each). Beyond it a
	// non-INVITE server transaction ends as soon as it answers, so that
	// memory stays bounded without refusing requests; a retransmission
	// then gets a fresh answer. Answered INVITE transactions are not ended
	// early: with max_transactions + max_answered_transactions alive in
	// all, new requests get 503. Default 500000.
	MaxAnsweredTransactions int `yaml:"max_answered_transactions"`
	// CaptureMessages is how many recent SIP messages (in and out) the
	// capture buffer keeps for the web console's ladder diagrams; 0
	// disables capture. Default 10000; at most 1000000. It sizes a buffer
	// that exists from the start, so changing it needs a restart.
	CaptureMessages int `yaml:"capture_messages" reload:"restart"`
}

// maxMessageSize is the upper bound accepted for Limits.MaxMessageSize.
const maxMessageSize = 16 << 20

// maxCaptureMessages is the upper bound accepted for Limits.CaptureMessages.
const maxCaptureMessages = 1_000_000

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{
		MaxMessageSize:          65535,
		MaxHeaders:              128,
		MaxConnsPerIP:           256,
		IdleTimeout:             Duration(10 * time.Minute),
		HandshakeTimeout:        Duration(5 * time.Second),
		MaxTransactions:         200000,
		MaxAnsweredTransactions: 500000,
		CaptureMessages:         10000,
	}
}

// Validate checks every limit against its range.
func (l Limits) Validate() error {
	var errs []error
	check := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, fieldErr(name, fmt.Errorf("must be between %d and %d, got %d", lo, hi, v)))
		}
	}
	check("max_message_size", l.MaxMessageSize, 1500, maxMessageSize)
	check("max_headers", l.MaxHeaders, 1, 1024)
	check("max_conns_per_ip", l.MaxConnsPerIP, 1, 1<<20)
	check("max_transactions", l.MaxTransactions, 1, 1<<30)
	check("max_answered_transactions", l.MaxAnsweredTransactions, 1, 1<<30)
	check("capture_messages", l.CaptureMessages, 0, maxCaptureMessages)
	positive := func(name string, d Duration) {
		if d <= 0 {
			errs = append(errs, fieldErr(name, fmt.Errorf("must be greater than 0, got %s", d)))
		}
	}
	positive("idle_timeout", l.IdleTimeout)
	positive("handshake_timeout", l.HandshakeTimeout)
	return errors.Join(errs...)
}
