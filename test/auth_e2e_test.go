package test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/db/dbtest"
)

// End-to-end tests of digest authentication (RFC 3261 §22, RFC 7616, RFC
// 8760) through the running App, over UDP and TCP, with the digest computed
// in the test.

// authCase is one rule checked over one client of a server where alice and bob
// of example.test exist with testPassword.
type authCase struct {
	name string
	run  func(t *testing.T, c *client)
}

func TestDigestRFC3261s22(t *testing.T) {
	cases := []authCase{
		{"RFC3261_22.2_RFC8760_2.4_REGISTER_gets_401_with_MD5_and_SHA-256_qop_auth", testChallenge401},
		{"RFC7616_3.4.1_MD5_digest_gets_200", func(t *testing.T, c *client) { testDigestOK(t, c, "MD5") }},
		{"RFC8760_2.2_SHA-256_digest_gets_200", func(t *testing.T, c *client) { testDigestOK(t, c, "SHA-256") }},
		{"RFC3261_22.2_wrong_password_gets_403", testWrongPassword},
		{"RFC3261_22.2_unknown_user_gets_403_by_default", testUnknownUser403},
		{"RFC7616_3.4_5.5_replayed_nc_gets_new_challenge", testReplayedNC},
		{"RFC3261_22.3_INVITE_gets_407_with_Proxy-Authenticate", testInvite407},
		{"RFC3261_22.3_INVITE_with_anothers_credentials_gets_403", testInviteFromOther403},
	}
	for _, tr := range rawTransports {
		t.Run(tr, func(t *testing.T) {
			cfg := testConfig(t, "")
			addUsers(t, cfg.DB, "alice@example.test", "bob@example.test")
			s, _ := runApp(t, cfg, nil)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, dial(t, s, tr)) })
			}
		})
	}
}

// testChallenge401: a REGISTER without credentials gets 401 with one
// WWW-Authenticate per algorithm, MD5 first by default, one nonce, realm = the
// domain of the Request-URI, qop="auth" (RFC 3261 §22.2, §10.3 step 2; RFC 8760 §2.4).
func testChallenge401(t *testing.T, c *client) {
	r := newRegisterer(c, "alice")
	resp := r.once(t, contact("sip:alice@192.0.2.1:5060", ""))
	if statusCode(resp) != 401 {
		t.Fatalf("want 401, got\n%s", resp)
	}
	cs := challenges(resp)
	if len(cs) != 2 || !strings.EqualFold(cs[0].algorithm, "MD5") || !strings.EqualFold(cs[1].algorithm, "SHA-256") {
		t.Fatalf("want MD5 then SHA-256 challenges, got %+v in\n%s", cs, resp)
	}
	for _, ch := range cs {
		if ch.realm != "example.test" || ch.nonce != cs[0].nonce || !hasToken(ch.qop, "auth") || ch.stale != "" {
			t.Errorf("challenge %+v: want realm example.test, the same nonce, qop auth, no stale", ch)
		}
	}
	if _, ok := header(resp, "Proxy-Authenticate"); ok {
		t.Errorf("a 401 carries Proxy-Authenticate:\n%s", resp)
	}
	// The challenged request registered nothing.
	if bs := newRegisterer(c, "alice").list(t); len(bs) != 0 {
		t.Errorf("challenged REGISTER left bindings %v", bs)
	}
}

func hasToken(list, tok string) bool {
	for v := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(v), tok) {
			return true
		}
	}
	return false
}

// testDigestOK: answering the challenge of algorithm alg with the right digest
// registers (RFC 7616 §3.4.1; RFC 8760 §2.2 for SHA-256).
func testDigestOK(t *testing.T, c *client, alg string) {
	r := newRegisterer(c, "alice")
	r.alg = alg
	uri := "sip:alice-" + strings.ToLower(alg) + "@192.0.2.1:5060"
	resp := r.once(t, contact(uri, ""))
	if statusCode(resp) != 401 {
		t.Fatalf("want 401, got\n%s", resp)
	}
	r.adopt(t, resp)
	resp = r.once(t, contact(uri, ""))
	if statusCode(resp) != 200 {
		t.Fatalf("%s digest: want 200, got\n%s", alg, resp)
	}
	if _, ok := bindings(t, resp)[uri]; !ok {
		t.Errorf("200 does not list %s:\n%s", uri, resp)
	}
}

// testWrongPassword: a wrong digest gets 403 and no new challenge, so that a
// phone stops (RFC 3261 §22.2 lets the server choose; auth/doc.go).
func testWrongPassword(t *testing.T, c *client) {
	r := newRegisterer(c, "alice")
	r.pw = "not-the-password"
	resp := r.register(t, contact("sip:alice@192.0.2.2:5060", ""))
	if !regexpMatch(`^SIP/2.0 403 `, resp) {
		t.Fatalf("wrong password: want 403, got\n%s", resp)
	}
	if len(challenges(resp)) != 0 {
		t.Errorf("403 carries a challenge:\n%s", resp)
	}
}

// testUnknownUser403: an unknown user gets the same 403 as a wrong password,
// so that users cannot be enumerated.
func testUnknownUser403(t *testing.T, c *client) {
	r := newRegisterer(c, "mallory")
	resp := r.register(t, contact("sip:mallory@192.0.2.3:5060", ""))
	if !regexpMatch(`^SIP/2.0 403 Forbidden\r\n`, resp) {
		t.Fatalf("unknown user: want 403 Forbidden, got\n%s", resp)
	}
}

// testReplayedNC: a request whose nonce-count is not above the last one
// accepted for its nonce is a replay and gets a new challenge, stale=false;
// a higher nc on the same nonce is accepted (RFC 7616 §3.4, §5.5).
func testReplayedNC(t *testing.T, c *client) {
	r := newRegisterer(c, "alice")
	uri := "sip:alice-replay@192.0.2.4:5060"
	r.mustRegister(t, contact(uri, ""))
	sent := c.send(r.message(contact(uri, ""))) // nc=2 on the same nonce
	if resp := final(t, c); statusCode(resp) != 200 {
		t.Fatalf("nc=2 on the same nonce: want 200, got\n%s", resp)
	}
	// The same request again, byte for byte but for a new branch and CSeq: a replay.
	replay := regexp.MustCompile(`branch=z9hG4bK[0-9a-f]+`).ReplaceAllString(sent, "branch=z9hG4bK"+randHex(8))
	replay = regexp.MustCompile(`CSeq: \d+ REGISTER`).ReplaceAllString(replay, "CSeq: 99 REGISTER")
	c.sendRaw([]byte(replay))
	resp := final(t, c)
	if statusCode(resp) != 401 {
		t.Fatalf("replayed nc: want a new 401 challenge, got\n%s", resp)
	}
	for _, ch := range challenges(resp) {
		if strings.EqualFold(ch.stale, "true") {
			t.Errorf("replay challenged with stale=true (RFC 7616 §3.3: stale only for a valid, fresh use): %+v", ch)
		}
	}
	// A lower nc again is also a replay.
	r.nc = 0
	if resp := r.once(t, contact(uri, "")); statusCode(resp) != 401 {
		t.Fatalf("nc=1 after nc=2: want 401, got\n%s", resp)
	}
}

// inviteMsg is an INVITE from from@example.test to bob@example.test with the
// header lines extra.
func inviteMsg(from, callID, extra string) string {
	return "INVITE sip:bob@example.test SIP/2.0\n" +
		"Via: SIP/2.0/$TRANSPORT $LOCAL;branch=$BRANCH;rport\n" +
		"Max-Forwards: 70\n" +
		"From: <sip:" + from + "@example.test>;tag=$TAG\n" +
		"To: <sip:bob@example.test>\n" +
		"Call-ID: " + callID + "\n" +
		"CSeq: 1 INVITE\n" +
		"Contact: <sip:" + from + "@$LOCAL>\n" +
		extra +
		"Content-Length: 0\n\n"
}

// proxyAuthorization answers a 407 challenge for an INVITE to bob.
func proxyAuthorization(ch challenge, user, pw string) string {
	const uri = "sip:bob@example.test"
	cnonce := randHex(8)
	resp := digestResponse(ch.algorithm, user, ch.realm, pw, "INVITE", uri, ch.nonce, "00000001", cnonce)
	return "Proxy-Authorization: Digest username=\"" + user + "\", realm=\"" + ch.realm + "\", nonce=\"" + ch.nonce +
		"\", uri=\"" + uri + "\", response=\"" + resp + "\", algorithm=" + ch.algorithm +
		", qop=auth, nc=00000001, cnonce=\"" + cnonce + "\"\n"
}

// invite sends an INVITE and acknowledges its final response, which it returns.
func invite(t *testing.T, c *client, tmpl string) string {
	t.Helper()
	sent := c.send(tmpl)
	resp := final(t, c)
	if statusCode(resp) >= 300 {
		c.sendRaw([]byte(ackFor(sent, resp)))
	}
	return resp
}

// testInvite407: an INVITE from one of our users gets 407 with
// Proxy-Authenticate, realm = the From domain (RFC 3261 §22.3); answered with
// the right Proxy-Authorization it gets past authentication.
func testInvite407(t *testing.T, c *client) {
	callID := randHex(10) + "@e2e.invalid"
	resp := invite(t, c, inviteMsg("alice", callID, ""))
	if statusCode(resp) != 407 {
		t.Fatalf("INVITE from alice@example.test: want 407, got\n%s", resp)
	}
	cs := challenges(resp)
	if len(cs) != 2 {
		t.Fatalf("want 2 Proxy-Authenticate (MD5, SHA-256), got %+v in\n%s", cs, resp)
	}
	if _, ok := header(resp, "WWW-Authenticate"); ok {
		t.Errorf("a 407 carries WWW-Authenticate:\n%s", resp)
	}
	ch := pick(t, cs, "SHA-256")
	if ch.realm != "example.test" || !hasToken(ch.qop, "auth") {
		t.Errorf("challenge %+v: want realm example.test, qop auth", ch)
	}
	resp = invite(t, c, strings.Replace(inviteMsg("alice", callID, proxyAuthorization(ch, "alice", testPassword)),
		"CSeq: 1 INVITE", "CSeq: 2 INVITE", 1))
	if code := statusCode(resp); code == 401 || code == 403 || code == 407 {
		t.Fatalf("INVITE with the right Proxy-Authorization: got an authentication failure\n%s", resp)
	}
}

// testInviteFromOther403: credentials of bob in an INVITE From alice get 403:
// nobody calls as someone else (auth/doc.go, Kamailio's check_from).
func testInviteFromOther403(t *testing.T, c *client) {
	callID := randHex(10) + "@e2e.invalid"
	resp := invite(t, c, inviteMsg("alice", callID, ""))
	if statusCode(resp) != 407 {
		t.Fatalf("want 407, got\n%s", resp)
	}
	ch := pick(t, challenges(resp), "MD5")
	resp = invite(t, c, strings.Replace(inviteMsg("alice", callID, proxyAuthorization(ch, "bob", testPassword)),
		"CSeq: 1 INVITE", "CSeq: 2 INVITE", 1))
	if statusCode(resp) != 403 {
		t.Fatalf("INVITE From alice with bob's credentials: want 403, got\n%s", resp)
	}
}

// TestDigestRFC3261s22_UnknownUser404: with auth.unknown_user "404" an unknown user gets
// 404 User Not Found, and a wrong password still 403.
func TestDigestRFC3261s22_UnknownUser404(t *testing.T) {
	runAuthConfig(t, func(cfg *config.Config) { cfg.Auth.UnknownUser = "404" }, func(t *testing.T, c *client) {
		resp := newRegisterer(c, "mallory").register(t, contact("sip:mallory@192.0.2.3:5060", ""))
		if !regexpMatch(`^SIP/2.0 404 User Not Found\r\n`, resp) {
			t.Fatalf("unknown user with unknown_user=404: want 404 User Not Found, got\n%s", resp)
		}
		r := newRegisterer(c, "alice")
		r.pw = "not-the-password"
		if resp := r.register(t, contact("sip:alice@192.0.2.3:5060", "")); statusCode(resp) != 403 {
			t.Fatalf("wrong password with unknown_user=404: want 403, got\n%s", resp)
		}
	})
}

// TestDigestRFC3261s22_Disabled: with --auth=false (auth.enabled false) REGISTER and
// INVITE are not challenged.
func TestDigestRFC3261s22_Disabled(t *testing.T) {
	runAuthConfig(t, func(cfg *config.Config) { cfg.Auth.Enabled = false }, testNotChallenged)
}

// TestDigestRFC3261s22_TrustedNetwork: requests from a trusted network are not
// challenged (auth.trusted, like Kamailio's permissions module).
func TestDigestRFC3261s22_TrustedNetwork(t *testing.T) {
	runAuthConfig(t, func(cfg *config.Config) { cfg.Auth.Trusted = []string{"127.0.0.0/8"} }, testNotChallenged)
}

func testNotChallenged(t *testing.T, c *client) {
	r := newRegisterer(c, "alice")
	resp := r.once(t, contact("sip:alice@192.0.2.5:5060", ""))
	if statusCode(resp) != 200 {
		t.Fatalf("REGISTER without credentials: want 200, got\n%s", resp)
	}
	if _, ok := bindings(t, resp)["sip:alice@192.0.2.5:5060"]; !ok {
		t.Errorf("200 does not list the contact:\n%s", resp)
	}
	resp = invite(t, c, inviteMsg("alice", randHex(10)+"@e2e.invalid", ""))
	if code := statusCode(resp); code == 401 || code == 407 || code == 403 {
		t.Fatalf("INVITE without credentials: got a challenge or 403\n%s", resp)
	}
}

// runAuthConfig runs check over UDP and TCP against a server whose
// configuration edit changed, with alice and bob.
func runAuthConfig(t *testing.T, edit func(*config.Config), check func(*testing.T, *client)) {
	for _, tr := range rawTransports {
		t.Run(tr, func(t *testing.T) {
			cfg := testConfig(t, "")
			edit(cfg)
			addUsers(t, cfg.DB, "alice@example.test", "bob@example.test")
			s, _ := runApp(t, cfg, nil)
			check(t, dial(t, s, tr))
		})
	}
}

// TestDigestRFC7616s3_3_NonceLifetime: a nonce is good for its whole
// lifetime (auth.nonce_ttl), also across a configuration reload, and Parley
// instances given the same auth.secret accept each other's nonces
// (auth/doc.go: "Any instance with the same secret accepts them").
func TestDigestRFC7616s3_3_NonceLifetime(t *testing.T) {
	t.Run("nonce_survives_reload", func(t *testing.T) {
		cfg := testConfig(t, "")
		addUsers(t, cfg.DB, "alice@example.test")
		s, _ := runApp(t, cfg, nil)
		r := newRegisterer(dial(t, s, "udp"), "alice")
		r.list(t)
		if err := s.app.Reload(cfg.Clone()); err != nil {
			t.Fatalf("Reload: %v", err)
		}
		resp := r.once(t, contact("sip:alice@192.0.2.1:5060", ""))
		if statusCode(resp) == 401 {
			t.Fatalf("a reload invalidated the nonce (the nonce key must survive reloads):\n%s", resp)
		}
		if statusCode(resp) != 200 {
			t.Fatalf("nonce issued before a reload: want 200, got\n%s", resp)
		}
	})
	t.Run("auth.secret_shared_by_instances", func(t *testing.T) {
		const yml = "auth:\n  secret: \"0123456789abcdef0123456789abcdef\"\n"
		if _, err := config.Parse([]byte(yml), "shared.yaml"); err != nil {
			t.Fatalf("auth.secret must be a configuration key: %v", err)
		}
		dsn := "sqlite:" + t.TempDir() + "/p.db"
		addUsers(t, dsn, "alice@example.test")
		var servers []*server
		for range 2 {
			cfg, err := config.Parse([]byte(yml), "shared.yaml")
			if err != nil {
				t.Fatal(err)
			}
			base := testConfig(t, dsn)
			cfg.Listen, cfg.HTTP, cfg.Domain, cfg.DB = base.Listen, base.HTTP, base.Domain, base.DB
			s, _ := runApp(t, cfg, nil)
			servers = append(servers, s)
		}
		r := newRegisterer(dial(t, servers[0], "udp"), "alice")
		r.list(t)
		r.c = dial(t, servers[1], "udp")
		if resp := r.once(t, ""); statusCode(resp) != 200 {
			t.Fatalf("nonce of instance 1 at instance 2 with the same secret: want 200, got\n%s", resp)
		}
	})
	for _, dialect := range dbtest.Dialects {
		t.Run("database_key_shared_by_instances_and_restarts/"+dialect, func(t *testing.T) {
			testNonceKeyFromDatabase(t, dbtest.DSN(t, dialect))
		})
	}
}

// testNonceKeyFromDatabase: without auth.secret, two instances on the same
// database accept each other's nonces (the key is derived from the
// database's secret), and so does an instance started after the one that
// issued it stopped; an instance given another auth.secret does not.
func testNonceKeyFromDatabase(t *testing.T, dsn string) {
	addUsers(t, dsn, "alice@example.test")
	a, stopA := runApp(t, testConfig(t, dsn), nil)
	b, _ := runApp(t, testConfig(t, dsn), nil)
	r := newRegisterer(dial(t, a, "udp"), "alice")
	r.list(t) // challenged by a, answered to a
	r.c = dial(t, b, "tcp")
	if resp := r.once(t, ""); statusCode(resp) != 200 {
		t.Fatalf("nonce of instance a at instance b on the same database: want 200, got\n%s", resp)
	}
	if err := stopA(); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	a2, _ := runApp(t, testConfig(t, dsn), nil)
	r.c = dial(t, a2, "udp")
	if resp := r.once(t, ""); statusCode(resp) != 200 {
		t.Fatalf("nonce of instance a after a restart: want 200, got\n%s", resp)
	}
	other := testConfig(t, dsn)
	other.Auth.Secret = "another-secret-0123456789"
	c, _ := runApp(t, other, nil)
	r.c = dial(t, c, "udp")
	if resp := r.once(t, ""); statusCode(resp) != 401 || strings.Contains(resp, "stale=true") {
		t.Fatalf("nonce at an instance with another auth.secret: want a fresh 401 without stale, got\n%s", resp)
	}
}

// TestDigestRFC3261s22_3_OutOfDialogMethods: MESSAGE, SUBSCRIBE, PUBLISH,
// REFER and an unknown method from one of our users outside a dialog get 407
// with Proxy-Authenticate (one per algorithm, realm = the From domain,
// qop="auth"; RFC 3261 §22.3, RFC 8760 §2.4); answered with the right
// Proxy-Authorization they reach the callee, whose 200 comes back.
func TestDigestRFC3261s22_3_OutOfDialogMethods(t *testing.T) {
	methods := []struct{ method, extra string }{
		{"MESSAGE", "Content-Type: text/plain\n"},
		{"SUBSCRIBE", "Event: presence\nExpires: 60\n"},
		{"PUBLISH", "Event: presence\nExpires: 60\n"},
		{"REFER", "Refer-To: <sip:carol@example.test>\n"},
		{"FROBNICATE", ""}, // an extension method Parley does not know (RFC 3261 §8.2.1)
	}
	for _, tr := range rawTransports {
		t.Run(tr, func(t *testing.T) {
			cfg := testConfig(t, "")
			addUsers(t, cfg.DB, "alice@example.test", "bob@example.test")
			s, _ := runApp(t, cfg, nil)
			bob := dial(t, s, tr)
			bc := "sip:bob@" + bob.local.String()
			if tr == "tcp" {
				bc += ";transport=tcp"
			}
			newRegisterer(bob, "bob").mustRegister(t, contact(bc, ""))
			alice := dial(t, s, tr)
			for _, m := range methods {
				t.Run(m.method, func(t *testing.T) { testMethod407(t, alice, bob, m.method, m.extra) })
			}
		})
	}
}

func testMethod407(t *testing.T, alice, bob *client, method, extra string) {
	callID := randHex(10) + "@e2e.invalid"
	resp := sendFinal(t, alice, oodRequest(method, "alice", "bob", callID, 1, extra))
	if statusCode(resp) != 407 {
		t.Fatalf("%s from alice@example.test: want 407, got\n%s", method, resp)
	}
	if _, ok := header(resp, "WWW-Authenticate"); ok {
		t.Errorf("a 407 carries WWW-Authenticate:\n%s", resp)
	}
	cs := challenges(resp)
	if len(cs) != 2 || !strings.EqualFold(cs[0].algorithm, "MD5") || !strings.EqualFold(cs[1].algorithm, "SHA-256") {
		t.Fatalf("want MD5 and SHA-256 Proxy-Authenticate, got %+v in\n%s", cs, resp)
	}
	for _, ch := range cs {
		if ch.realm != "example.test" || !hasToken(ch.qop, "auth") || ch.stale != "" {
			t.Errorf("challenge %+v: want realm example.test, qop auth, no stale", ch)
		}
	}
	auth := proxyAuthFor(pick(t, cs, "SHA-256"), "alice", testPassword, method, "sip:bob@example.test")
	alice.send(oodRequest(method, "alice", "bob", callID, 2, extra+auth))
	req := awaitRequest(t, bob, method)
	if cid, _ := header(req, "Call-ID", "i"); cid != callID {
		t.Fatalf("bob got a %s of another call:\n%s", method, req)
	}
	bob.sendRaw([]byte(responseTo(req, 200, "OK")))
	if resp := final(t, alice); statusCode(resp) != 200 {
		t.Fatalf("authenticated %s: want bob's 200, got\n%s", method, resp)
	}
}

// TestDigestRFC7616s3_3_ExpiredNonce runs with auth.nonce_ttl 10s (the
// shortest the configuration takes) over UDP, and waits out one lifetime:
//   - with the expired nonce and a wrong digest, a known user and an unknown
//     one get the same answer, a new 401 with stale=false (RFC 7616 §3.3:
//     stale only with a valid digest), so the expiry does not tell who exists;
//   - with the expired nonce and the right password, the user gets 401 with
//     stale=true on every challenge, and the new nonce registers;
//   - the same for a 407 (MESSAGE): stale=true, then it passes.
func TestDigestRFC7616s3_3_ExpiredNonce(t *testing.T) {
	const ttl = 10 * time.Second
	cfg, err := config.Parse([]byte("auth:\n  nonce_ttl: 10s\n"), "ttl.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base := testConfig(t, "")
	cfg.Listen, cfg.HTTP, cfg.Domain, cfg.DB = base.Listen, base.HTTP, base.Domain, base.DB
	addUsers(t, cfg.DB, "alice@example.test", "bob@example.test")
	s, _ := runApp(t, cfg, nil)
	c := dial(t, s, "udp")
	bob := dial(t, s, "udp")
	newRegisterer(bob, "bob").mustRegister(t, contact("sip:bob@"+bob.local.String(), ""))

	right, wrong, unknown := newRegisterer(c, "alice"), newRegisterer(c, "alice"), newRegisterer(c, "mallory")
	wrong.pw = "not-the-password"
	for _, r := range []*registerer{right, wrong, unknown} {
		resp := r.once(t, "")
		if statusCode(resp) != 401 {
			t.Fatalf("want 401, got\n%s", resp)
		}
		r.adopt(t, resp)
	}
	callID := randHex(10) + "@e2e.invalid"
	resp := sendFinal(t, c, oodRequest("MESSAGE", "alice", "bob", callID, 1, ""))
	ch407 := pick(t, challenges(resp), "MD5")
	issued := time.Now()

	time.Sleep(time.Until(issued.Add(ttl + 500*time.Millisecond)))
	answers := map[string]string{}
	for name, r := range map[string]*registerer{"known user, wrong password": wrong, "unknown user": unknown} {
		resp := r.once(t, contact("sip:x@192.0.2.1:5060", ""))
		if statusCode(resp) != 401 {
			t.Fatalf("%s, expired nonce: want 401, got\n%s", name, resp)
		}
		for _, ch := range challenges(resp) {
			if ch.stale != "" && !strings.EqualFold(ch.stale, "false") {
				t.Errorf("%s, expired nonce: stale=%s, want none (RFC 7616 §3.3)", name, ch.stale)
			}
		}
		answers[name] = comparable(resp)
	}
	if answers["known user, wrong password"] != answers["unknown user"] {
		t.Errorf("expired nonce: a known user with a wrong password and an unknown user get different answers:\n%s\n---\n%s",
			answers["known user, wrong password"], answers["unknown user"])
	}

	resp = right.once(t, contact("sip:alice@192.0.2.1:5060", ""))
	cs := challenges(resp)
	if statusCode(resp) != 401 || len(cs) != 2 || cs[0].stale != "true" || cs[1].stale != "true" {
		t.Fatalf("right password, expired nonce: want 401 with stale=true on both challenges, got\n%s", resp)
	}
	right.adopt(t, resp)
	if resp := right.once(t, contact("sip:alice@192.0.2.1:5060", "")); statusCode(resp) != 200 {
		t.Fatalf("the nonce of the stale challenge: want 200, got\n%s", resp)
	}

	resp = sendFinal(t, c, oodRequest("MESSAGE", "alice", "bob", callID, 2,
		proxyAuthFor(ch407, "alice", testPassword, "MESSAGE", "sip:bob@example.test")))
	cs = challenges(resp)
	if statusCode(resp) != 407 || len(cs) != 2 || cs[0].stale != "true" {
		t.Fatalf("MESSAGE, right password, expired nonce: want 407 stale=true, got\n%s", resp)
	}
	c.send(oodRequest("MESSAGE", "alice", "bob", callID, 3,
		proxyAuthFor(pick(t, cs, "MD5"), "alice", testPassword, "MESSAGE", "sip:bob@example.test")))
	bob.sendRaw([]byte(responseTo(awaitRequest(t, bob, "MESSAGE"), 200, "OK")))
	if resp := final(t, c); statusCode(resp) != 200 {
		t.Fatalf("MESSAGE with the stale challenge's nonce: want 200, got\n%s", resp)
	}
}

// comparable is a response without what differs between any two: the
// nonces, the Via branch, the To tag, Call-ID and CSeq.
func comparable(resp string) string {
	var keep []string
	for _, l := range strings.Split(resp, "\r\n") {
		n, _, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(n)) {
		case "via", "to", "from", "call-id", "cseq":
			continue
		}
		keep = append(keep, regexp.MustCompile(`nonce="[^"]*"`).ReplaceAllString(l, `nonce="N"`))
	}
	return strings.Join(keep, "\r\n")
}

// TestDigestChallengeStatelessRFC3261s8_2_7: a challenge to a non-INVITE
// request is sent as a stateless UAS would (§8.2.7, §26.3.2.4), so a flood of
// unauthenticated REGISTERs keeps no state. Without credentials the request
// is answered before any transaction exists (sipserver.Screen); with
// credentials that earn a new challenge (a forged nonce) the transaction ends
// with the 401. Either way a retransmission is answered anew, with the same
// To tag. An INVITE's 407 keeps its transaction, which absorbs the
// retransmission and the ACK (§17.2.1).
func TestDigestChallengeStatelessRFC3261s8_2_7(t *testing.T) {
	cfg := testConfig(t, "")
	addUsers(t, cfg.DB, "alice@example.test")
	s, _ := runApp(t, cfg, nil)
	c := dial(t, s, "udp")
	type counts struct{ created, absorbed, screened, live int64 }
	now := func() counts {
		st := s.stats().Transactions
		return counts{st.ServerTransactions, st.Retransmissions, st.Screened, st.Live}
	}
	twice := func(t *testing.T, msg string) (counts, string) {
		t.Helper()
		before := now()
		c.sendRaw([]byte(msg))
		first := final(t, c)
		c.sendRaw([]byte(msg)) // the same request again, as a retransmission
		second := final(t, c)
		if statusCode(first) != 401 || statusCode(second) != 401 {
			t.Fatalf("want 401 twice, got\n%s\n%s", first, second)
		}
		if tag1, tag2 := toTag(first), toTag(second); tag1 != tag2 || tag1 == "" {
			t.Errorf("To tags of the two 401s differ or are missing (§8.2.7: the same tag for the same request): %q, %q", tag1, tag2)
		}
		var after counts
		// the counters move just after the answer is sent
		settled := func() bool {
			after = now()
			return after.live == 0 && after.created+after.screened-before.created-before.screened >= 2
		}
		if !waitFor(2*time.Second, settled) {
			t.Errorf("%+v after two challenged REGISTERs, want no transaction alive (nothing waits for Timer J)", after)
		}
		return counts{after.created - before.created, after.absorbed - before.absorbed,
			after.screened - before.screened, 0}, first
	}

	r := newRegisterer(c, "alice")
	d, first := twice(t, c.fill(r.message(contact("sip:alice@192.0.2.1:5060", ""))))
	if d != (counts{screened: 2}) {
		t.Errorf("REGISTER without credentials twice: %+v; want 2 screened, no transaction", d)
	}
	r.adopt(t, first)
	r.nonce = "forged" + r.nonce[6:]
	d, _ = twice(t, c.fill(r.message(contact("sip:alice@192.0.2.1:5060", ""))))
	if d != (counts{created: 2}) {
		t.Errorf("REGISTER with a forged nonce twice: %+v; want 2 transactions, none absorbed (each ends with its 401)", d)
	}

	// A request the sanity checks refuse gets their answer, not a challenge.
	bad := newRegisterer(c, "alice")
	if resp := bad.once(t, "Proxy-Require: no-such-option\n"); statusCode(resp) != 420 {
		t.Errorf("REGISTER with an unsupported Proxy-Require: want 420 (§16.3 step 5) before any challenge, got\n%s", resp)
	}

	inv := c.fill(inviteMsg("alice", randHex(10)+"@e2e.invalid", ""))
	before := now()
	c.sendRaw([]byte(inv))
	resp := final(t, c)
	c.sendRaw([]byte(inv))
	again := final(t, c)
	if statusCode(resp) != 407 || again != resp {
		t.Fatalf("INVITE twice: want the same 407 resent by its transaction, got\n%s\n%s", resp, again)
	}
	c.sendRaw([]byte(ackFor(inv, resp)))
	var after counts
	waitFor(2*time.Second, func() bool { after = now(); return after.absorbed-before.absorbed == 2 })
	if after.created-before.created != 1 || after.absorbed-before.absorbed != 2 || after.screened != before.screened {
		t.Errorf("INVITE, its retransmission and ACK: %d transactions created, %d absorbed, %d screened; want 1, 2, 0",
			after.created-before.created, after.absorbed-before.absorbed, after.screened-before.screened)
	}
}
