package registrar

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestContactMatchingRFC3261s10_3: a REGISTER's contacts are matched to the
// stored bindings under §19.1.4 (§10.3 step 7), not as strings.
func TestContactMatchingRFC3261s10_3(t *testing.T) {
	tests := []struct {
		name, first, second string
		want                int // bindings after both REGISTERs
	}{
		{"host case: one binding", "sip:a@HOST.example", "sip:a@host.example", 1},
		{"scheme case and escapes: one binding", "SIP:%61@host.example", "sip:a@host.example", 1},
		{"user case: two bindings", "sip:A@host.example", "sip:a@host.example", 2},
		{"transport value case: one binding", "sip:a@host.example;transport=TCP", "sip:a@host.example;transport=tcp", 1},
		{"transport differs: two bindings", "sip:a@host.example;transport=tcp", "sip:a@host.example;transport=udp", 2},
		{"transport in one only: two bindings", "sip:a@host.example;transport=tcp", "sip:a@host.example", 2},
		{"other parameter in one only: one binding", "sip:a@host.example;ob", "sip:a@host.example", 1},
		{"explicit default port: two bindings", "sip:a@host.example:5060", "sip:a@host.example", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.register(t, alice, "c1", "Contact: <"+tc.first+">;expires=600\r\n")
			got := h.register(t, alice, "c2", "Contact: <"+tc.second+">;expires=900\r\n")
			if got.code != 200 {
				t.Fatalf("second REGISTER: %d %s", got.code, got.reason)
			}
			bs := h.bindings(t, "alice@example.test")
			if len(bs) != tc.want {
				t.Fatalf("%d bindings %+v, want %d", len(bs), bs, tc.want)
			}
			if tc.want == 1 && (bs[0].Contact != tc.second || bs[0].CallID != "c2") {
				t.Errorf("the refresh did not replace the binding: %+v", bs[0])
			}
			// Removal matches the same way.
			h.register(t, alice, "c2", "Contact: <"+tc.second+">;expires=0\r\n")
			if n := len(h.bindings(t, "alice@example.test")); n != tc.want-1 {
				t.Errorf("after expires=0 of %s: %d bindings, want %d", tc.second, n, tc.want-1)
			}
		})
	}
}

// TestContactTwiceInOneRegister: two equal contacts in one REGISTER make one
// binding, the last one's parameters counting; that is not a CSeq disorder.
func TestContactTwiceInOneRegister(t *testing.T) {
	h := newHarness(t)
	got := h.register(t, alice, "c1", "Contact: <sip:a@HOST.example>;expires=600, <sip:a@host.example>;expires=900\r\n")
	if got.code != 200 {
		t.Fatalf("got %d %s, want 200", got.code, got.reason)
	}
	bs := h.bindings(t, "alice@example.test")
	if len(bs) != 1 || bs[0].Contact != "sip:a@host.example" {
		t.Fatalf("bindings %+v, want one, sip:a@host.example", bs)
	}
	if left := time.Until(bs[0].Expires); left < 890*time.Second {
		t.Errorf("binding expires in %v, want the last contact's 900 s", left)
	}
}

// TestMaxContactsRetryAfter: the 503 for a REGISTER over max_contacts
// carries Retry-After, the seconds until the first binding expires (RFC 3261
// §21.5.4, §20.33), and changes nothing.
func TestMaxContactsRetryAfter(t *testing.T) {
	h := newHarness(t)
	h.register(t, alice, "c1", "Contact: <sip:a1@192.0.2.1>;expires=3000, <sip:a2@192.0.2.1>;expires=120, <sip:a3@192.0.2.1>;expires=600\r\n")
	got := h.register(t, alice, "c1", "Contact: <sip:a4@192.0.2.1>\r\n")
	if got.code != 503 || got.reason != "Too Many Registered Contacts" {
		t.Fatalf("got %d %q, want 503 Too Many Registered Contacts", got.code, got.reason)
	}
	v, ok := strings.CutPrefix(got.extra, "Retry-After: ")
	n, err := strconv.Atoi(strings.TrimSuffix(v, "\r\n"))
	if !ok || err != nil || n < 118 || n > 120 {
		t.Fatalf("headers %q: want Retry-After: 120 (the a2 binding's expiry)", got.extra)
	}
	if bs := h.bindings(t, "alice@example.test"); len(bs) != 3 {
		t.Errorf("refused REGISTER changed the bindings: %+v", bs)
	}
}
