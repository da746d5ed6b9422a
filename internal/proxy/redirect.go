package proxy

import (
	"strconv"
	"strings"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
)

// redirects reports whether requests for host are answered with 302 instead
// of being forwarded: the whole server is a redirect server, or host is one of
// Config.RedirectDomains.
func (p *Proxy) redirects(host []byte) bool {
	return p.cfg.Redirect || len(p.redirDom) > 0 && p.redirDom[strings.TrimSuffix(strings.ToLower(string(host)), ".")]
}

// redirect answers 302 with the targets as contacts, q and expiry kept
// (§8.3.1, §21.3.3). A target that keeps the Request-URI and names no
// contact of its own (a foreign domain) sends the caller to the Request-URI.
func redirect(tx sipserver.ServerTx, req *sip.Message, ts []target) error {
	var b strings.Builder
	for _, t := range ts {
		uri := t.uri
		if uri == "" {
			uri = string(req.RequestURI())
		}
		b.WriteString("Contact: <" + uri + ">")
		if t.q != 1000 {
			b.WriteString(";q=" + formatQ(t.q))
		}
		if t.expires > 0 {
			b.WriteString(";expires=" + strconv.Itoa(t.expires))
		}
		b.WriteString("\r\n")
	}
	return tx.Reply(302, "", []byte(b.String()))
}

// routeContact is the dialed user at a static route's gateway: to (a sip: or
// sips: URI, validated by the configuration) with user as its user part, in
// place of any user it has; its parameters are kept and its headers dropped.
func routeContact(to, user string) string {
	u, err := sip.ParseURI([]byte(to))
	if err != nil || !u.IsSIP() || user == "" {
		return to
	}
	var b strings.Builder
	b.Write(u.Scheme)
	b.WriteString(":" + user + "@")
	b.Write(u.Host)
	if u.Port != 0 {
		b.WriteString(":" + strconv.Itoa(u.Port))
	}
	b.Write(u.Params)
	return b.String()
}

// isTel reports whether u is a tel: URI (RFC 3966).
func isTel(u *sip.URI) bool { return len(u.Scheme) == 3 && strings.EqualFold(string(u.Scheme), "tel") }

// telNumber is the number of a tel: URI without its parameters and visual
// separators ("-", ".", "(", ")"; RFC 3966 §5.1.1), e.g. "+12015550123" for
// tel:+1-201-555-0123;phone-context=example.com.
func telNumber(u *sip.URI) string {
	num, _, _ := strings.Cut(string(u.Opaque), ";")
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("-.()", r) {
			return -1
		}
		return r
	}, num)
}
