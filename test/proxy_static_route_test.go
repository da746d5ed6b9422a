package test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/parley-sip/parley/internal/config"
)

// reloadWith applies edit to a copy of the running configuration and reloads
// it (SIGHUP's path), for settings that need an address known only once the
// server runs, such as a static route to a test gateway.
func reloadWith(t *testing.T, s *server, edit func(*config.Config)) {
	t.Helper()
	cfg := s.app.Config().Clone()
	edit(cfg)
	if err := s.app.Reload(cfg); err != nil {
		t.Fatalf("reload: %v", err)
	}
}

// gateway opens an unregistered UDP phone acting as a PSTN gateway, and
// returns it with the route URI that reaches it.
func gateway(t *testing.T, s *server) (*phone, string) {
	t.Helper()
	gw := newPhone(t, s, "udp", uniq("gw"))
	return gw, "sip:" + gw.local.String() + ";transport=udp"
}

var viaSentBy = regexp.MustCompile(`(?m)^Via: SIP/2.0/(\w+) [^;]+;branch=(\S+?);rport\r$`)

// sendBareVia sends a request of d whose top Via names a port nothing
// listens on and asks for no rport (RFC 3581), as a TCP phone listening
// elsewhere than the port it sends from may write it: a response relayed
// by that Via would be lost, so it must go back on the request's connection
// (§18.2.2).
func sendBareVia(t *testing.T, d *dialog, method string, o msgOpts) *sipMsg {
	t.Helper()
	m := viaSentBy.ReplaceAllString(d.build(method, o), "Via: SIP/2.0/$1 127.0.0.1:9;branch=$2\r")
	d.p.send(t, m)
	msg := parseMsg(m)
	if method == "INVITE" {
		d.invite = msg
	}
	return msg
}

func branchOf(m *sipMsg) string { return paramOf(m.list("Via")[0], "branch") }

// checkOnlyVia checks a response relayed to the sender of req: only req's
// own Via is left (§16.7 step 3).
func checkOnlyVia(t *testing.T, res, req *sipMsg) {
	t.Helper()
	if vias := res.list("Via"); len(vias) != 1 || paramOf(vias[0], "branch") != branchOf(req) {
		t.Errorf("%d response carries Via %q, want only the caller's (branch %s)", res.code(), vias, branchOf(req))
	}
}

// TestProxyRFC3261s16_11_StatelessRoute: a static route with stateless: true
// forwards without transaction state (§16.11), like Kamailio's forward(): the
// Request-URI is kept, the branch is derived from the caller's so that the
// CANCEL and the ACK for a non-2xx, forwarded the same way, carry the
// INVITE's and the gateway matches them; responses go back by our Via, over
// the caller's connection for TCP; an answered call is record-routed, so its
// ACK and BYE follow the dialog like any other.
func TestProxyRFC3261s16_11_StatelessRoute(t *testing.T) {
	s := proxyServer(t, nil)
	gw, to := gateway(t, s)
	reloadWith(t, s, func(c *config.Config) {
		c.Proxy.Routes = []config.Route{{User: `^9[0-9]{3}$`, To: to, Stateless: true}}
	})
	for _, key := range []string{"udp", "tcp"} {
		t.Run(key, func(t *testing.T) {
			alice := newPhone(t, s, key, uniq("alice"))
			alice.register(t, "")
			invite := func(d *dialog) *sipMsg {
				if key == "tcp" {
					sendBareVia(t, d, "INVITE", sdp(false))
				} else {
					d.send(t, "INVITE", sdp(false))
				}
				in := gw.request(t, "INVITE")
				if in.ruri() != d.target {
					t.Errorf("gateway got Request-URI %q, want %q kept", in.ruri(), d.target)
				}
				if b := branchOf(in); !strings.HasPrefix(b, "z9hG4bKsl") {
					t.Errorf("top Via branch %q: not a stateless branch of Parley's", b)
				}
				return in
			}
			t.Run("180, 486 and ACK", func(t *testing.T) {
				call := alice.call("sip:9001@example.test")
				in := invite(call)
				gw.reply(t, in, 180, "Ringing", msgOpts{})
				checkOnlyVia(t, alice.response(t, 180, "INVITE"), call.invite)
				sent := gw.reply(t, in, 486, "Busy Here", msgOpts{})
				res := alice.final(t, "INVITE")
				if res.code() != 486 {
					t.Fatalf("caller got %q, want 486", res.start)
				}
				checkOnlyVia(t, res, call.invite)
				call.ackFinal(t, res)
				ack := gw.request(t, "ACK")
				if branchOf(ack) != branchOf(in) || ack.ruri() != in.ruri() || toTag(ack.raw) != toTag(sent.raw) {
					t.Errorf("ACK for the 486: branch %q Request-URI %q To tag %q; want the INVITE's %q, %q and %q (§17.1.1.3)",
						branchOf(ack), ack.ruri(), toTag(ack.raw), branchOf(in), in.ruri(), toTag(sent.raw))
				}
			})
			t.Run("CANCEL", func(t *testing.T) {
				call := alice.call("sip:9002@example.test")
				in := invite(call)
				gw.reply(t, in, 180, "Ringing", msgOpts{})
				alice.response(t, 180, "INVITE")
				call.cancel(t)
				cancel := gw.request(t, "CANCEL")
				if branchOf(cancel) != branchOf(in) || cancel.ruri() != in.ruri() {
					t.Errorf("CANCEL branch %q Request-URI %q; want the INVITE's %q and %q (§9.1)",
						branchOf(cancel), cancel.ruri(), branchOf(in), in.ruri())
				}
				gw.reply(t, cancel, 200, "OK", msgOpts{})
				alice.response(t, 200, "CANCEL")
				gw.reply(t, in, 487, "Request Terminated", msgOpts{})
				res := alice.final(t, "INVITE")
				if res.code() != 487 {
					t.Fatalf("caller got %q, want 487", res.start)
				}
				call.ackFinal(t, res)
				gw.request(t, "ACK")
			})
			t.Run("200, ACK and BYE", func(t *testing.T) {
				call := alice.call("sip:9003@example.test")
				in := invite(call)
				if rr := in.list("Record-Route"); len(rr) == 0 || !strings.Contains(rr[0], ";ps=") {
					t.Errorf("Record-Route %q: want Parley's, signed", rr)
				}
				gd := gw.accept(in)
				gw.reply(t, in, 200, "OK", sdp(false))
				ok := alice.response(t, 200, "INVITE")
				checkOnlyVia(t, ok, call.invite)
				call.confirm(ok)
				call.ack(t)
				if ack := gw.request(t, "ACK"); ack.ruri() != gw.contact() {
					t.Errorf("ACK Request-URI %q, want the gateway's contact %q", ack.ruri(), gw.contact())
				}
				call.send(t, "INFO", hdr("Content-Type: application/dtmf-relay"))
				info := gw.request(t, "INFO")
				checkInDialog(t, nil, gw, alice, info)
				gw.reply(t, info, 200, "OK", msgOpts{})
				alice.response(t, 200, "INFO")
				hangup(t, gd, alice, gw)
			})
		})
	}
}

// TestProxyRFC3261s16_6_StatefulRoute: a static route without stateless is
// forwarded with a transaction like a call to a user (§16.6): our own
// branch, Record-Route, and the dialog through Parley. A tel: URI (RFC 3966)
// matches a route by its number, visual separators left out.
func TestProxyRFC3261s16_6_StatefulRoute(t *testing.T) {
	s := proxyServer(t, nil)
	gw, to := gateway(t, s)
	reloadWith(t, s, func(c *config.Config) {
		c.Proxy.Routes = []config.Route{{User: `^\+?[0-9]{6,}$`, To: to}}
	})
	alice := newPhone(t, s, "udp", uniq("alice"))
	alice.register(t, "")
	t.Run("call", func(t *testing.T) {
		call := alice.call("sip:+4930123456@example.test")
		call.send(t, "INVITE", sdp(false))
		in := gw.request(t, "INVITE")
		if in.ruri() != call.target || strings.HasPrefix(branchOf(in), "z9hG4bKsl") {
			t.Errorf("Request-URI %q branch %q: want %q kept and a stateful branch", in.ruri(), branchOf(in), call.target)
		}
		gd := gw.accept(in)
		gw.reply(t, in, 180, "Ringing", msgOpts{})
		alice.response(t, 180, "INVITE")
		gw.reply(t, in, 200, "OK", sdp(false))
		ok := alice.response(t, 200, "INVITE")
		call.confirm(ok)
		call.ack(t)
		checkInDialog(t, s, gw, alice, gw.request(t, "ACK"))
		hangup(t, gd, alice, gw)
	})
	t.Run("tel URI", func(t *testing.T) {
		call := alice.call("tel:+1-201-555-0123;phone-context=example.test")
		call.send(t, "INVITE", sdp(false))
		in := gw.request(t, "INVITE")
		if in.ruri() != call.target {
			t.Errorf("gateway got Request-URI %q, want %q", in.ruri(), call.target)
		}
		sent := gw.reply(t, in, 486, "Busy Here", msgOpts{})
		checkHopAck(t, in, gw.request(t, "ACK"), toTag(sent.raw))
		res := alice.final(t, "INVITE")
		if res.code() != 486 {
			t.Errorf("caller got %q, want 486", res.start)
		}
		call.ackFinal(t, res)
	})
	t.Run("tel URI no route takes", func(t *testing.T) {
		call := alice.call("tel:911")
		call.send(t, "INVITE", sdp(false))
		res := alice.final(t, "INVITE")
		if res.code() != 404 {
			t.Errorf("tel: number without a route got %q, want 404", res.start)
		}
		call.ackFinal(t, res)
		gw.none(t, quietPeriod, "an INVITE without a route", isRequest("INVITE"))
	})
}

// TestProxyRFC3261s8_3_RedirectRoutes: in redirect mode (§8.3.1) the 302
// names where the request would have gone: the dialed user at a route's
// gateway (a route's own redirect, or the server's), the Request-URI itself
// for a foreign domain; proxy.redirect_domains redirects some domains only.
// Nothing is forwarded.
func TestProxyRFC3261s8_3_RedirectRoutes(t *testing.T) {
	s := proxyServer(t, nil)
	gw, to := gateway(t, s)
	gwHost := strings.TrimPrefix(to, "sip:")
	alice := newPhone(t, s, "udp", uniq("alice"))
	alice.register(t, "")
	carol := newPhone(t, s, "udp", uniq("carol")) // a UA at a foreign address
	foreign := "sip:carol@" + carol.local.String()
	redirected := func(t *testing.T, target, contact string) {
		t.Helper()
		call := alice.call(target)
		call.send(t, "INVITE", sdp(false))
		res := alice.final(t, "INVITE")
		call.ackFinal(t, res)
		if res.code() != 302 {
			t.Fatalf("%s got %q, want 302", target, res.start)
		}
		if c := res.list("Contact"); len(c) != 1 || uriOf(c[0]) != contact {
			t.Errorf("%s: 302 Contact %q, want <%s>", target, c, contact)
		}
	}
	nothingForwarded := func(t *testing.T) {
		t.Helper()
		gw.none(t, quietPeriod, "a forwarded INVITE", isRequest("INVITE"))
		carol.none(t, 0, "a forwarded INVITE", isRequest("INVITE"))
	}
	t.Run("route redirect", func(t *testing.T) {
		reloadWith(t, s, func(c *config.Config) {
			c.Proxy.Redirect, c.Proxy.RedirectDomains = false, nil
			c.Proxy.Routes = []config.Route{{User: `^8[0-9]{3}$`, To: to, Redirect: true}}
		})
		redirected(t, "sip:8001@example.test", "sip:8001@"+gwHost)
		nothingForwarded(t)
	})
	t.Run("server redirect", func(t *testing.T) {
		reloadWith(t, s, func(c *config.Config) {
			c.Proxy.Redirect, c.Proxy.RedirectDomains = true, nil
			c.Proxy.Routes = []config.Route{{User: `^9[0-9]{3}$`, To: to, Stateless: true}}
		})
		redirected(t, "sip:9001@example.test", "sip:9001@"+gwHost)
		redirected(t, foreign, foreign)
		nothingForwarded(t)
	})
	t.Run("domain redirect", func(t *testing.T) {
		reloadWith(t, s, func(c *config.Config) {
			c.Proxy.Redirect, c.Proxy.RedirectDomains = false, []string{"example.test"}
			c.Proxy.Routes = []config.Route{{User: `^7[0-9]{3}$`, To: to}}
		})
		bob := newPhone(t, s, "udp", uniq("bob"))
		bob.register(t, "")
		redirected(t, bob.aor(), bob.contact())
		redirected(t, "sip:7001@example.test", "sip:7001@"+gwHost)
		nothingForwarded(t)
		bob.none(t, 0, "a forwarded INVITE", isRequest("INVITE"))
		call := alice.call(foreign) // not a redirect domain: proxied
		call.send(t, "INVITE", sdp(false))
		in := carol.request(t, "INVITE")
		sent := carol.reply(t, in, 486, "Busy Here", msgOpts{})
		checkHopAck(t, in, carol.request(t, "ACK"), toTag(sent.raw))
		if res := alice.final(t, "INVITE"); res.code() != 486 {
			t.Errorf("call to a domain not in redirect mode got %q, want the callee's 486", res.start)
		} else {
			call.ackFinal(t, res)
		}
	})
}
