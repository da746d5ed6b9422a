package auth

import (
	"errors"
	"net/netip"
	"strings"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
)

// scope says how a request is authenticated: the realm, and whether as a
// registrar (401, WWW-Authenticate, Authorization) or as a proxy (407,
// Proxy-Authenticate, Proxy-Authorization).
type scope struct {
	realm   string
	proxy   bool
	md5Only bool // the client is known to fail on a challenge it cannot use (Config.MD5OnlyAgents)
}

func (s scope) credentialsHeader() sip.HeaderKind {
	if s.proxy {
		return sip.HdrProxyAuthorization
	}
	return sip.HdrAuthorization
}

func (s scope) headerName() string { return s.credentialsHeader().String() }

// scopeOf decides whether req is challenged at all (see doc.go for the policy).
func (d *Digest) scopeOf(req *sip.Message) (scope, bool) {
	s, ok := d.scopeOfRequest(req)
	if ok && len(d.cfg.MD5OnlyAgents) > 0 {
		ua := strings.ToLower(string(req.Get(sip.HdrUserAgent)))
		for _, a := range d.cfg.MD5OnlyAgents {
			if a != "" && strings.Contains(ua, strings.ToLower(a)) {
				s.md5Only = true
			}
		}
	}
	return s, ok
}

func (d *Digest) scopeOfRequest(req *sip.Message) (scope, bool) {
	switch {
	case req.Method() == sip.ACK || req.Method() == sip.CANCEL:
		return scope{}, false // §22.1: cannot be resubmitted, never challenged
	case len(req.ToTag) > 0:
		return scope{}, false // in-dialog: the dialog was authenticated when it was set up
	case req.Method() == sip.REGISTER:
		if s, ok := d.registerScope(req); ok {
			return s, true
		}
	case req.Method() == sip.OPTIONS && d.id.IsForUs(req):
		return scope{}, false // a keepalive or capability query to Parley itself (§11)
	}
	host := hostOf(req.From.URI)
	if host != nil && d.id.IsDomain(host) {
		return scope{realm: strings.ToLower(string(host)), proxy: true}, true
	}
	return scope{}, false
}

// registerScope is the registrar's realm: the Request-URI host when it is one
// of our domains (§10.3 step 1), or the To host when the Request-URI names
// Parley some other way (an IP address).
func (d *Digest) registerScope(req *sip.Message) (scope, bool) {
	if h := hostOf(req.RequestURI()); h != nil && d.id.IsDomain(h) {
		return scope{realm: strings.ToLower(string(h))}, true
	}
	if h := hostOf(req.To.URI); h != nil && d.id.IsDomain(h) && d.id.IsForUs(req) {
		return scope{realm: strings.ToLower(string(h))}, true
	}
	return scope{}, false
}

// hostOf returns the host of a sip or sips URI, or nil.
func hostOf(uri []byte) []byte {
	u, err := sip.ParseURI(uri)
	if err != nil || !u.IsSIP() {
		return nil
	}
	return u.Host
}

// fromUser returns the unescaped user part of the From URI.
func fromUser(req *sip.Message) string {
	u, err := sip.ParseURI(req.From.URI)
	if err != nil {
		return ""
	}
	return unescape(u.User)
}

func (d *Digest) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range d.cfg.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// credentialsFor returns the first Digest credentials of the scope's header
// whose realm is ours (RFC 3261 §22.3: values for other realms belong to other
// proxies). Malformed credentials for our realm, or whose realm cannot be
// told, are an error when nothing usable is found.
func credentialsFor(req *sip.Message, s scope) (*Response, error) {
	k := s.credentialsHeader()
	hs := req.Headers()
	var bad error
	for i := range hs {
		if hs[i].Kind != k {
			continue
		}
		r, err := ParseCredentials(req.HeaderValue(&hs[i]))
		switch {
		case errors.Is(err, ErrNotDigest):
		case r != nil && r.Realm != "" && !strings.EqualFold(r.Realm, s.realm):
		case err != nil:
			if bad == nil {
				bad = err
			}
		default:
			return r, nil
		}
	}
	return nil, bad
}

// challenge answers 401 or 407 with one header per algorithm in the order of
// Config.Algorithms (RFC 8760 §2.3-§2.4), all with the same fresh nonce and qop="auth".
func (d *Digest) challenge(s scope, stale bool) *sipserver.StatusError {
	d.stats.challenges.Add(1)
	if stale {
		d.stats.stale.Add(1)
	}
	nonce := d.nonces.issue(d.cfg.Now(), s.realm)
	code, name := 401, "WWW-Authenticate"
	if s.proxy {
		code, name = 407, "Proxy-Authenticate"
	}
	var b strings.Builder
	algs := d.cfg.Algorithms
	if s.md5Only {
		algs = []Algorithm{MD5}
	}
	for _, alg := range algs {
		b.WriteString(name)
		b.WriteString(`: Digest realm="`)
		b.WriteString(quote(s.realm))
		b.WriteString(`", nonce="`)
		b.WriteString(nonce)
		b.WriteString(`", algorithm=`)
		b.WriteString(alg.String())
		b.WriteString(`, qop="auth"`)
		if stale {
			b.WriteString(", stale=true")
		}
		b.WriteString("\r\n")
	}
	// Answered statelessly except to an INVITE (sipserver.StatusError.Forget).
	return &sipserver.StatusError{Code: code, Extra: []byte(b.String()), Forget: true}
}

// quote escapes '"' and '\' for a quoted-string.
func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
