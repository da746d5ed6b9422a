package auth

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// fakeTx records what the handler (or the server, for a returned error) replies.
type fakeTx struct {
	remote  netip.AddrPort
	replies []reply
}

type reply struct {
	code   int
	reason string
	extra  string
}

func (t *fakeTx) Reply(code int, reason string, extra []byte) error {
	t.replies = append(t.replies, reply{code, reason, string(extra)})
	return nil
}
func (t *fakeTx) ReplyBody(code int, reason string, extra []byte, _ string, _ []byte) error {
	return t.Reply(code, reason, extra)
}
func (t *fakeTx) Respond(*sip.Message) error { return nil }
func (t *fakeTx) Responded() bool            { return len(t.replies) > 0 }
func (t *fakeTx) Remote() netip.AddrPort     { return t.remote }
func (t *fakeTx) Transport() transport.Proto { return transport.UDP }
func (t *fakeTx) ToTag() []byte              { return []byte("srvtag") }
func (t *fakeTx) Origin() transaction.Source {
	return transaction.Source{Addr: t.remote, Proto: transport.UDP}
}

var _ sipserver.ServerTx = (*fakeTx)(nil)

// mapStore is a CredentialStore over passwords, hashed here independently of
// the package's own HA1.
type mapStore struct {
	mu    sync.Mutex
	pw    map[string]string // "user@domain" -> password
	err   error
	calls int
}

func (m *mapStore) Credentials(_ context.Context, user, domain string) (Credentials, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.err != nil {
		return Credentials{}, m.err
	}
	pw, ok := m.pw[user+"@"+domain]
	if !ok {
		return Credentials{}, fmt.Errorf("lookup %s: %w", user, ErrUnknownUser)
	}
	a1 := user + ":" + domain + ":" + pw
	m5, s2 := md5.Sum([]byte(a1)), sha256.Sum256([]byte(a1))
	return Credentials{Username: user, Domain: domain, HA1MD5: hex.EncodeToString(m5[:]), HA1SHA256: hex.EncodeToString(s2[:])}, nil
}

// harness runs requests through the middleware around a handler that answers 200.
type harness struct {
	t     testing.TB
	d     *Digest
	store *mapStore
	now   time.Time
	log   bytes.Buffer
	h     sipserver.Handler
	ctx   context.Context // of the last request that reached the handler
}

func newHarness(t testing.TB, mod func(*Config)) *harness {
	h := &harness{t: t, now: time.Unix(1_700_000_000, 0),
		store: &mapStore{pw: map[string]string{"alice@example.com": "wonderland", "bob@example.com": "builder1"}}}
	cfg := Config{Secret: []byte("test secret, 32 bytes long......"), Now: func() time.Time { return h.now }}
	if mod != nil {
		mod(&cfg)
	}
	id := sipserver.NewIdentity([]string{"example.com", "Example.ORG"}, "proxy.example.com", nil)
	h.d = New(cfg, h.store, id, slog.New(slog.NewTextHandler(&h.log, nil)))
	next := sipserver.HandlerFunc(func(ctx context.Context, tx sipserver.ServerTx, _ *sip.Message) error {
		h.ctx = ctx
		return tx.Reply(200, "", nil)
	})
	h.h = h.d.Middleware()(next)
	return h
}

// send runs one request from src and returns the final reply, answering a
// returned error the way sipserver.Server does.
func (h *harness) send(src, msg string) reply {
	h.t.Helper()
	var m sip.Message
	if err := sip.Parse([]byte(msg), &m); err != nil {
		h.t.Fatalf("test request does not parse: %v\n%s", err, msg)
	}
	tx := &fakeTx{remote: netip.MustParseAddrPort(src)}
	h.ctx = nil
	if err := h.h.ServeSIP(context.Background(), tx, &m); err != nil {
		var se *sipserver.StatusError
		if !errors.As(err, &se) {
			h.t.Fatalf("handler returned %v, not a StatusError", err)
		}
		tx.Reply(se.Code, se.Reason, se.Extra)
	}
	if len(tx.replies) != 1 {
		h.t.Fatalf("%d replies, want 1", len(tx.replies))
	}
	return tx.replies[0]
}

const phone = "192.0.2.50:5060"

// request builds a request; from and to are header values, hdrs extra lines.
func request(method, ruri, from, to string, hdrs ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK-%d\r\n", method, ruri, time.Now().UnixNano())
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: call-1@192.0.2.50\r\nCSeq: 2 %s\r\n", from, to, method)
	for _, l := range hdrs {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

func register(hdrs ...string) string {
	return request("REGISTER", "sip:example.com", "<sip:alice@example.com>;tag=a1", "<sip:alice@example.com>", hdrs...)
}

func invite(from string, hdrs ...string) string {
	return request("INVITE", "sip:carol@example.net", from, "<sip:carol@example.net>", hdrs...)
}

// client computes a digest response the way a phone does, without the package.
type client struct {
	alg                          string // "MD5", "SHA-256" or "" (absent: MD5)
	user, realm, pw, uri, method string
	nonce, nc, cnonce, qop       string
}

func (c client) header() string {
	h := func(s string) string {
		if c.alg == "SHA-256" {
			x := sha256.Sum256([]byte(s))
			return hex.EncodeToString(x[:])
		}
		x := md5.Sum([]byte(s))
		return hex.EncodeToString(x[:])
	}
	ha1, ha2 := h(c.user+":"+c.realm+":"+c.pw), h(c.method+":"+c.uri)
	v := fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s"`, c.user, c.realm, c.nonce, c.uri)
	var resp string
	if c.qop == "" {
		resp = h(ha1 + ":" + c.nonce + ":" + ha2)
	} else {
		resp = h(ha1 + ":" + c.nonce + ":" + c.nc + ":" + c.cnonce + ":" + c.qop + ":" + ha2)
		v += fmt.Sprintf(`, qop=%s, nc=%s, cnonce="%s"`, c.qop, c.nc, c.cnonce)
	}
	if c.alg != "" {
		v += ", algorithm=" + c.alg
	}
	return v + `, response="` + resp + `"`
}

var nonceRE = regexp.MustCompile(`nonce="([^"]+)"`)

// challenge sends req without credentials and returns the nonce offered.
func (h *harness) challenge(req string, code int) string {
	h.t.Helper()
	r := h.send(phone, req)
	if r.code != code {
		h.t.Fatalf("got %d %s, want %d challenge", r.code, r.reason, code)
	}
	m := nonceRE.FindStringSubmatch(r.extra)
	if m == nil {
		h.t.Fatalf("no nonce in %q", r.extra)
	}
	return m[1]
}

func (h *harness) wantUser(user, domain string) {
	h.t.Helper()
	if h.ctx == nil {
		h.t.Fatal("request did not reach the next handler")
	}
	u, d, ok := UserFromContext(h.ctx)
	if !ok || u != user || d != domain {
		h.t.Fatalf("UserFromContext = %q, %q, %v; want %q, %q", u, d, ok, user, domain)
	}
}

func TestChallengeRegister(t *testing.T) {
	h := newHarness(t, nil)
	r := h.send(phone, register())
	if r.code != 401 || h.ctx != nil {
		t.Fatalf("got %d (passed=%v), want 401", r.code, h.ctx != nil)
	}
	lines := strings.Split(strings.TrimSuffix(r.extra, "\r\n"), "\r\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 WWW-Authenticate lines, got %q", r.extra)
	}
	nonce := nonceRE.FindStringSubmatch(lines[0])[1]
	for i, alg := range []string{"MD5", "SHA-256"} { // the default order: see Config.Algorithms
		want := `WWW-Authenticate: Digest realm="example.com", nonce="` + nonce + `", algorithm=` + alg + `, qop="auth"`
		if lines[i] != want {
			t.Errorf("line %d:\n got %s\nwant %s", i, lines[i], want)
		}
	}
	if h.store.calls != 0 {
		t.Error("a challenge consulted the credential store")
	}
}

func TestChallengeOrderConfigured(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Algorithms = []Algorithm{SHA256, MD5} })
	r := h.send(phone, register())
	if i, j := strings.Index(r.extra, "SHA-256"), strings.Index(r.extra, "MD5"); r.code != 401 || i < 0 || j < 0 || i > j {
		t.Fatalf("SHA-256 not offered first: %d %q", r.code, r.extra)
	}
}

func TestChallengeProxy(t *testing.T) {
	h := newHarness(t, nil)
	r := h.send(phone, invite("<sip:alice@Example.ORG>;tag=1"))
	if r.code != 407 || r.reason != "" {
		t.Fatalf("got %d %q, want 407", r.code, r.reason)
	}
	if strings.Count(r.extra, "Proxy-Authenticate: Digest realm=\"example.org\"") != 2 ||
		strings.Index(r.extra, "SHA-256") < strings.Index(r.extra, "MD5") || strings.Contains(r.extra, "stale") {
		t.Fatalf("bad challenge %q", r.extra)
	}
}

func TestSuccess(t *testing.T) {
	tests := []struct {
		name, alg, qop string
	}{
		{"MD5 qop=auth", "MD5", "auth"},
		{"SHA-256 qop=auth", "SHA-256", "auth"},
		{"algorithm absent", "", "auth"},
		{"MD5 without qop (RFC 2069)", "MD5", ""},
		{"SHA-256 without qop", "SHA-256", ""},
	}
	for _, tt := range tests {
		t.Run("REGISTER "+tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			c := client{alg: tt.alg, qop: tt.qop, user: "alice", realm: "example.com", pw: "wonderland",
				uri: "sip:example.com", method: "REGISTER", nc: "00000001", cnonce: "0a4f113b"}
			c.nonce = h.challenge(register(), 401)
			if r := h.send(phone, register("Authorization: "+c.header())); r.code != 200 {
				t.Fatalf("got %d %s", r.code, r.reason)
			}
			h.wantUser("alice", "example.com")
		})
		t.Run("INVITE "+tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			c := client{alg: tt.alg, qop: tt.qop, user: "bob", realm: "example.com", pw: "builder1",
				uri: "sip:carol@example.net", method: "INVITE", nc: "00000001", cnonce: "xyz"}
			from := "\"Bob\" <sip:bob@example.com>;tag=9"
			c.nonce = h.challenge(invite(from), 407)
			if r := h.send(phone, invite(from, "Proxy-Authorization: "+c.header())); r.code != 200 {
				t.Fatalf("got %d %s", r.code, r.reason)
			}
			h.wantUser("bob", "example.com")
		})
	}
}

// aliceRegister returns a client that answered a fresh challenge.
func aliceRegister(h *harness) client {
	c := client{alg: "SHA-256", qop: "auth", user: "alice", realm: "example.com", pw: "wonderland",
		uri: "sip:example.com", method: "REGISTER", nc: "00000001", cnonce: "c1"}
	c.nonce = h.challenge(register(), 401)
	return c
}

func TestWrongPassword(t *testing.T) {
	h := newHarness(t, nil)
	c := aliceRegister(h)
	c.pw = "wonderlane"
	if r := h.send(phone, register("Authorization: "+c.header())); r.code != 403 || r.reason != "Forbidden" || r.extra != "" {
		t.Fatalf("got %+v, want 403 Forbidden without a challenge", r)
	}
	if !strings.Contains(h.log.String(), "wrong password") || !strings.Contains(h.log.String(), "192.0.2.50") {
		t.Errorf("no log line for the failure: %s", h.log.String())
	}
}

func TestUnknownUser(t *testing.T) {
	for _, want := range []reply{{403, "Forbidden", ""}, {404, "User Not Found", ""}} {
		h := newHarness(t, func(c *Config) { c.UnknownUser404 = want.code == 404 })
		c := aliceRegister(h)
		c.user = "mallory"
		if r := h.send(phone, register("Authorization: "+c.header())); r != want {
			t.Errorf("UnknownUser404=%v: got %+v, want %+v", want.code == 404, r, want)
		}
	}
}

func TestStaleNonce(t *testing.T) {
	h := newHarness(t, nil)
	c := aliceRegister(h)
	h.now = h.now.Add(DefaultNonceTTL + time.Second)
	r := h.send(phone, register("Authorization: "+c.header()))
	if r.code != 401 || strings.Count(r.extra, "stale=true") != 2 {
		t.Fatalf("expired nonce, right password: got %+v, want 401 stale=true", r)
	}
	c.pw = "wrong!"
	r = h.send(phone, register("Authorization: "+c.header()))
	if r.code != 401 || strings.Contains(r.extra, "stale") {
		t.Fatalf("expired nonce, wrong password: got %+v, want 401 without stale", r)
	}
	// The new nonce works.
	c.pw, c.nonce = "wonderland", nonceRE.FindStringSubmatch(r.extra)[1]
	if r := h.send(phone, register("Authorization: "+c.header())); r.code != 200 {
		t.Fatalf("fresh nonce: %+v", r)
	}
	if st := h.d.Stats(); st.Stale != 1 || st.Challenges != 3 || st.Accepted != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestNonceFromTheFuture(t *testing.T) {
	h := newHarness(t, nil)
	c := aliceRegister(h)
	h.now = h.now.Add(-DefaultNonceTTL - time.Second) // the issuer's clock was far ahead
	if r := h.send(phone, register("Authorization: "+c.header())); r.code != 401 || !strings.Contains(r.extra, "stale=true") {
		t.Fatalf("got %+v", r)
	}
}

func TestForgedNonce(t *testing.T) {
	h := newHarness(t, nil)
	c := aliceRegister(h)
	other := newHarness(t, func(cfg *Config) { cfg.Secret = []byte("another secret .................") })
	for name, nonce := range map[string]string{
		"made up":      "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		"other secret": other.challenge(register(), 401),
		"other realm":  h.d.nonces.issue(h.now, "example.org"),
		"tampered":     c.nonce[:5] + string(c.nonce[5]^1) + c.nonce[6:],
	} {
		c.nonce = nonce
		r := h.send(phone, register("Authorization: "+c.header()))
		if r.code != 401 || strings.Contains(r.extra, "stale") {
			t.Errorf("%s: got %+v, want 401 without stale", name, r)
		}
	}
	if h.store.calls != 0 {
		t.Errorf("forged nonces reached the credential store %d times", h.store.calls)
	}
	if st := h.d.Stats(); st.Forged != 4 {
		t.Errorf("Forged = %d", st.Forged)
	}
}

func TestSharedSecret(t *testing.T) {
	a, b := newHarness(t, nil), newHarness(t, nil) // same secret: two instances on one database
	c := aliceRegister(a)
	if r := b.send(phone, register("Authorization: "+c.header())); r.code != 200 {
		t.Fatalf("nonce of another instance: %+v", r)
	}
}

func TestReplayedNonceCount(t *testing.T) {
	h := newHarness(t, nil)
	c := aliceRegister(h)
	steps := []struct {
		nc   string
		code int
	}{{"00000001", 200}, {"00000001", 401}, {"00000002", 200}, {"00000004", 200}, {"00000003", 401}, {"00000005", 200}}
	for _, s := range steps {
		c.nc = s.nc
		r := h.send(phone, register("Authorization: "+c.header()))
		if r.code != s.code || strings.Contains(r.extra, "stale") {
			t.Fatalf("nc=%s: got %+v, want %d (never stale)", s.nc, r, s.code)
		}
	}
	if st := h.d.Stats(); st.Replays != 2 {
		t.Errorf("Replays = %d", st.Replays)
	}
}

func TestNoQOPReuse(t *testing.T) {
	h := newHarness(t, nil)
	c := aliceRegister(h)
	c.qop = ""
	for i := range 3 {
		if r := h.send(phone, register("Authorization: "+c.header())); r.code != 200 {
			t.Fatalf("use %d: %+v", i, r)
		}
	}
}

func TestTrusted(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Trusted = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
	for _, src := range []string{"10.1.2.3:5060", "[::ffff:10.9.9.9]:5060"} {
		if r := h.send(src, invite("<sip:alice@example.com>;tag=1")); r.code != 200 {
			t.Fatalf("%s: got %+v", src, r)
		}
		if _, _, ok := UserFromContext(h.ctx); ok || !TrustedFromContext(h.ctx) {
			t.Fatalf("%s: not marked trusted without a user", src)
		}
	}
	if r := h.send("11.0.0.1:5060", invite("<sip:alice@example.com>;tag=1")); r.code != 407 {
		t.Fatalf("untrusted source: %+v", r)
	}
}

func TestPassWithoutChallenge(t *testing.T) {
	h := newHarness(t, nil)
	ours := "<sip:alice@example.com>;tag=1"
	tests := []struct{ name, msg string }{
		{"in-dialog BYE", request("BYE", "sip:carol@192.0.2.9", ours, "<sip:carol@example.net>;tag=x")},
		{"in-dialog re-INVITE", request("INVITE", "sip:carol@192.0.2.9", ours, "<sip:carol@example.net>;tag=x")},
		{"ACK", request("ACK", "sip:carol@example.net", ours, "<sip:carol@example.net>")},
		{"CANCEL", request("CANCEL", "sip:carol@example.net", ours, "<sip:carol@example.net>")},
		{"foreign From", invite("<sip:dave@example.net>;tag=1")},
		{"foreign caller to our user", request("INVITE", "sip:alice@example.com", "<sip:dave@example.net>;tag=1", "<sip:alice@example.com>")},
		{"anonymous From", invite("\"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=1")},
		{"tel From", invite("<tel:+15551234>;tag=1")},
		{"OPTIONS to Parley", request("OPTIONS", "sip:example.com", ours, "<sip:example.com>")},
		{"REGISTER to a foreign registrar", request("REGISTER", "sip:example.net", "<sip:dave@example.net>;tag=1", "<sip:dave@example.net>")},
	}
	for _, tt := range tests {
		r := h.send(phone, tt.msg)
		if r.code != 200 {
			t.Errorf("%s: got %+v, want it passed on", tt.name, r)
			continue
		}
		if _, _, ok := UserFromContext(h.ctx); ok || TrustedFromContext(h.ctx) {
			t.Errorf("%s: marked authenticated or trusted", tt.name)
		}
	}
	if h.store.calls != 0 {
		t.Error("the credential store was asked")
	}
}

func TestChallengedMethods(t *testing.T) {
	h := newHarness(t, nil)
	ours := "<sip:alice@example.com>;tag=1"
	for _, m := range []string{"MESSAGE", "SUBSCRIBE", "PUBLISH", "REFER", "OPTIONS", "NOTIFY", "FOO"} {
		if r := h.send(phone, request(m, "sip:carol@example.net", ours, "<sip:carol@example.net>")); r.code != 407 {
			t.Errorf("%s: got %d, want 407", m, r.code)
		}
	}
	// A REGISTER that names Parley by its advertised host: the To domain is the realm.
	r := h.send(phone, request("REGISTER", "sip:proxy.example.com", "<sip:alice@example.com>;tag=1", "<sip:alice@example.com>"))
	if r.code != 401 || !strings.Contains(r.extra, `realm="example.com"`) {
		t.Errorf("REGISTER to the advertised host: %+v", r)
	}
}

func TestFromUserMismatch(t *testing.T) {
	h := newHarness(t, nil)
	from := "<sip:alice@example.com>;tag=1" // bob's credentials, alice's From
	c := client{alg: "MD5", qop: "auth", user: "bob", realm: "example.com", pw: "builder1",
		uri: "sip:carol@example.net", method: "INVITE", nc: "00000001", cnonce: "x"}
	c.nonce = h.challenge(invite(from), 407)
	if r := h.send(phone, invite(from, "Proxy-Authorization: "+c.header())); r.code != 403 || r.reason != "Forbidden" {
		t.Fatalf("got %+v, want 403", r)
	}
	// An escaped From user is compared unescaped.
	c.nc = "00000002"
	if r := h.send(phone, invite("<sip:%62ob@example.com>;tag=1", "Proxy-Authorization: "+c.header())); r.code != 200 {
		t.Fatalf("escaped From user: %+v", r)
	}
}

func TestStoreError(t *testing.T) {
	h := newHarness(t, nil)
	c := aliceRegister(h)
	h.store.err = errors.New("dial tcp 127.0.0.1:5432: connection refused")
	if r := h.send(phone, register("Authorization: "+c.header())); r.code != 500 || r.reason != "Server Internal Error" {
		t.Fatalf("got %+v, want 500", r)
	}
	if n := strings.Count(h.log.String(), "\n"); n != 1 || !strings.Contains(h.log.String(), "connection refused") {
		t.Fatalf("want one log line naming the error, got %q", h.log.String())
	}
	nilStore := New(Config{}, nil, sipserver.NewIdentity([]string{"example.com"}, "", nil), nil)
	var m sip.Message
	sip.Parse([]byte(register("Authorization: "+c.header())), &m)
	if _, err := nilStore.Authenticate(context.Background(), &fakeTx{remote: netip.MustParseAddrPort(phone)}, &m); err == nil {
		t.Fatal("no store: accepted")
	}
}

func TestMalformed(t *testing.T) {
	h := newHarness(t, nil)
	c := aliceRegister(h)
	good := c.header()
	tests := []struct {
		name, hdr, reason string
	}{
		{"duplicate parameter", "Authorization: " + good + `, nonce="x"`, "Bad Authorization Header: duplicate nonce"},
		{"missing response", `Authorization: Digest username="alice", realm="example.com", nonce="n", uri="sip:example.com"`,
			"Bad Authorization Header: missing response"},
		{"unterminated", `Authorization: Digest username="alice", realm="example.com`, "Bad Authorization Header: unterminated quoted string in realm"},
		{"uri mismatch", "Authorization: " + strings.Replace(good, `uri="sip:example.com"`, `uri="sip:example.org"`, 1),
			"Bad Authorization Header: uri does not match the Request-URI"},
	}
	for _, tt := range tests {
		if r := h.send(phone, register(tt.hdr)); r.code != 400 || r.reason != tt.reason {
			t.Errorf("%s: got %d %q, want 400 %q", tt.name, r.code, r.reason, tt.reason)
		}
	}
	from := "<sip:alice@example.com>;tag=1"
	if r := h.send(phone, invite(from, `Proxy-Authorization: Digest username="alice", realm="example.com", realm="x"`)); r.code != 400 ||
		!strings.HasPrefix(r.reason, "Bad Proxy-Authorization Header: duplicate realm") {
		t.Errorf("proxy: got %+v", r)
	}
}

func TestCredentialsSelection(t *testing.T) {
	h := newHarness(t, nil)
	c := aliceRegister(h)
	other := `Authorization: Digest username="alice", realm="example.net", nonce="n", uri="sip:example.com", response="` + md5Hex + `"`
	broken := `Authorization: Digest realm="example.net", username="x"` // someone else's, malformed
	// Only another realm's credentials: a challenge, not an error.
	if r := h.send(phone, register(other, broken)); r.code != 401 {
		t.Fatalf("foreign realm only: %+v", r)
	}
	// Ours among others, in any position; a Basic header is skipped.
	if r := h.send(phone, register(other, "Authorization: Basic YWxpY2U6eA==", broken, "Authorization: "+c.header())); r.code != 200 {
		t.Fatalf("ours among others: %+v", r)
	}
	// Authorization does not answer a 407, nor Proxy-Authorization a 401.
	c.nc = "00000002"
	if r := h.send(phone, register("Proxy-Authorization: "+c.header())); r.code != 401 {
		t.Fatalf("Proxy-Authorization for REGISTER: %+v", r)
	}
	// A loosely equal uri is accepted.
	c.uri = "sip:EXAMPLE.COM"
	if r := h.send(phone, register("Authorization: "+c.header())); r.code != 200 {
		t.Fatalf("loose uri: %+v", r)
	}
}

func TestDisabled(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Disabled = true })
	if r := h.send(phone, register()); r.code != 200 {
		t.Fatalf("got %+v", r)
	}
	if _, _, ok := UserFromContext(h.ctx); ok {
		t.Fatal("user set while disabled")
	}
}

func TestUserFromContextEmpty(t *testing.T) {
	if _, _, ok := UserFromContext(context.Background()); ok || TrustedFromContext(context.Background()) {
		t.Fatal("empty context says authenticated")
	}
}

// BenchmarkAuthenticate measures a whole successful check: header parse,
// nonce MAC, store lookup (a map), digest and nonce-count.
func BenchmarkAuthenticate(b *testing.B) {
	h := newHarness(b, nil)
	c := aliceRegister(h)
	tx := &fakeTx{remote: netip.MustParseAddrPort(phone)}
	msgs := make([]sip.Message, 256)
	for i := range msgs {
		c.nc = fmt.Sprintf("%08x", i+1)
		if err := sip.Parse([]byte(register("Authorization: "+c.header())), &msgs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%len(msgs) == 0 { // new nonce counts: a fresh guard
			h.d.seen = newReplayGuard(h.d.ttlMs, ncShardMax)
		}
		if _, err := h.d.Authenticate(context.Background(), tx, &msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
