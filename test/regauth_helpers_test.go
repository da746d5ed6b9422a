package test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/app"
	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/transport"
	"github.com/parley-sip/parley/internal/users"
)

// Helpers for the registrar, location and digest tests: a digest client
// computed from scratch (not with internal/auth, so that the server is checked
// against the RFC and not against itself), a REGISTER client that answers
// challenges, and an App runner that can be stopped and started again on the
// same database.

// rawTransports are the transports every registrar and auth rule runs on.
var rawTransports = []string{"udp", "tcp"}

// testPassword is the password of the users the tests create.
const testPassword = "s3cret-pw"

// --- digest (RFC 7616 §3.4, RFC 3261 §22.4) ---------------------------------

// digestHash returns the lowercase hex digest of s with algorithm alg ("MD5" or "SHA-256").
func digestHash(alg, s string) string {
	if strings.EqualFold(alg, "SHA-256") {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// digestResponse is response = H(HA1:nonce:nc:cnonce:qop:H(method:uri)) with
// HA1 = H(user:realm:password) (RFC 7616 §3.4.1-§3.4.2, qop=auth).
func digestResponse(alg, user, realm, pw, method, uri, nonce, nc, cnonce string) string {
	ha1 := digestHash(alg, user+":"+realm+":"+pw)
	ha2 := digestHash(alg, method+":"+uri)
	return digestHash(alg, ha1+":"+nonce+":"+nc+":"+cnonce+":auth:"+ha2)
}

// challenge is one WWW-Authenticate or Proxy-Authenticate value.
type challenge struct {
	realm, nonce, algorithm, qop, stale string
}

var paramRx = regexp.MustCompile(`([A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)`)

// parseChallenge reads the parameters of a Digest challenge value.
func parseChallenge(v string) (challenge, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "Digest ")
	if !ok {
		return challenge{}, false
	}
	var c challenge
	for _, m := range paramRx.FindAllStringSubmatch(rest, -1) {
		val := strings.Trim(m[2], `"`)
		switch strings.ToLower(m[1]) {
		case "realm":
			c.realm = val
		case "nonce":
			c.nonce = val
		case "algorithm":
			c.algorithm = val
		case "qop":
			c.qop = val
		case "stale":
			c.stale = val
		}
	}
	return c, c.nonce != ""
}

// headers returns every value of the header name (one per header line) in msg.
func headers(msg, name string) []string {
	head, _, _ := strings.Cut(msg, "\r\n\r\n")
	var out []string
	for _, l := range strings.Split(head, "\r\n")[1:] {
		n, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(n), name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// challenges returns the Digest challenges of a 401 or 407.
func challenges(msg string) []challenge {
	name := "WWW-Authenticate"
	if statusCode(msg) == 407 {
		name = "Proxy-Authenticate"
	}
	var out []challenge
	for _, v := range headers(msg, name) {
		if c, ok := parseChallenge(v); ok {
			out = append(out, c)
		}
	}
	return out
}

// pick returns the challenge for algorithm alg.
func pick(t testing.TB, cs []challenge, alg string) challenge {
	t.Helper()
	for _, c := range cs {
		if strings.EqualFold(c.algorithm, alg) {
			return c
		}
	}
	t.Fatalf("no %s challenge among %+v", alg, cs)
	return challenge{}
}

// --- responses --------------------------------------------------------------

// final returns the next final response (1xx are skipped) within replyTimeout.
func final(t testing.TB, c *client) string {
	t.Helper()
	deadline := time.Now().Add(replyTimeout)
	for {
		m, err := c.recv(time.Until(deadline))
		if err != nil {
			t.Fatalf("%s: no final response within %v", c.proto, replyTimeout)
		}
		if !strings.HasPrefix(m, "SIP/2.0 1") {
			return m
		}
	}
}

// binding is one Contact of a registrar's 200 (RFC 3261 §10.3 step 8).
type binding struct {
	uri     string
	expires int // -1 if missing
	q       string
}

// bindings returns the Contacts of a 200 to REGISTER, keyed by URI.
func bindings(t testing.TB, msg string) map[string]binding {
	t.Helper()
	out := map[string]binding{}
	for _, line := range headers(msg, "Contact") {
		for _, v := range splitContacts(line) {
			uri, params, ok := strings.Cut(strings.TrimPrefix(v, "<"), ">")
			if !ok {
				t.Fatalf("Contact %q in the 200 is not in angle brackets", v)
			}
			b := binding{uri: uri, expires: -1}
			for p := range strings.SplitSeq(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				switch strings.ToLower(k) {
				case "expires":
					n, err := strconv.Atoi(val)
					if err != nil {
						t.Fatalf("Contact %q: expires %q", v, val)
					}
					b.expires = n
				case "q":
					b.q = val
				}
			}
			out[uri] = b
		}
	}
	return out
}

// splitContacts splits a Contact header value at commas outside <> and quotes.
func splitContacts(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if last := strings.TrimSpace(s[start:]); last != "" {
		out = append(out, last)
	}
	return out
}

// --- REGISTER client --------------------------------------------------------

// registerer sends REGISTERs for one AOR over one client, answering 401
// challenges like a phone: it keeps the last nonce and counts nc up.
type registerer struct {
	c        *client
	authUser string // digest username
	aorUser  string // the user of To/From
	domain   string // To/From domain and realm
	ruri     string // Request-URI; "sip:" + domain by default
	pw       string
	alg      string // "MD5" or "SHA-256"
	callID   string
	cseq     int
	nonce    string
	realm    string
	nc       int
}

// newRegisterer returns a registerer for user@example.test with testPassword, MD5.
func newRegisterer(c *client, user string) *registerer {
	return &registerer{c: c, authUser: user, aorUser: user, domain: "example.test", ruri: "sip:example.test",
		pw: testPassword, alg: "MD5", callID: randHex(10) + "@e2e.invalid", cseq: 1}
}

// message builds one REGISTER with the header lines extra (each ending in
// "\n"), with Authorization when the registerer holds a nonce.
func (r *registerer) message(extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER %s SIP/2.0\n", r.ruri)
	b.WriteString("Via: SIP/2.0/$TRANSPORT $LOCAL;branch=$BRANCH;rport\n")
	b.WriteString("Max-Forwards: 70\n")
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=$TAG\n", r.aorUser, r.domain)
	fmt.Fprintf(&b, "To: <sip:%s@%s>\n", r.aorUser, r.domain)
	fmt.Fprintf(&b, "Call-ID: %s\n", r.callID)
	fmt.Fprintf(&b, "CSeq: %d REGISTER\n", r.cseq)
	r.cseq++
	b.WriteString(extra)
	if r.nonce != "" {
		r.nc++
		nc := fmt.Sprintf("%08x", r.nc)
		cnonce := randHex(8)
		resp := digestResponse(r.alg, r.authUser, r.realm, r.pw, "REGISTER", r.ruri, r.nonce, nc, cnonce)
		fmt.Fprintf(&b, "Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "+
			"response=\"%s\", algorithm=%s, qop=auth, nc=%s, cnonce=\"%s\"\n",
			r.authUser, r.realm, r.nonce, r.ruri, resp, r.alg, nc, cnonce)
	}
	b.WriteString("Content-Length: 0\n\n")
	return b.String()
}

// adopt takes the nonce of a 401 for the registerer's algorithm.
func (r *registerer) adopt(t testing.TB, resp string) {
	t.Helper()
	ch := pick(t, challenges(resp), r.alg)
	r.nonce, r.realm, r.nc = ch.nonce, ch.realm, 0
}

// once sends one REGISTER and returns the final response.
func (r *registerer) once(t testing.TB, extra string) string {
	t.Helper()
	r.c.send(r.message(extra))
	return final(t, r.c)
}

// register sends a REGISTER and, when it is challenged (first request, or a
// nonce the server no longer takes), answers the challenge once. It returns
// the final response.
func (r *registerer) register(t testing.TB, extra string) string {
	t.Helper()
	resp := r.once(t, extra)
	if statusCode(resp) == 401 {
		r.adopt(t, resp)
		resp = r.once(t, extra)
	}
	return resp
}

// mustRegister is register expecting 200; it returns the bindings listed.
func (r *registerer) mustRegister(t testing.TB, extra string) map[string]binding {
	t.Helper()
	resp := r.register(t, extra)
	if statusCode(resp) != 200 {
		t.Fatalf("REGISTER %s@%s over %s: want 200, got\n%s", r.aorUser, r.domain, r.c.proto, resp)
	}
	return bindings(t, resp)
}

// list sends a REGISTER without Contact (RFC 3261 §10.3 step 8: a query).
func (r *registerer) list(t testing.TB) map[string]binding {
	t.Helper()
	return r.mustRegister(t, "")
}

// contact returns a Contact header line for uri with params (";expires=60").
func contact(uri, params string) string { return "Contact: <" + uri + ">" + params + "\n" }

// --- running Apps -----------------------------------------------------------

// testConfig returns a configuration for an App on UDP and TCP loopback port
// 0, domain example.test, database dsn, authentication on.
func testConfig(t testing.TB, dsn string) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}
	cfg.HTTP = "off"
	cfg.Domain = []string{"example.test"}
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	}
	cfg.DB = dsn
	return cfg
}

// runApp starts an App for cfg with log (nil discards) and returns it and an
// idempotent stop (graceful Shutdown), which also runs when the test ends.
func runApp(t testing.TB, cfg *config.Config, log *slog.Logger) (*server, func() error) {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	a, err := app.New(cfg, log, nil)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stopErr = a.Shutdown(ctx)
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	s := &server{app: a, cfg: cfg, addrs: map[string]netip.AddrPort{}, paths: map[string]string{}}
	for _, ln := range a.SIP().Transport().Listeners() {
		if ln.Proto() == transport.UDP && ln.Addr().Addr().Is6() {
			continue
		}
		s.addrs[protoKey(ln.Proto())] = ln.Addr()
	}
	return s, stop
}

// addUsers creates users (user@domain) with testPassword in the database dsn,
// through the same store `parley user add` uses.
func addUsers(t testing.TB, dsn string, aors ...string) {
	t.Helper()
	d := openDB(t, dsn)
	st := users.New(d)
	for _, aor := range aors {
		if err := st.Add(context.Background(), aor, testPassword); err != nil {
			t.Fatalf("add user %s: %v", aor, err)
		}
	}
}

// openDB opens and migrates dsn; it is closed when the test ends.
func openDB(t testing.TB, dsn string) *db.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", dsn, err)
	}
	return d
}

// --- UAS side and other methods ------------------------------------------

// awaitRequest returns the next request of method that c receives within
// replyTimeout, skipping anything else (retransmissions, responses).
func awaitRequest(t testing.TB, c *client, method string) string {
	t.Helper()
	deadline := time.Now().Add(replyTimeout)
	for {
		m, err := c.recv(time.Until(deadline))
		if err != nil {
			t.Fatalf("%s: no %s request within %v", c.proto, method, replyTimeout)
		}
		if strings.HasPrefix(m, method+" ") {
			return m
		}
	}
}

// responseTo builds the response code reason to req as a UAS does (RFC 3261
// §8.2.6): every Via, From, Call-ID and CSeq copied, To with a tag added.
func responseTo(req string, code int, reason string) string {
	head, _, _ := strings.Cut(req, "\r\n\r\n")
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, l := range strings.Split(head, "\r\n")[1:] {
		n, v, _ := strings.Cut(l, ":")
		n = strings.ToLower(strings.TrimSpace(n))
		if long, ok := compactNames[n]; ok { // proxy_sipmsg_test.go: RFC 3261 §7.3.3 compact forms
			n = long
		}
		switch n {
		case "via", "from", "call-id", "cseq":
			b.WriteString(l + "\r\n")
		case "to":
			if !strings.Contains(v, ";tag=") {
				v += ";tag=" + randHex(4)
			}
			b.WriteString("To:" + v + "\r\n")
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

// proxyAuthFor answers a 407 challenge ch for a request method to uri (RFC
// 7616 §3.4, qop=auth, nc 1).
func proxyAuthFor(ch challenge, user, pw, method, uri string) string {
	cnonce := randHex(8)
	resp := digestResponse(ch.algorithm, user, ch.realm, pw, method, uri, ch.nonce, "00000001", cnonce)
	return "Proxy-Authorization: Digest username=\"" + user + "\", realm=\"" + ch.realm + "\", nonce=\"" + ch.nonce +
		"\", uri=\"" + uri + "\", response=\"" + resp + "\", algorithm=" + ch.algorithm +
		", qop=auth, nc=00000001, cnonce=\"" + cnonce + "\"\n"
}

// oodRequest is an out-of-dialog request method from from@example.test to
// to@example.test with the header lines extra (a template for client.send).
func oodRequest(method, from, to, callID string, cseq int, extra string) string {
	return fmt.Sprintf("%s sip:%s@example.test SIP/2.0\n", method, to) +
		"Via: SIP/2.0/$TRANSPORT $LOCAL;branch=$BRANCH;rport\n" +
		"Max-Forwards: 70\n" +
		"From: <sip:" + from + "@example.test>;tag=$TAG\n" +
		"To: <sip:" + to + "@example.test>\n" +
		"Call-ID: " + callID + "\n" +
		fmt.Sprintf("CSeq: %d %s\n", cseq, method) +
		"Contact: <sip:" + from + "@$LOCAL>\n" +
		extra +
		"Content-Length: 0\n\n"
}

// sendFinal sends tmpl and returns its final response; a non-2xx final
// response to an INVITE is acknowledged (RFC 3261 §17.1.1.3).
func sendFinal(t testing.TB, c *client, tmpl string) string {
	t.Helper()
	sent := c.send(tmpl)
	resp := final(t, c)
	if strings.HasPrefix(sent, "INVITE ") && statusCode(resp) >= 300 {
		c.sendRaw([]byte(ackFor(sent, resp)))
	}
	return resp
}
