package registrar

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// recTx records the final response a handler sends.
type recTx struct {
	code   int
	reason string
	extra  string
	src    transaction.Source
}

func (r *recTx) Reply(code int, reason string, extra []byte) error {
	r.code, r.reason, r.extra = code, reason, string(extra)
	return nil
}
func (r *recTx) ReplyBody(code int, reason string, extra []byte, _ string, _ []byte) error {
	return r.Reply(code, reason, extra)
}
func (r *recTx) Respond(res *sip.Message) error { r.code = res.StatusCode(); return nil }
func (r *recTx) Responded() bool                { return r.code >= 200 }
func (r *recTx) Remote() netip.AddrPort         { return r.src.Addr }
func (r *recTx) Transport() transport.Proto     { return r.src.Proto }
func (r *recTx) ToTag() []byte                  { return []byte("tt") }
func (r *recTx) Origin() transaction.Source     { return r.src }

type harness struct {
	r     *Registrar
	store location.Store
	cseq  int
	user  string // authenticated user, "" for none
}

func newHarness(t *testing.T) *harness {
	h := &harness{store: location.NewMemory()}
	id := sipserver.NewIdentity([]string{"example.test"}, "", nil)
	h.r = New(Config{MinExpires: 60, MaxExpires: 3600, DefaultExpires: 1800, MaxContacts: 3, Instance: "i1",
		Authenticated: func(context.Context) (string, string, bool) {
			if h.user == "" {
				return "", "", false
			}
			return h.user, "example.test", true
		}}, h.store, id, nil)
	return h
}

// register sends a REGISTER for to with the given extra header lines and returns the recorded answer.
func (h *harness) register(t *testing.T, to, callID string, headers ...string) *recTx {
	t.Helper()
	h.cseq++
	msg := fmt.Sprintf("REGISTER sip:example.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK%d\r\n"+
		"From: <%s>;tag=f\r\nTo: <%s>\r\nCall-ID: %s\r\nCSeq: %d REGISTER\r\nMax-Forwards: 70\r\n%sContent-Length: 0\r\n\r\n",
		h.cseq, to, to, callID, h.cseq, strings.Join(headers, ""))
	var m sip.Message
	if err := sip.Parse([]byte(msg), &m); err != nil {
		t.Fatalf("test message does not parse: %v\n%s", err, msg)
	}
	tx := &recTx{src: transaction.Source{Addr: netip.MustParseAddrPort("198.51.100.7:40000"), Proto: transport.UDP,
		Local: netip.MustParseAddrPort("127.0.0.1:5060")}}
	err := h.r.ServeSIP(context.Background(), tx, &m)
	if err != nil {
		se, ok := err.(*sipserver.StatusError)
		if !ok {
			t.Fatalf("non-status error: %v", err)
		}
		tx.code, tx.reason, tx.extra = se.Code, se.Reason, string(se.Extra)
	}
	return tx
}

func (h *harness) bindings(t *testing.T, aor string) []location.Binding {
	bs, err := h.store.Lookup(context.Background(), aor)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

const alice = "sip:alice@example.test"

func TestRegisterRules(t *testing.T) {
	tests := []struct {
		name    string // with the RFC rule
		to      string
		headers []string
		code    int
		reason  string
		extra   string // regexp on the extra headers
	}{
		{"§10.3: one contact registered", alice, []string{"Contact: <sip:alice@192.0.2.10:5062>\r\n"}, 200, "", `Contact: <sip:alice@192.0.2.10:5062>;expires=1800\r\nDate: .* GMT`},
		{"§10.3 step 7: Expires header", alice, []string{"Contact: <sip:alice@192.0.2.10:5062>\r\n", "Expires: 120\r\n"}, 200, "", `expires=120\r\n`},
		{"§10.3 step 7: expires param wins", alice, []string{"Contact: <sip:alice@192.0.2.10:5062>;expires=300\r\n", "Expires: 120\r\n"}, 200, "", `expires=300\r\n`},
		{"§10.3 step 7: above max is shortened", alice, []string{"Contact: <sip:alice@192.0.2.10:5062>;expires=99999\r\n"}, 200, "", `expires=3600\r\n`},
		{"§10.3 step 7: 423 below min", alice, []string{"Contact: <sip:alice@192.0.2.10:5062>;expires=10\r\n"}, 423, "Interval Too Brief", `Min-Expires: 60\r\n`},
		{"§10.3 step 6: * without Expires: 0", alice, []string{"Contact: *\r\n"}, 400, "Invalid Use Of Contact *", ``},
		{"§10.3 step 6: * with another contact", alice, []string{"Contact: *, <sip:a@b>\r\n", "Expires: 0\r\n"}, 400, "Invalid Use Of Contact *", ``},
		{"§10.3 step 3: foreign domain", "sip:alice@other.test", []string{"Contact: <sip:alice@192.0.2.10>\r\n"}, 404, "Not Found", ``},
		{"§10.3 step 3: To without user", "sip:example.test", []string{"Contact: <sip:alice@192.0.2.10>\r\n"}, 404, "Not Found", ``},
		{"bad expires parameter", alice, []string{"Contact: <sip:alice@192.0.2.10>;expires=soon\r\n"}, 400, "Bad Contact Expires Parameter", ``},
		{"bad q", alice, []string{"Contact: <sip:alice@192.0.2.10>;q=2\r\n"}, 400, "Bad Contact q-value", ``},
		{"q kept", alice, []string{"Contact: <sip:alice@192.0.2.10>;q=0.5\r\n"}, 200, "", `;q=0.5\r\n`},
		{"no contact lists nothing", alice, nil, 200, "", `^Date: `},
		{"Path echoed with Supported: path (RFC 3327 §5.3)", alice, []string{"Contact: <sip:alice@192.0.2.10>\r\n", "Path: <sip:edge.test;lr>\r\n", "Supported: path\r\n"}, 200, "", `Path: <sip:edge.test;lr>\r\n`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			got := h.register(t, tc.to, "cid-1", tc.headers...)
			if got.code != tc.code || (tc.reason != "" && got.reason != tc.reason) {
				t.Fatalf("got %d %q, want %d %q", got.code, got.reason, tc.code, tc.reason)
			}
			if !regexp.MustCompile(tc.extra).MatchString(got.extra) {
				t.Errorf("headers %q do not match %q", got.extra, tc.extra)
			}
		})
	}
}

func TestSeveralContactsAndRemoval(t *testing.T) {
	h := newHarness(t)
	h.register(t, alice, "c1", "Contact: <sip:alice@192.0.2.10:5062>;q=0.5, <sip:alice@192.0.2.11>;q=0.9\r\n")
	got := h.register(t, alice, "c1", "Contact: <sip:alice@192.0.2.12>;q=1\r\n")
	if n := strings.Count(got.extra, "Contact:"); n != 3 {
		t.Fatalf("200 lists %d contacts, want 3:\n%s", n, got.extra)
	}
	bs := h.bindings(t, "alice@example.test")
	if len(bs) != 3 || bs[0].Contact != "sip:alice@192.0.2.12" || bs[2].Q != 500 {
		t.Fatalf("bindings not by q: %+v", bs)
	}
	if bs[0].Source.String() != "198.51.100.7:40000" || bs[0].Transport != "UDP" || bs[0].Received != "sip:198.51.100.7:40000;transport=udp" { // Via says 192.0.2.10:5062: a NAT
		t.Errorf("source not recorded: %+v", bs[0])
	}
	// The limit is 3: a fourth is refused and changes nothing.
	if got := h.register(t, alice, "c1", "Contact: <sip:alice@192.0.2.13>\r\n"); got.code != 503 {
		t.Fatalf("fourth contact: %d, want 503", got.code)
	}
	h.register(t, alice, "c1", "Contact: <sip:alice@192.0.2.11>;expires=0\r\n")
	if n := len(h.bindings(t, "alice@example.test")); n != 2 {
		t.Fatalf("after expires=0: %d bindings, want 2", n)
	}
	if got := h.register(t, alice, "c1", "Contact: *\r\n", "Expires: 0\r\n"); got.code != 200 {
		t.Fatalf("Contact *: %d", got.code)
	}
	if n := len(h.bindings(t, "alice@example.test")); n != 0 {
		t.Fatalf("after *: %d bindings", n)
	}
}

func TestCSeqOrdering(t *testing.T) {
	h := newHarness(t)
	h.cseq = 10
	h.register(t, alice, "same", "Contact: <sip:alice@192.0.2.10>\r\n")
	h.cseq = 5 // §10.3 step 7: same Call-ID, lower CSeq: the update fails
	if got := h.register(t, alice, "same", "Contact: <sip:alice@192.0.2.10>;expires=0\r\n"); got.code != 400 || got.reason != "CSeq Out Of Order" {
		t.Fatalf("got %d %s", got.code, got.reason)
	}
	if len(h.bindings(t, "alice@example.test")) != 1 {
		t.Fatal("a failed update changed bindings")
	}
	h.cseq = 1 // another Call-ID with any CSeq updates
	if got := h.register(t, alice, "other", "Contact: <sip:alice@192.0.2.10>;expires=0\r\n"); got.code != 200 {
		t.Fatalf("other Call-ID: %d", got.code)
	}
}

func TestOnlyOwnAOR(t *testing.T) {
	h := newHarness(t)
	h.user = "bob"
	if got := h.register(t, alice, "c", "Contact: <sip:alice@192.0.2.10>\r\n"); got.code != 403 {
		t.Fatalf("bob registering alice: %d, want 403", got.code)
	}
	h.user = "alice"
	if got := h.register(t, alice, "c", "Contact: <sip:alice@192.0.2.10>\r\n"); got.code != 200 {
		t.Fatalf("alice registering alice: %d", got.code)
	}
}

func TestUnescapeAOR(t *testing.T) {
	if got, _ := AOR([]byte("sip:%61lice@EXAMPLE.test;transport=tcp")); got != "alice@example.test" {
		t.Errorf("AOR = %q", got)
	}
}

// failStore fails every call, as a database that is down.
type failStore struct{ location.Store }

func (failStore) Update(context.Context, string, func([]location.Binding) ([]location.Binding, error)) ([]location.Binding, error) {
	return nil, fmt.Errorf("connection refused")
}

func TestStoreDown(t *testing.T) {
	h := newHarness(t)
	h.r.store = failStore{}
	if got := h.register(t, alice, "c", "Contact: <sip:alice@192.0.2.10>\r\n"); got.code != 500 {
		t.Fatalf("store down: %d, want 500", got.code)
	}
}
