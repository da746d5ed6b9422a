package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// DefaultNonceTTL is how long a nonce is accepted when Config.NonceTTL is 0.
const DefaultNonceTTL = 5 * time.Minute

// Config configures a Digest authenticator.
type Config struct {
	// NonceTTL is how long a nonce is accepted; default 5m. A request with an
	// expired nonce but a correct digest gets a new challenge with stale=true.
	NonceTTL time.Duration
	// Secret is the HMAC key of nonces; 32 random bytes when nil. Instances
	// sharing a database and a domain pass the same secret, so that a nonce
	// issued by one is accepted by the others.
	Secret []byte
	// UnknownUser404 answers "404 User Not Found" for a user the store does not
	// know (auth.unknown_user: "404"). By default an unknown user gets the same
	// 403 as a wrong password, so users cannot be enumerated.
	UnknownUser404 bool
	// Trusted source networks are not challenged (like Kamailio's permissions module).
	Trusted []netip.Prefix
	// Algorithms are offered in this order, one challenge header each (RFC 8760
	// §2.4: the order is the server's preference). Default MD5 then SHA-256:
	// clients that read only the first challenge (sipsak 0.9.8, many older
	// phones) then still register, and RFC 8760 clients can pick SHA-256.
	Algorithms []Algorithm
	// MD5OnlyAgents lists User-Agent substrings of clients that fail when a
	// challenge names an algorithm they do not know, even with an MD5 one
	// beside it (RFC 8760 §2.4 says they should pick the one they support):
	// they are offered MD5 alone. Debian 12's baresip 1.0.0 is one; JsSIP and
	// SIP.js keep only the last WWW-Authenticate of a response and abort
	// unless it is MD5.
	MD5OnlyAgents []string
	// Disabled turns authentication off (--auth=false): the middleware passes
	// every request on unchanged.
	Disabled bool
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

// Validate checks the configuration on its own.
func (c *Config) Validate() error {
	var errs []error
	if c.NonceTTL < 0 {
		errs = append(errs, fmt.Errorf("auth.nonce_ttl %v: must not be negative", c.NonceTTL))
	} else if c.NonceTTL > 0 && c.NonceTTL < 10*time.Second {
		errs = append(errs, fmt.Errorf("auth.nonce_ttl %v: too short for a phone to answer (at least 10s)", c.NonceTTL))
	}
	if c.Secret != nil && len(c.Secret) < 16 {
		errs = append(errs, fmt.Errorf("auth.secret: %d bytes, need at least 16", len(c.Secret)))
	}
	for _, p := range c.Trusted {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("auth.trusted: invalid prefix %v", p))
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.NonceTTL <= 0 {
		c.NonceTTL = DefaultNonceTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = []Algorithm{MD5, SHA256}
	}
	if c.Secret == nil {
		c.Secret = randomSecret()
	}
	c.Trusted = append([]netip.Prefix(nil), c.Trusted...)
	for i, p := range c.Trusted {
		c.Trusted[i] = p.Masked()
	}
	return c
}

func randomSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go 1.24)
	return b
}
