package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
)

// Credentials are what a CredentialStore knows about a user: the HA1 values
// of RFC 7616 §3.4.2 (lowercase hex), never the password.
type Credentials struct {
	Username, Domain, HA1MD5, HA1SHA256 string
	// StoreErr is set when the store could not read the user (database down)
	// and returned instead a copy of what it read at ReadAt: the middleware
	// uses it and logs StoreErr (doc.go, "Credential store failures").
	StoreErr error
	ReadAt   time.Time
}

// ErrUnknownUser is returned by a CredentialStore for a user it does not have.
var ErrUnknownUser = errors.New("unknown user")

// CredentialStore looks users up. Credentials returns ErrUnknownUser (possibly
// wrapped) for a user that does not exist, and any other error when it cannot
// tell (database down). It is called once per authentication attempt, from
// many goroutines. While it can read its users it must answer from them, not
// from a cache, if users may change elsewhere; when it cannot, it may return
// a copy read before, marked with Credentials.StoreErr and ReadAt.
type CredentialStore interface {
	Credentials(ctx context.Context, username, domain string) (Credentials, error)
}

// Digest is the SIP digest authentication middleware (RFC 3261 §22).
type Digest struct {
	cfg    Config
	ttlMs  int64
	creds  CredentialStore
	id     *sipserver.Identity
	log    *slog.Logger
	nonces *nonces
	seen   *replayGuard
	stats  counters
}

// New returns a Digest authenticator for the domains of id, looking users up
// in creds. Call cfg.Validate first; New only fills in defaults.
func New(cfg Config, creds CredentialStore, id *sipserver.Identity, log *slog.Logger) *Digest {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	ttl := cfg.NonceTTL.Milliseconds()
	return &Digest{
		cfg: cfg, ttlMs: ttl, creds: creds, id: id, log: log,
		nonces: newNonces(cfg.Secret), seen: newReplayGuard(ttl, ncShardMax),
	}
}

// Middleware returns the middleware that challenges and checks requests. When
// the configuration disables authentication it passes requests on unchanged.
func (d *Digest) Middleware() sipserver.Middleware {
	return func(next sipserver.Handler) sipserver.Handler {
		if d.cfg.Disabled {
			return next
		}
		return sipserver.HandlerFunc(func(ctx context.Context, tx sipserver.ServerTx, req *sip.Message) error {
			ctx, err := d.Authenticate(ctx, tx, req)
			if err != nil {
				return err
			}
			return next.ServeSIP(ctx, tx, req)
		})
	}
}

// Authenticate applies the policy of doc.go to one request. It returns the
// context to serve the request with, or the error (a sipserver.Reject) to
// answer it with.
func (d *Digest) Authenticate(ctx context.Context, tx sipserver.ServerTx, req *sip.Message) (context.Context, error) {
	if m := req.Method(); m == sip.ACK || m == sip.CANCEL {
		return ctx, nil
	}
	if d.trusted(tx.Remote().Addr()) {
		return withTrusted(ctx), nil
	}
	s, ok := d.scopeOf(req)
	if !ok {
		return ctx, nil
	}
	cred, err := credentialsFor(req, s)
	if err != nil {
		d.stats.malformed.Add(1)
		return ctx, sipserver.Reject(400, "Bad "+s.headerName()+" Header: "+err.Error(), "")
	}
	if cred == nil {
		return ctx, d.challenge(s, false)
	}
	if err := d.check(ctx, tx, req, s, cred); err != nil {
		return ctx, err
	}
	d.stats.accepted.Add(1)
	return withUser(ctx, cred.Username, s.realm), nil
}

// Screen answers statelessly, before any transaction exists, a request that
// Authenticate would challenge because it carries no credentials for our
// realm (sipserver.Screen; RFC 3261 §8.2.7, §26.3.2.4): a REGISTER's first
// attempt costs no transaction. INVITE is left to the chain, whose 407 needs
// a transaction to absorb the ACK (§17.2.1); so is a request with any
// credentials header of the scope's kind (for our realm or another, well
// formed or not), which Authenticate parses once; so is a request that
// sane (sipserver.SanityCheck) refuses, which gets the chain's error, not a
// challenge. It does no I/O. remote is the request's source address.
func (d *Digest) Screen(req *sip.Message, remote netip.Addr, sane func(*sip.Message) error) *sipserver.StatusError {
	if d.cfg.Disabled || req.Method() == sip.INVITE || d.trusted(remote) {
		return nil
	}
	s, ok := d.scopeOf(req) // not for ACK and CANCEL
	if !ok || req.Has(s.credentialsHeader()) || sane(req) != nil {
		return nil
	}
	return d.challenge(s, false)
}

// check verifies credentials for our realm, cheapest test first, so that
// forged nonces never reach the credential store.
//
// An unknown user takes the path of a wrong password (doc.go), so that the
// answers cannot tell the two apart: 403, or, with an expired nonce, a new
// challenge with stale=false (RFC 7616 §3.3: stale only for a valid digest).
// Only Config.UnknownUser404 answers an unknown user differently.
func (d *Digest) check(ctx context.Context, tx sipserver.ServerTx, req *sip.Message, s scope, cred *Response) error {
	if !sameURI(cred.URI, req.RequestURI()) {
		d.stats.malformed.Add(1)
		return sipserver.Reject(400, "Bad "+s.headerName()+" Header: uri does not match the Request-URI", "")
	}
	key, ok := d.nonces.check(cred.Nonce, s.realm)
	if !ok {
		d.stats.forged.Add(1)
		return d.challenge(s, false)
	}
	c, known, err := d.lookup(ctx, tx, cred.Username, s.realm)
	if err != nil {
		return err
	}
	now := d.cfg.Now().UnixMilli()
	issued := key.issuedMs()
	expired := now > issued+d.ttlMs || issued > now+d.ttlMs
	if !cred.Verify(c.ha1(cred.Algorithm), string(req.MethodName())) { // an unknown user's empty HA1 never verifies
		if expired {
			return d.challenge(s, false) // RFC 7616 §3.3: stale only with a valid digest
		}
		if !known {
			return d.reject(tx, req, cred, s, "unknown user")
		}
		return d.reject(tx, req, cred, s, "wrong password")
	}
	if expired {
		return d.challenge(s, true)
	}
	if err := d.checkCount(key, cred, s, now); err != nil {
		return err
	}
	if s.proxy && fromUser(req) != cred.Username {
		return d.reject(tx, req, cred, s, "From user is not the authenticated user")
	}
	return nil
}

// lookup fetches a user's credentials. known is false for a user the store
// does not have, whose empty Credentials verify nothing; with
// UnknownUser404 that is the final answer instead. A store failure is the
// final answer (500), unless the store stood in with a copy of credentials it
// read before (Credentials.StoreErr), which is logged and used.
func (d *Digest) lookup(ctx context.Context, tx sipserver.ServerTx, user, realm string) (c Credentials, known bool, err error) {
	if d.creds == nil {
		return c, false, d.storeFailed(user, realm, errors.New("no credential store"))
	}
	c, err = d.creds.Credentials(ctx, user, realm)
	switch {
	case errors.Is(err, ErrUnknownUser) && d.cfg.UnknownUser404:
		d.stats.rejected.Add(1)
		d.log.Info("auth failed", "user", user, "realm", realm, "reason", "unknown user", "src", tx.Remote().String())
		return Credentials{}, false, sipserver.Reject(404, "User Not Found", "")
	case errors.Is(err, ErrUnknownUser):
		return Credentials{}, false, nil
	case err != nil:
		return c, false, d.storeFailed(user, realm, err)
	}
	if c.StoreErr != nil {
		d.stats.storeStale.Add(1)
		d.log.Warn("credential store failed; using the credentials read before", "user", user, "realm", realm,
			"read", c.ReadAt.UTC().Format(time.RFC3339), "err", c.StoreErr)
	}
	return c, true, nil
}

func (d *Digest) storeFailed(user, realm string, err error) error {
	d.stats.storeErrors.Add(1)
	d.log.Error("credential store failed", "user", user, "realm", realm, "err", err)
	return sipserver.Reject(500, "Server Internal Error", "")
}

// checkCount rejects a replayed nonce-count (RFC 7616 §3.4, §5.5). Without qop
// there is no count: the nonce may be reused until it expires.
func (d *Digest) checkCount(key nonceKey, cred *Response, s scope, now int64) error {
	if cred.QOP == "" {
		return nil
	}
	switch d.seen.advance(key, cred.NCValue, now) {
	case ncReplay:
		d.stats.replays.Add(1)
		return d.challenge(s, false)
	case ncForgotten:
		return d.challenge(s, true)
	}
	return nil
}

func (d *Digest) reject(tx sipserver.ServerTx, req *sip.Message, cred *Response, s scope, why string) error {
	d.stats.rejected.Add(1)
	d.log.Info("auth failed", "user", cred.Username, "realm", s.realm, "reason", why,
		"method", string(req.MethodName()), "src", tx.Remote().String())
	return sipserver.Reject(403, "Forbidden", "")
}

// ha1 returns the stored HA1 for algorithm a.
func (c *Credentials) ha1(a Algorithm) string {
	if a == SHA256 {
		return c.HA1SHA256
	}
	return c.HA1MD5
}
