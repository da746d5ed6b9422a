package proxy

import (
	"hash/maphash"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// testProxy is a Proxy with just what the pure routing functions need:
// domain example.test (which names Parley in a Route without port), a loop
// hash seed and a signer.
func testProxy(t *testing.T) *Proxy {
	t.Helper()
	return &Proxy{id: sipserver.NewIdentity([]string{"example.test"}, "", nil), seed: maphash.MakeSeed(),
		tok: newTokens([]byte("unit test secret"), 0x0badcafe), redirDom: map[string]bool{}}
}

// request parses an INVITE with the given Request-URI and extra header lines.
func request(t *testing.T, ruri string, hdrs ...string) *sip.Message {
	t.Helper()
	raw := "INVITE " + ruri + " SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc\r\nMax-Forwards: 70\r\n" +
		"From: <sip:alice@example.test>;tag=a1\r\nTo: <sip:bob@example.test>\r\nCall-ID: c1@host\r\nCSeq: 1 INVITE\r\n"
	for _, h := range hdrs {
		raw += h + "\r\n"
	}
	m, err := sip.ParseCopy([]byte(raw + "Content-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	return m
}

func TestGroupByQ(t *testing.T) {
	for _, tc := range []struct {
		name string
		qs   []int
		want [][]int
	}{
		{"none", nil, nil},
		{"one", []int{1000}, [][]int{{1000}}},
		{"equal q in parallel", []int{500, 500, 500}, [][]int{{500, 500, 500}}},
		{"highest first, serial", []int{100, 1000, 500}, [][]int{{1000}, {500}, {100}}},
		{"groups", []int{500, 1000, 500, 1000, 0}, [][]int{{1000, 1000}, {500, 500}, {0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ts []target
			for i, q := range tc.qs {
				ts = append(ts, target{q: q, uri: string(rune('a' + i))})
			}
			var got [][]int
			var order []string
			for _, g := range groupByQ(ts) {
				var qs []int
				for _, t := range g {
					qs = append(qs, t.q)
					order = append(order, t.uri)
				}
				got = append(got, qs)
			}
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("groups %v, want %v", got, tc.want)
			}
			if tc.name == "groups" && strings.Join(order, "") != "bdace" {
				t.Errorf("order %v: equal q must keep their order (stable)", order)
			}
		})
	}
}

// TestRank: §16.7 step 6 — 6xx beats everything, then the lowest class, and
// within 4xx the responses the caller can act on (401, 407, 415, 420, 484).
func TestRank(t *testing.T) {
	better := [][2]int{ // each pair: the first is chosen over the second
		{600, 200}, {603, 486}, {603, 300}, {302, 404}, {401, 404}, {407, 486}, {415, 408},
		{420, 480}, {484, 404}, {404, 503}, {486, 500}, {408, 503}, {300, 401},
	}
	for _, p := range better {
		if rank(p[0]) >= rank(p[1]) {
			t.Errorf("rank(%d)=%d is not better than rank(%d)=%d", p[0], rank(p[0]), p[1], rank(p[1]))
		}
	}
	for _, same := range [][2]int{{404, 486}, {401, 407}, {500, 503}, {600, 699}} {
		if rank(same[0]) != rank(same[1]) {
			t.Errorf("rank(%d) != rank(%d): the first of equals should stay", same[0], same[1])
		}
	}
}

// TestProcessRoutes: §16.4 — Route values naming Parley are counted for
// removal, the first other one is the next hop; a Request-URI that is one of
// our Record-Routes came from a strict router. Flows are believed only under
// a valid signature for the request's Call-ID.
func TestProcessRoutes(t *testing.T) {
	p := testProxy(t)
	pf, pt := "udp~192.0.2.1~5060~0", "tcp~192.0.2.2~40000~7"
	good := p.signFlows([]byte("c1@host"), pf, pt)
	otherCall := p.signFlows([]byte("c2@host"), pf, pt)
	rr := func(sig string) string {
		return "<sip:example.test;lr;pf=" + pf + ";pt=" + pt + ";ps=" + sig + ">"
	}
	for _, tc := range []struct {
		name             string
		ruri             string
		routes           []string
		ours             int
		next, strict     string
		signed, conn7    bool
		forwardedRoutes  int
		removedFromRoute bool
	}{
		{name: "no Route", ruri: "sip:bob@example.test"},
		{name: "foreign Route", ruri: "sip:bob@example.test", routes: []string{"<sip:gw.example.net;lr>"},
			next: "sip:gw.example.net;lr", forwardedRoutes: 1},
		{name: "outbound proxy Route", ruri: "sip:bob@example.test", routes: []string{"<sip:example.test;lr>"}, ours: 1},
		{name: "signed Record-Route", ruri: "sip:bob@192.0.2.2", routes: []string{rr(good)}, ours: 1, signed: true, conn7: true},
		{name: "signed, then a foreign Route", ruri: "sip:bob@192.0.2.2",
			routes: []string{rr(good), "<sip:p2.example.net;lr>"}, ours: 1, signed: true, conn7: true,
			next: "sip:p2.example.net;lr", forwardedRoutes: 1},
		{name: "double Record-Route", ruri: "sip:bob@192.0.2.2", routes: []string{rr(good), rr(good)}, ours: 2, signed: true, conn7: true},
		{name: "unsigned flows", ruri: "sip:bob@192.0.2.2",
			routes: []string{"<sip:example.test;lr;pf=" + pf + ";pt=" + pt + ">"}, ours: 1},
		{name: "bad signature", ruri: "sip:bob@192.0.2.2", routes: []string{rr("0badcafe.AAAAAAAAAAAAAAAA")}, ours: 1},
		{name: "signature of another call", ruri: "sip:bob@192.0.2.2", routes: []string{rr(otherCall)}, ours: 1},
		{name: "foreign Route first", ruri: "sip:bob@192.0.2.2", routes: []string{"<sip:evil.example;lr>", rr(good)},
			next: "sip:evil.example;lr", forwardedRoutes: 2},
		{name: "strict router", ruri: strings.Trim(rr(good), "<>"), routes: []string{"<sip:bob@192.0.2.2>"},
			strict: "sip:bob@192.0.2.2", signed: true, conn7: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdrs []string
			for _, r := range tc.routes {
				hdrs = append(hdrs, "Route: "+r)
			}
			req := request(t, tc.ruri, hdrs...)
			rt := p.processRoutes(req)
			if rt.ours != tc.ours || string(rt.next) != tc.next || string(rt.strict) != tc.strict || rt.signed != tc.signed {
				t.Errorf("ours %d next %q strict %q signed %v; want %d %q %q %v",
					rt.ours, rt.next, rt.strict, rt.signed, tc.ours, tc.next, tc.strict, tc.signed)
			}
			if rt.haveFlows != tc.signed {
				t.Errorf("haveFlows %v without signed %v", rt.haveFlows, rt.signed)
			}
			if tc.conn7 && (rt.to.conn != 7 || rt.to.proto != transport.TCP || rt.from.addr != netip.MustParseAddrPort("192.0.2.1:5060")) {
				t.Errorf("flows %+v %+v", rt.from, rt.to)
			}
			if n := len(forwardedRoutes(req, &rt)); n != tc.forwardedRoutes {
				t.Errorf("%d Route values forwarded, want %d", n, tc.forwardedRoutes)
			}
		})
	}
}

// TestProcessRoutesOtherProcess: flows signed by another process (restart,
// another instance) keep their addresses but lose their connection numbers.
func TestProcessRoutesOtherProcess(t *testing.T) {
	p := testProxy(t)
	before := testProxy(t)
	before.tok = newTokens(p.tok.key, 0x11111111)
	pf, pt := "udp~192.0.2.1~5060~0", "tcp~192.0.2.2~40000~7"
	route := "<sip:example.test;lr;pf=" + pf + ";pt=" + pt + ";ps=" + before.signFlows([]byte("c1@host"), pf, pt) + ">"
	rt := p.processRoutes(request(t, "sip:bob@192.0.2.2", "Route: "+route))
	if !rt.signed || rt.to.conn != 0 || rt.to.addr != netip.MustParseAddrPort("192.0.2.2:40000") || rt.to.proto != transport.TCP {
		t.Errorf("signed %v, to %+v: want the address of the flow without its connection", rt.signed, rt.to)
	}
}

// TestLoopHash: §16.6 step 8 and §16.3 step 4 — the hash changes with every
// field that makes a spiral, Route and Proxy-Authorization included, and not
// with what Parley itself removes before forwarding.
func TestLoopHash(t *testing.T) {
	p := testProxy(t)
	hash := func(ruri string, hdrs ...string) uint64 {
		req := request(t, ruri, hdrs...)
		rt := p.processRoutes(req)
		return p.loopHash(req, &rt)
	}
	base := hash("sip:bob@example.test")
	if base != hash("sip:bob@example.test") {
		t.Fatal("the hash of one request changes")
	}
	for _, tc := range []struct {
		name string
		ruri string
		hdrs []string
		same bool
	}{
		{"Request-URI", "sip:carol@example.test", nil, false},
		{"Route", "sip:bob@example.test", []string{"Route: <sip:gw.example.net;lr>"}, false},
		{"Proxy-Authorization for another realm", "sip:bob@example.test",
			[]string{`Proxy-Authorization: Digest realm="other.net", username="a", nonce="n", uri="sip:x", response="r"`}, false},
		{"Proxy-Require", "sip:bob@example.test", []string{"Proxy-Require: foo"}, false},
		{"our own Route", "sip:bob@example.test", []string{"Route: <sip:example.test;lr>"}, true},
		{"our own credentials", "sip:bob@example.test",
			[]string{`Proxy-Authorization: Digest realm="example.test", username="a", nonce="n", uri="sip:x", response="r"`}, true},
		{"Max-Forwards and Via", "sip:bob@example.test", []string{"Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKother"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := hash(tc.ruri, tc.hdrs...); (got == base) != tc.same {
				t.Errorf("hash equal to the plain request: %v, want %v", got == base, tc.same)
			}
		})
	}
}

func TestFlowEncodeDecode(t *testing.T) {
	for _, f := range []flow{
		{transport.UDP, netip.MustParseAddrPort("192.0.2.1:5060"), 0},
		{transport.TLS, netip.MustParseAddrPort("[2001:db8::1]:5061"), 1 << 40},
		{transport.WSS, netip.MustParseAddrPort("127.0.0.1:443"), 12},
	} {
		got, ok := decodeFlow([]byte(f.encode()))
		if !ok || got != f {
			t.Errorf("decodeFlow(%q) = %+v, %v; want %+v", f.encode(), got, ok, f)
		}
	}
	for _, bad := range []string{"", "udp~1.2.3.4~5060", "xyz~1.2.3.4~5060~0", "udp~host~5060~0", "udp~1.2.3.4~70000~0", "udp~1.2.3.4~5060~-1"} {
		if _, ok := decodeFlow([]byte(bad)); ok {
			t.Errorf("decodeFlow(%q) accepted", bad)
		}
	}
}

func TestDestOfVia(t *testing.T) {
	for _, tc := range []struct {
		via  string
		want string
		ok   bool
	}{
		{"SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKa", "UDP 192.0.2.1:5070", true},
		{"SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa", "UDP 192.0.2.1:5060", true},
		{"SIP/2.0/TLS 192.0.2.1;branch=z9hG4bKa", "TLS 192.0.2.1:5061", true},
		{"SIP/2.0/TCP host.invalid:5070;branch=z9hG4bKa;received=198.51.100.7;rport=40001", "TCP 198.51.100.7:40001", true},
		{"SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bKa", "UDP [2001:db8::1]:5070", true},
		{"SIP/2.0/UDP host.invalid;branch=z9hG4bKa", "", false},
		{"SIP/2.0/SCTP 192.0.2.1;branch=z9hG4bKa", "", false},
	} {
		v, err := sip.ParseVia([]byte(tc.via))
		if err != nil {
			t.Fatalf("ParseVia(%q): %v", tc.via, err)
		}
		d, ok := destOfVia(&v)
		if got := d.Proto.String() + " " + d.Addr.String(); ok != tc.ok || ok && got != tc.want {
			t.Errorf("destOfVia(%q) = %q, %v; want %q, %v", tc.via, got, ok, tc.want, tc.ok)
		}
	}
}

// TestTelNumberAndRouteFor: a static route matches a sip: user or a tel:
// number without visual separators (RFC 3966 §5.1.1); other schemes never.
func TestTelNumberAndRouteFor(t *testing.T) {
	p := testProxy(t)
	p.cfg.Routes = []Route{
		{User: regexp.MustCompile(`^\+?[0-9]{6,}$`), To: "sip:192.0.2.50:5060;transport=udp"},
		{User: regexp.MustCompile(`^support$`), To: "sip:helpdesk.example.net"},
	}
	for _, tc := range []struct {
		uri, user string
		route     int // index into p.cfg.Routes, -1 for none
	}{
		{"tel:+1-201-555-0123", "+12015550123", 0},
		{"tel:+1.201.(555).0123;phone-context=example.com", "+12015550123", 0},
		{"TEL:4930123456", "4930123456", 0},
		{"tel:123", "", -1},
		{"sip:+4930123456@example.test", "+4930123456", 0},
		{"sip:support@example.test", "support", 1},
		{"sip:bob@example.test", "", -1},
		{"mailto:+4930123456@example.test", "", -1},
	} {
		u, err := sip.ParseURI([]byte(tc.uri))
		if err != nil {
			t.Fatalf("ParseURI(%q): %v", tc.uri, err)
		}
		r, user := p.routeFor(&u)
		got := -1
		for i := range p.cfg.Routes {
			if &p.cfg.Routes[i] == r {
				got = i
			}
		}
		if got != tc.route || user != tc.user {
			t.Errorf("routeFor(%q) = route %d user %q; want %d %q", tc.uri, got, user, tc.route, tc.user)
		}
	}
}

// TestRouteContact: the dialed user at a route's gateway, its parameters
// kept, any user of its own replaced.
func TestRouteContact(t *testing.T) {
	for _, tc := range []struct{ to, user, want string }{
		{"sip:192.0.2.50:5060;transport=udp", "+4930123", "sip:+4930123@192.0.2.50:5060;transport=udp"},
		{"sips:gw.example.net", "100", "sips:100@gw.example.net"},
		{"sip:trunk@gw.example.net;transport=tcp?X-A=b", "555", "sip:555@gw.example.net;transport=tcp"},
		{"sip:[2001:db8::5]:5070", "200", "sip:200@[2001:db8::5]:5070"},
		{"sip:gw.example.net", "", "sip:gw.example.net"},
	} {
		if got := routeContact(tc.to, tc.user); got != tc.want {
			t.Errorf("routeContact(%q, %q) = %q, want %q", tc.to, tc.user, got, tc.want)
		}
	}
}

// TestRedirects: redirect mode for the whole server, or for some domains
// (case and a trailing dot ignored).
func TestRedirects(t *testing.T) {
	p := testProxy(t)
	p.redirDom = map[string]bool{"example.org": true}
	for host, want := range map[string]bool{"example.org": true, "EXAMPLE.org.": true, "example.test": false, "": false} {
		if got := p.redirects([]byte(host)); got != want {
			t.Errorf("redirects(%q) = %v, want %v", host, got, want)
		}
	}
	p.cfg.Redirect = true
	if !p.redirects([]byte("example.test")) {
		t.Error("proxy.redirect does not cover every domain")
	}
}

// TestCalleeRoutes: the route set from Parley to the callee is the
// Record-Route above ours, reversed (§12.1.2).
func TestCalleeRoutes(t *testing.T) {
	p := testProxy(t)
	res, err := sip.ParseCopy([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\n" +
		"Record-Route: <sip:p3.example.net;lr>\r\nRecord-Route: <sip:p2.example.net;lr>\r\n" +
		"Record-Route: <sip:example.test;lr>\r\nRecord-Route: <sip:p0.example.net;lr>\r\n" +
		"From: <sip:a@example.test>;tag=1\r\nTo: <sip:b@example.test>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:b@192.0.2.9>\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := p.calleeRoutes(res)
	want := []string{"<sip:p2.example.net;lr>", "<sip:p3.example.net;lr>"}
	if !slices.Equal(got, want) {
		t.Errorf("calleeRoutes = %q, want %q", got, want)
	}
	bye := string(lateRequest("BYE", firstContact(res), got, res, res.CSeq+1, []byte("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb"), ""))
	for _, line := range []string{"BYE sip:b@192.0.2.9 SIP/2.0\r\n", "Route: <sip:p2.example.net;lr>\r\nRoute: <sip:p3.example.net;lr>\r\n",
		"From: <sip:a@example.test>;tag=1\r\n", "To: <sip:b@example.test>;tag=2\r\n", "CSeq: 2 BYE\r\n"} {
		if !strings.Contains(bye, line) {
			t.Errorf("BYE lacks %q:\n%s", line, bye)
		}
	}
	if _, err := sip.ParseCopy([]byte(bye)); err != nil {
		t.Errorf("BYE does not parse: %v\n%s", err, bye)
	}
}

// TestLateBranches: a branch given up is found once with the BYE to send,
// then as a retransmission; an unknown or expired branch is not found.
func TestLateBranches(t *testing.T) {
	l := newLateBranches(0)
	l.add("z9hG4bKexpired", transport.Dest{})
	if _, _, ok := l.take([]byte("z9hG4bKexpired")); ok {
		t.Error("an expired branch was found")
	}
	l = newLateBranches(1 << 40)
	d := transport.Dest{Proto: transport.UDP, Addr: netip.MustParseAddrPort("192.0.2.1:5060")}
	l.add("z9hG4bKx", d)
	if got, bye, ok := l.take([]byte("z9hG4bKx")); !ok || !bye || got != d {
		t.Errorf("first take: %+v %v %v", got, bye, ok)
	}
	if _, bye, ok := l.take([]byte("z9hG4bKx")); !ok || bye {
		t.Errorf("second take: bye %v ok %v, want a retransmission (no second BYE)", bye, ok)
	}
	if _, _, ok := l.take([]byte("z9hG4bKy")); ok {
		t.Error("an unknown branch was found")
	}
	for i := range maxLateBranches + 10 {
		l.add(string(rune(i))+"b", d)
	}
	if n := len(l.m); n > maxLateBranches {
		t.Errorf("%d branches kept, more than %d", n, maxLateBranches)
	}
}

type recorded struct {
	mu  sync.Mutex
	got []acc.Record
}

func (r *recorded) Record(x acc.Record) {
	r.mu.Lock()
	r.got = append(r.got, x)
	r.mu.Unlock()
}

// TestCallsForget: an INVITE a stateless route forwarded is dropped from the
// calls in progress without a record (Parley never learns how it ends), so
// retransmissions and such calls do not pile up.
func TestCallsForget(t *testing.T) {
	rec := &recorded{}
	cs := NewCalls(rec)
	c := cs.start(request(t, "sip:9001@example.test"), transaction.Source{}, false)
	if n := len(cs.List()); n != 1 {
		t.Fatalf("%d calls in progress after start, want 1", n)
	}
	cs.forget(c)
	if n := len(cs.List()); n != 0 {
		t.Errorf("%d calls in progress after forget, want 0", n)
	}
	cs.failed(c, 500, "")
	if len(rec.got) != 0 {
		t.Errorf("a forgotten call wrote %d records", len(rec.got))
	}
	cs.forget(nil) // a call without tracking
}
