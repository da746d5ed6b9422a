package test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/db"
)

// End-to-end tests of the registrar (RFC 3261 §10.3, RFC 3327) through the
// running App with digest authentication on, over UDP and TCP. Each rule runs
// as its own user, so the rules do not see each other's bindings.

// regMaxContacts is registrar.max_contacts of the servers of these tests.
const regMaxContacts = 3

// regEnv is what a registrar rule gets: a client, its user, the transport key
// and the database, to read what the location service stored.
type regEnv struct {
	s     *server
	c     *client
	user  string
	proto string // "UDP" or "TCP", as the location table stores it
	dsn   string
}

// reg returns a new registerer (a new Call-ID) for the rule's user.
func (e *regEnv) reg() *registerer { return newRegisterer(e.c, e.user) }

func TestRegistrarRFC3261s10_3(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, e *regEnv)
	}{
		{"RFC3261_10.3_step7_several_contacts_with_q_and_per-contact_expires", testContactsQExpires},
		{"RFC3261_10.2.1.1_10.3_step7_Expires_header_default_and_max", testExpiresHeader},
		{"RFC3261_10.3_step7_423_Interval_Too_Brief_with_Min-Expires", test423MinExpires},
		{"RFC3261_10.3_step6_Contact_star_with_Expires_0_removes_all", testStarRemovesAll},
		{"RFC3261_10.3_step6_Contact_star_otherwise_400", testStarOtherwise400},
		{"RFC3261_10.3_step8_REGISTER_without_Contact_lists_bindings", testQueryBindings},
		{"RFC3261_10.3_step7_lower_CSeq_same_Call-ID_400_nothing_changed", testCSeqOrder},
		{"RFC3261_10.3_step8_20.17_200_lists_remaining_expiry_and_Date_GMT", testRemainingExpiryDate},
		{"RFC3327_5.3_Path_stored_and_echoed_with_Supported_path", testPath},
		{"RFC3261_10.3_binding_records_source_address_and_transport", testSourceTransport},
		{"RFC3261_10.3_max_contacts_503_nothing_changed", testMaxContacts},
		{"RFC3261_10.3_step5_registering_anothers_AOR_403", testOtherAOR403},
		{"RFC3261_10.3_step3_AOR_of_a_foreign_domain_404", testForeignDomain404},
		{"RFC3261_20.10_malformed_Contact_400_names_it", testMalformedContact},
		{"RFC3261_20.19_non-numeric_Expires_400_names_it", testBadExpires},
		{"RFC3261_10.3_absurd_number_of_contacts_refused_4xx_server_fine", testAbsurdContacts},
		{"RFC3261_10.3_step5_19.1.4_escaped_user_and_domain_case_are_the_same_AOR", testAORComparison},
		{"RFC3261_20.10_Contact_forms_name-addr_and_addr-spec", testContactForms},
		{"RFC3261_10.3_step7_19.1.4_contacts_compared_as_URIs", testContactURIEquality},
	}
	for _, tr := range rawTransports {
		t.Run(tr, func(t *testing.T) {
			cfg := testConfig(t, "")
			cfg.Registrar.MaxContacts = regMaxContacts
			aors := []string{"bob@example.test"}
			for i := range cases {
				aors = append(aors, fmt.Sprintf("u%d@example.test", i))
			}
			addUsers(t, cfg.DB, aors...)
			s, _ := runApp(t, cfg, nil)
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, &regEnv{s: s, c: dial(t, s, tr), user: fmt.Sprintf("u%d", i),
						proto: strings.ToUpper(tr), dsn: cfg.DB})
				})
			}
		})
	}
}

// wantBinding checks that bs holds uri with an expiry in [exp-3, exp] and the q-value q ("" for 1).
func wantBinding(t *testing.T, bs map[string]binding, uri string, exp int, q string) {
	t.Helper()
	b, ok := bs[uri]
	switch {
	case !ok:
		t.Errorf("binding %s missing; have %v", uri, bs)
	case b.expires > exp || b.expires < exp-3:
		t.Errorf("binding %s: expires=%d, want %d (minus elapsed seconds)", uri, b.expires, exp)
	case b.q != q:
		t.Errorf("binding %s: q=%q, want %q", uri, b.q, q)
	}
}

// wantCount checks that bs holds n bindings.
func wantCount(t *testing.T, bs map[string]binding, n int) {
	t.Helper()
	if len(bs) != n {
		t.Errorf("have %d bindings %v, want %d", len(bs), bs, n)
	}
}

// testContactsQExpires: every Contact of a REGISTER is bound with its q and
// its own expires parameter, else the Expires header; a refresh changes only
// its contact, expires=0 removes only its contact (§10.3 step 7, §10.2.1.2).
func testContactsQExpires(t *testing.T, e *regEnv) {
	r := e.reg()
	bs := r.mustRegister(t, "Expires: 300\n"+
		"Contact: <sip:a@192.0.2.1:5060>;q=0.9;expires=600, <sip:b@192.0.2.2:5060>;q=0.5\n"+
		contact("sip:c@192.0.2.3:5060", ""))
	wantCount(t, bs, 3)
	wantBinding(t, bs, "sip:a@192.0.2.1:5060", 600, "0.9")
	wantBinding(t, bs, "sip:b@192.0.2.2:5060", 300, "0.5")
	wantBinding(t, bs, "sip:c@192.0.2.3:5060", 300, "")
	bs = r.mustRegister(t, contact("sip:a@192.0.2.1:5060", ";q=0.1;expires=900")+contact("sip:b@192.0.2.2:5060", ";expires=0"))
	wantCount(t, bs, 2)
	wantBinding(t, bs, "sip:a@192.0.2.1:5060", 900, "0.1")
	wantBinding(t, bs, "sip:c@192.0.2.3:5060", 300, "")
	bs = r.list(t)
	wantCount(t, bs, 2)
	wantBinding(t, bs, "sip:a@192.0.2.1:5060", 900, "0.1")
}

// testExpiresHeader: without expires anywhere registrar.default_expires (3600)
// applies; an Expires header is used, and shortened to registrar.max_expires
// (7200) when above it (§10.3 step 7: the registrar MAY shorten).
func testExpiresHeader(t *testing.T, e *regEnv) {
	r := e.reg()
	wantBinding(t, r.mustRegister(t, contact("sip:d@192.0.2.1:5060", "")), "sip:d@192.0.2.1:5060", 3600, "")
	wantBinding(t, r.mustRegister(t, "Expires: 1800\n"+contact("sip:d@192.0.2.1:5060", "")), "sip:d@192.0.2.1:5060", 1800, "")
	wantBinding(t, r.mustRegister(t, "Expires: 100000\n"+contact("sip:d@192.0.2.1:5060", "")), "sip:d@192.0.2.1:5060", 7200, "")
	wantBinding(t, r.mustRegister(t, "Expires: 60\n"+contact("sip:d@192.0.2.1:5060", "")), "sip:d@192.0.2.1:5060", 60, "")
}

// test423MinExpires: a non-zero expiry below registrar.min_expires (60) gets
// 423 with Min-Expires and registers nothing (§10.3 step 7, §20.23).
func test423MinExpires(t *testing.T, e *regEnv) {
	r := e.reg()
	for _, extra := range []string{
		"Expires: 30\n" + contact("sip:e@192.0.2.1:5060", ""),
		contact("sip:e@192.0.2.1:5060", ";expires=59"),
		contact("sip:e@192.0.2.1:5060", ";expires=600") + contact("sip:f@192.0.2.1:5060", ";expires=1"),
	} {
		resp := r.register(t, extra)
		if !regexpMatch(`^SIP/2.0 423 `, resp) {
			t.Fatalf("want 423 for\n%s\ngot\n%s", extra, resp)
		}
		if v, _ := header(resp, "Min-Expires"); v != "60" {
			t.Errorf("423 has Min-Expires %q, want 60:\n%s", v, resp)
		}
	}
	wantCount(t, r.list(t), 0)
}

// testStarRemovesAll: "Contact: *" with "Expires: 0" removes every binding of
// the AOR, whatever Call-ID registered them (§10.3 step 6).
func testStarRemovesAll(t *testing.T, e *regEnv) {
	e.reg().mustRegister(t, contact("sip:g1@192.0.2.1:5060", ""))
	r := e.reg()
	wantCount(t, r.mustRegister(t, contact("sip:g2@192.0.2.1:5060", "")), 2)
	resp := r.register(t, "Contact: *\nExpires: 0\n")
	if statusCode(resp) != 200 {
		t.Fatalf("Contact: * Expires: 0: want 200, got\n%s", resp)
	}
	wantCount(t, bindings(t, resp), 0)
	wantCount(t, r.list(t), 0)
}

// testStarOtherwise400: "Contact: *" with a non-zero or no Expires, or next to
// another contact, gets 400 and changes nothing (§10.3 step 6).
func testStarOtherwise400(t *testing.T, e *regEnv) {
	r := e.reg()
	r.mustRegister(t, contact("sip:h@192.0.2.1:5060", ""))
	for _, extra := range []string{
		"Contact: *\n",
		"Contact: *\nExpires: 60\n",
		"Contact: *\nContact: <sip:h2@192.0.2.1:5060>\nExpires: 0\n",
		"Contact: *, <sip:h2@192.0.2.1:5060>\nExpires: 0\n",
		"Contact: <sip:h@192.0.2.1:5060>;expires=0\nContact: *\nExpires: 0\n",
	} {
		if resp := r.register(t, extra); !regexpMatch(`^SIP/2.0 400 `, resp) {
			t.Errorf("want 400 for\n%s\ngot\n%s", extra, resp)
		}
	}
	bs := r.list(t)
	wantCount(t, bs, 1)
	wantBinding(t, bs, "sip:h@192.0.2.1:5060", 3600, "")
}

// testQueryBindings: a REGISTER without Contact, from any Call-ID, lists the
// bindings and changes nothing (§10.3 step 8, §10.2.3).
func testQueryBindings(t *testing.T, e *regEnv) {
	e.reg().mustRegister(t, contact("sip:i1@192.0.2.1:5060", ";expires=600"))
	e.reg().mustRegister(t, contact("sip:i2@192.0.2.2:5060", ";expires=1200;q=0.7"))
	for range 2 {
		bs := e.reg().list(t)
		wantCount(t, bs, 2)
		wantBinding(t, bs, "sip:i1@192.0.2.1:5060", 600, "")
		wantBinding(t, bs, "sip:i2@192.0.2.2:5060", 1200, "0.7")
	}
}

// testCSeqOrder: for a binding of the same Call-ID, a CSeq not above the
// stored one aborts the request with 400 and changes nothing; another Call-ID
// may use any CSeq (§10.3 step 7).
func testCSeqOrder(t *testing.T, e *regEnv) {
	r := e.reg()
	r.list(t) // get a nonce
	r.cseq = 10
	r.mustRegister(t, contact("sip:j@192.0.2.1:5060", ";expires=600"))
	for _, cseq := range []int{5, 10} {
		r.cseq = cseq
		resp := r.register(t, contact("sip:j@192.0.2.1:5060", ";expires=0")+contact("sip:j2@192.0.2.1:5060", ""))
		if !regexpMatch(`^SIP/2.0 400 `, resp) {
			t.Fatalf("CSeq %d after 10 on the same Call-ID: want 400, got\n%s", cseq, resp)
		}
	}
	r.cseq = 9
	if resp := r.register(t, "Contact: *\nExpires: 0\n"); !regexpMatch(`^SIP/2.0 400 `, resp) {
		t.Fatalf("Contact: * with CSeq 9 after 10 on the same Call-ID: want 400, got\n%s", resp)
	}
	bs := r.list(t)
	wantCount(t, bs, 1)
	wantBinding(t, bs, "sip:j@192.0.2.1:5060", 600, "")
	other := e.reg()
	other.list(t)
	other.cseq = 1
	wantCount(t, other.mustRegister(t, contact("sip:j@192.0.2.1:5060", ";expires=0")), 0)
}

// testRemainingExpiryDate: the 200 lists every binding of the AOR with the
// time it has left, not the time it was given, and carries a Date in GMT
// (§10.3 step 8, §20.17).
func testRemainingExpiryDate(t *testing.T, e *regEnv) {
	e.reg().mustRegister(t, contact("sip:k1@192.0.2.1:5060", ";expires=600"))
	r := e.reg()
	r.mustRegister(t, contact("sip:k2@192.0.2.2:5060", ";expires=1200"))
	time.Sleep(2100 * time.Millisecond)
	resp := r.register(t, "")
	bs := bindings(t, resp)
	wantCount(t, bs, 2)
	for uri, full := range map[string]int{"sip:k1@192.0.2.1:5060": 600, "sip:k2@192.0.2.2:5060": 1200} {
		if b := bs[uri]; b.expires > full-2 || b.expires < full-5 {
			t.Errorf("%s: expires=%d after 2.1 s, want the remaining %d-2", uri, b.expires, full)
		}
	}
	d, ok := header(resp, "Date")
	if !ok {
		t.Fatalf("200 to REGISTER has no Date:\n%s", resp)
	}
	when, err := time.Parse(time.RFC1123, d)
	if err != nil || !strings.HasSuffix(d, " GMT") {
		t.Fatalf("Date %q is not an RFC 1123 date in GMT (%v)", d, err)
	}
	if dt := time.Since(when); dt < -5*time.Second || dt > 5*time.Second {
		t.Errorf("Date %q is %v away from now", d, dt)
	}
}

// storedBinding is a row of the location table.
type storedBinding struct {
	path, transport, source, received string
}

// stored polls the location table of dsn (the write-back cache writes within
// about 100 ms) until aor has the contact uri, and returns its row.
func stored(t *testing.T, dsn, aor, uri string) storedBinding {
	t.Helper()
	d := openDB(t, dsn)
	var b storedBinding
	var err error
	ok := waitFor(3*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err = d.QueryRowContext(ctx, d.Rebind("SELECT path, transport, source_addr, received FROM location WHERE aor = ? AND contact = ?"),
			aor, uri).Scan(&b.path, &b.transport, &b.source, &b.received)
		return err == nil
	})
	if !ok {
		t.Fatalf("%s %s not in the location table within 3 s: %v", aor, uri, err)
	}
	return b
}

// storedCount returns the number of rows of the location table.
func storedCount(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.QueryRowContext(ctx, "SELECT COUNT(*) FROM location").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// testPath: Path values are stored with the binding always, and echoed in the
// 200 only when the REGISTER said Supported: path (RFC 3327 §5.3).
func testPath(t *testing.T, e *regEnv) {
	r := e.reg()
	const paths = "Path: <sip:edge1.example.net;lr>\nPath: <sip:edge2.example.net;lr>\n"
	resp := r.register(t, paths+"Supported: path\n"+contact("sip:l@192.0.2.1:5060", ""))
	if statusCode(resp) != 200 {
		t.Fatalf("want 200, got\n%s", resp)
	}
	got := headers(resp, "Path")
	if strings.Join(got, ",") != "<sip:edge1.example.net;lr>,<sip:edge2.example.net;lr>" {
		t.Errorf("200 echoes Path %q, want both in order:\n%s", got, resp)
	}
	b := stored(t, e.dsn, e.user+"@example.test", "sip:l@192.0.2.1:5060")
	if !strings.Contains(b.path, "edge1.example.net") || !strings.Contains(b.path, "edge2.example.net") ||
		strings.Index(b.path, "edge1") > strings.Index(b.path, "edge2") {
		t.Errorf("stored path %q, want edge1 then edge2", b.path)
	}
	resp = r.register(t, paths+contact("sip:l@192.0.2.1:5060", ""))
	if statusCode(resp) != 200 || len(headers(resp, "Path")) != 0 {
		t.Errorf("without Supported: path: want 200 without Path, got\n%s", resp)
	}
	// Supported is a comma-separated list (§20.37), as phones send it.
	resp = r.register(t, paths+"Supported: replaces, outbound,path\n"+contact("sip:l@192.0.2.1:5060", ""))
	if statusCode(resp) != 200 || len(headers(resp, "Path")) != 2 {
		t.Errorf("with Supported: replaces, outbound,path: want 200 with both Path values, got\n%s", resp)
	}
}

// testSourceTransport: a binding records the address, port and transport the
// REGISTER came from; when the Via sent-by is not that address (a NAT, RFC
// 3581) it also records the source as where to send requests.
func testSourceTransport(t *testing.T, e *regEnv) {
	e.reg().mustRegister(t, contact("sip:m@192.0.2.77:5060", ""))
	b := stored(t, e.dsn, e.user+"@example.test", "sip:m@192.0.2.77:5060")
	if b.transport != e.proto || b.source != e.c.local.String() {
		t.Errorf("stored transport %q source %q, want %s %s", b.transport, b.source, e.proto, e.c.local)
	}
	want := fmt.Sprintf("sip:%s;transport=%s", e.c.local, strings.ToLower(e.proto))
	if b.received != "" && b.received != want {
		t.Errorf("no NAT: stored received %q, want \"\" or %q", b.received, want)
	}

	r := e.reg()
	r.list(t)
	e.c.send(strings.Replace(r.message(contact("sip:m@10.0.0.5:5060", "")), "$LOCAL", "10.0.0.5:5060", 1))
	if resp := final(t, e.c); statusCode(resp) != 200 {
		t.Fatalf("REGISTER with a private Via: want 200, got\n%s", resp)
	}
	b = stored(t, e.dsn, e.user+"@example.test", "sip:m@10.0.0.5:5060")
	if b.transport != e.proto || b.source != e.c.local.String() || b.received != want {
		t.Errorf("behind NAT: stored transport %q source %q received %q, want %s %s %q",
			b.transport, b.source, b.received, e.proto, e.c.local, want)
	}
}

// testMaxContacts: a REGISTER that would leave more than max_contacts bindings
// gets 503 and changes nothing; removals in the same request count first.
func testMaxContacts(t *testing.T, e *regEnv) {
	r := e.reg()
	r.mustRegister(t, contact("sip:n1@192.0.2.1:5060", "")+contact("sip:n2@192.0.2.1:5060", ""))
	resp := r.register(t, contact("sip:n3@192.0.2.1:5060", "")+contact("sip:n4@192.0.2.1:5060", ""))
	if !regexpMatch(`^SIP/2.0 503 Too Many Registered Contacts\r\n`, resp) {
		t.Fatalf("%d contacts with max_contacts %d: want 503, got\n%s", 4, regMaxContacts, resp)
	}
	// §21.5.4, §20.33: Retry-After, the time until the first binding
	// (registered with the default 3600 s) expires.
	if ra, ok := header(resp, "Retry-After"); !ok || !regexpMatch(`^(359[0-9]|3600)$`, ra) {
		t.Errorf("503 Retry-After %q (present %v), want the 3600 s the bindings have left", ra, ok)
	}
	bs := r.list(t)
	wantCount(t, bs, 2)
	if _, ok := bs["sip:n3@192.0.2.1:5060"]; ok {
		t.Errorf("refused REGISTER added a binding: %v", bs)
	}
	bs = r.mustRegister(t, contact("sip:n1@192.0.2.1:5060", ";expires=0")+
		contact("sip:n3@192.0.2.1:5060", "")+contact("sip:n4@192.0.2.1:5060", ""))
	wantCount(t, bs, 3)
}

// testOtherAOR403: alice's credentials do not register bob's AOR (§10.3
// step 3: the registrar decides who may register an AOR).
func testOtherAOR403(t *testing.T, e *regEnv) {
	r := e.reg()
	r.aorUser = "bob"
	if resp := r.register(t, contact("sip:evil@192.0.2.66:5060", "")); !regexpMatch(`^SIP/2.0 403 `, resp) {
		t.Fatalf("%s registering bob's AOR: want 403, got\n%s", e.user, resp)
	}
	bob := newRegisterer(e.c, "bob")
	if bs := bob.list(t); len(bs) != 0 {
		t.Errorf("bob has bindings %v", bs)
	}
}

// testForeignDomain404: an AOR whose domain Parley does not serve gets 404
// (§10.3 step 3).
func testForeignDomain404(t *testing.T, e *regEnv) {
	r := e.reg()
	r.list(t) // the nonce of realm example.test
	r.domain = "foreign.test"
	if resp := r.register(t, contact("sip:o@192.0.2.1:5060", "")); !regexpMatch(`^SIP/2.0 404 `, resp) {
		t.Fatalf("AOR of foreign.test: want 404, got\n%s", resp)
	}
}

// testMalformedContact: a Contact that does not parse, or has a bad expires
// or q, gets 400 whose reason phrase names the Contact, and changes nothing.
func testMalformedContact(t *testing.T, e *regEnv) {
	r := e.reg()
	for _, v := range []string{
		"<sip:p@192.0.2.1:5060",
		"<sip:p@192.0.2.1:5060>;expires=soon",
		"<sip:p@192.0.2.1:5060>;q=2",
		"<sip:p@192.0.2.1:5060>;q=x",
		"<sip:p@192.0.2.1:5060>;expires=-1",
		"<>",
	} {
		resp := r.register(t, "Contact: "+v+"\n")
		if !regexpMatch(`^SIP/2.0 400 [^\r]*Contact`, resp) {
			t.Errorf("Contact: %s: want 400 naming Contact, got\n%s", v, resp)
		}
	}
	wantCount(t, r.list(t), 0)
}

// testBadExpires: an Expires header that is not a number gets 400 naming it
// (§20.19: delta-seconds), and registers nothing.
func testBadExpires(t *testing.T, e *regEnv) {
	r := e.reg()
	for _, v := range []string{"soon", "-5", "1.5", "99999999999"} {
		resp := r.register(t, "Expires: "+v+"\n"+contact("sip:q@192.0.2.1:5060", ""))
		if !regexpMatch(`^SIP/2.0 400 [^\r]*Expires`, resp) {
			t.Errorf("Expires: %s: want 400 naming Expires, got\n%s", v, resp)
		}
	}
	wantCount(t, r.list(t), 0)
}

// testAbsurdContacts: 1000 contacts in one REGISTER (one list, or one
// compact header each; short URIs keep the header section under the 16 KB a
// stream connection frames) are refused with a 4xx, 60 with 503
// (max_contacts); nothing is bound and the server serves the next REGISTER, on
// a new connection too.
func testAbsurdContacts(t *testing.T, e *regEnv) {
	var list, lines strings.Builder
	for i := range 1000 {
		if i > 0 {
			list.WriteString(",")
		}
		fmt.Fprintf(&list, "<sip:%d@h>", i)
		fmt.Fprintf(&lines, "m:<sip:%d@h>\n", i)
	}
	var sixty strings.Builder
	for i := range 60 {
		fmt.Fprintf(&sixty, "Contact: <sip:s%d@192.0.2.1:5060>\n", i)
	}
	r := e.reg()
	r.list(t)
	for _, tc := range []struct{ name, extra string }{
		{"1000 in one header", "Contact: " + list.String() + "\n"},
		{"1000 headers", lines.String()},
	} {
		resp := r.register(t, tc.extra)
		if code := statusCode(resp); code < 400 || code > 499 {
			t.Errorf("%s: want 4xx, got\n%.300s", tc.name, resp)
		}
	}
	if resp := r.register(t, sixty.String()); !regexpMatch(`^SIP/2.0 503 `, resp) {
		t.Errorf("60 contacts: want 503, got\n%.300s", resp)
	}
	wantCount(t, r.list(t), 0)
	fresh := newRegisterer(dial(t, e.s, strings.ToLower(e.proto)), e.user)
	wantCount(t, fresh.mustRegister(t, contact("sip:r@192.0.2.1:5060", "")), 1)
}

// testAORComparison: the To URI "sip:%75N@EXAMPLE.test" is the AOR uN@example.test
// (§10.3 step 5: the AOR is the To URI compared by §19.1.4, where escaped
// and unescaped characters and the host's case do not matter), so uN may
// register it and the binding is listed under the plain form.
func testAORComparison(t *testing.T, e *regEnv) {
	r := e.reg()
	r.list(t)
	r.aorUser, r.domain = "%75"+strings.TrimPrefix(e.user, "u"), "EXAMPLE.test"
	r.mustRegister(t, contact("sip:t@192.0.2.1:5060", ""))
	wantBinding(t, e.reg().list(t), "sip:t@192.0.2.1:5060", 3600, "")
}

// TestRegistrarRFC3261s10_3_ExpiredBindingNotListed: a binding whose expiry
// has passed is not listed any more, even before the sweeper removes it
// (§10.3 step 8: only current bindings; location/doc.go).
func TestRegistrarRFC3261s10_3_ExpiredBindingNotListed(t *testing.T) {
	for _, tr := range rawTransports {
		t.Run(tr, func(t *testing.T) {
			cfg := testConfig(t, "")
			cfg.Registrar.MinExpires = 1
			addUsers(t, cfg.DB, "alice@example.test")
			s, _ := runApp(t, cfg, nil)
			r := newRegisterer(dial(t, s, tr), "alice")
			bs := r.mustRegister(t, contact("sip:short@192.0.2.1:5060", ";expires=1")+contact("sip:long@192.0.2.1:5060", ""))
			wantCount(t, bs, 2)
			time.Sleep(1500 * time.Millisecond)
			bs = r.list(t)
			wantCount(t, bs, 1)
			wantBinding(t, bs, "sip:long@192.0.2.1:5060", 3600, "")
		})
	}
}

// testContactForms: a Contact without angle brackets has header parameters,
// not URI parameters (§20.10), and a quoted display name may hold a comma
// (§25.1 quoted-string) without splitting the value.
func testContactForms(t *testing.T, e *regEnv) {
	r := e.reg()
	bs := r.mustRegister(t, "Contact: sip:v1@192.0.2.1:5060;expires=600;q=0.3\n"+
		"Contact: \"Doe, John\" <sip:v2@192.0.2.1:5060;transport=tcp>;expires=900, <sip:v3@192.0.2.1>\n")
	wantCount(t, bs, 3)
	wantBinding(t, bs, "sip:v1@192.0.2.1:5060", 600, "0.3")
	wantBinding(t, bs, "sip:v2@192.0.2.1:5060;transport=tcp", 900, "")
	wantBinding(t, bs, "sip:v3@192.0.2.1", 3600, "")
}

// testContactURIEquality: contacts are matched to bindings as URIs (§10.3
// step 7 refers to §19.1.4), not as strings: the host's case does not make
// another binding, the user's does, and so does a transport parameter that
// only one of them has or that differs.
func testContactURIEquality(t *testing.T, e *regEnv) {
	r := e.reg()
	bs := r.mustRegister(t, contact("sip:w@HOST.example", ";expires=600"))
	wantCount(t, bs, 1)
	bs = r.mustRegister(t, contact("sip:w@host.example", ";expires=900"))
	wantCount(t, bs, 1)
	wantBinding(t, bs, "sip:w@host.example", 900, "")
	wantCount(t, r.mustRegister(t, contact("sip:W@host.example", "")), 2)
	wantCount(t, r.mustRegister(t, contact("sip:w@host.example;transport=tcp", "")), 3)
	bs = r.mustRegister(t, contact("sip:w@host.example;transport=TCP", ";expires=1200"))
	wantCount(t, bs, 3)
	wantBinding(t, bs, "sip:w@host.example;transport=TCP", 1200, "")
	wantCount(t, r.mustRegister(t, contact("sip:w@HOST.EXAMPLE", ";expires=0")+contact("sip:W@host.example", ";expires=0")), 1)
}

// TestRegistrarRFC3327s5_3_PathRouting: a binding registered through an edge
// proxy with Path is reached through it: a later INVITE to the AOR goes to
// the first Path hop (a loopback UA acting as the edge proxy), with the Path
// values as its Route headers in order and the Contact as Request-URI (RFC
// 3327 §5.3, RFC 3261 §16.6 step 6), and not to the Contact's address.
func TestRegistrarRFC3327s5_3_PathRouting(t *testing.T) {
	cfg := testConfig(t, "")
	addUsers(t, cfg.DB, "alice@example.test", "bob@example.test")
	s, _ := runApp(t, cfg, nil)
	edge, phone, alice := dial(t, s, "udp"), dial(t, s, "udp"), dial(t, s, "udp")
	wantRoutes := []string{"<sip:" + edge.local.String() + ";lr>", "<sip:outer-edge.invalid;lr>"}
	bobContact := "sip:bob@" + phone.local.String()
	newRegisterer(edge, "bob").mustRegister(t, "Path: "+wantRoutes[0]+", "+wantRoutes[1]+"\nSupported: path\n"+contact(bobContact, ""))

	callID := randHex(10) + "@e2e.invalid"
	resp := sendFinal(t, alice, inviteMsg("alice", callID, ""))
	if statusCode(resp) != 407 {
		t.Fatalf("want 407, got\n%s", resp)
	}
	sent := alice.send(strings.Replace(inviteMsg("alice", callID, proxyAuthorization(pick(t, challenges(resp), "MD5"), "alice", testPassword)),
		"CSeq: 1 INVITE", "CSeq: 2 INVITE", 1))
	inv := awaitRequest(t, edge, "INVITE")
	if line, _, _ := strings.Cut(inv, "\r\n"); line != "INVITE "+bobContact+" SIP/2.0" {
		t.Errorf("Request-URI: got %q, want the Contact %s", line, bobContact)
	}
	var routes []string
	for _, v := range headers(inv, "Route") {
		routes = append(routes, splitContacts(v)...)
	}
	if strings.Join(routes, ",") != strings.Join(wantRoutes, ",") {
		t.Errorf("Route headers %q, want the Path values %q in order:\n%s", routes, wantRoutes, inv)
	}
	edge.sendRaw([]byte(responseTo(inv, 486, "Busy Here")))
	resp = final(t, alice)
	if statusCode(resp) != 486 {
		t.Fatalf("want the edge's 486, got\n%s", resp)
	}
	alice.sendRaw([]byte(ackFor(sent, resp)))
	phone.expectNone(t, quietPeriod) // nothing went to the Contact's address directly
}
