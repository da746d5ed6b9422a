package storetest

import (
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/location"
)

const aor = "alice@example.test"

// testQOrder: several contacts per AOR, highest q first, then most recently
// updated, then by contact (RFC 3261 §16.6 / §10.2.1.2).
func testQOrder(t *testing.T, s location.Store) {
	c1 := mk(aor, "sip:alice@198.51.100.1", 500, time.Hour)
	c2 := mk(aor, "sip:alice@198.51.100.2", 1000, time.Hour)
	c3 := mk(aor, "sip:alice@198.51.100.3", 1000, time.Hour)
	c3.Updated = c2.Updated.Add(time.Second)
	c4 := mk(aor, "sip:alice@198.51.100.4", 0, time.Hour)
	c5 := mk(aor, "sip:alice@198.51.100.0", 500, time.Hour) // same q and Updated as c1: contact order
	want := []location.Binding{c3, c2, c5, c1, c4}
	same(t, "Update", put(t, s, c1, c4, c2, c5, c3), want)
	same(t, "Lookup", lookup(t, s, aor), want)
}

// testReplaceRemoveAdd: fn sees the current set and what it returns replaces it.
func testReplaceRemoveAdd(t *testing.T, s location.Store) {
	c1 := mk(aor, "sip:alice@198.51.100.1", 1000, time.Hour)
	c2 := mk(aor, "sip:alice@198.51.100.2", 900, time.Hour)
	put(t, s, c1, c2)
	c2b := c2
	c2b.CSeq, c2b.Expires = c2.CSeq+1, c2.Expires.Add(time.Hour)
	c3 := mk(aor, "sip:alice@198.51.100.3", 800, time.Minute)
	got, err := s.Update(ctx, aor, func(cur []location.Binding) ([]location.Binding, error) {
		same(t, "cur", cur, []location.Binding{c1, c2})
		c3.AOR = "" // Update fills it in
		return []location.Binding{c3, c2b}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c3.AOR = aor
	same(t, "Update", got, []location.Binding{c2b, c3})
	same(t, "Lookup", lookup(t, s, aor), []location.Binding{c2b, c3})
	if n := count(t, s); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
	got, err = s.Update(ctx, aor, func([]location.Binding) ([]location.Binding, error) { return nil, nil })
	if err != nil || len(got) != 0 {
		t.Fatalf("removing all: %v, %v", got, err)
	}
	same(t, "Lookup after removing all", lookup(t, s, aor), nil)
	if n := count(t, s); n != 0 {
		t.Fatalf("Count = %d, want 0", n)
	}
}

// testAbort: an error from fn (§10.3 step 7 CSeq check) changes nothing and
// comes back unchanged.
func testAbort(t *testing.T, s location.Store) {
	c1 := mk(aor, "sip:alice@198.51.100.1", 1000, time.Hour)
	put(t, s, c1)
	errAbort := errors.New("400 CSeq Out Of Order")
	got, err := s.Update(ctx, aor, func(cur []location.Binding) ([]location.Binding, error) {
		return append(cur, mk(aor, "sip:x@192.0.2.9", 1000, time.Hour)), errAbort
	})
	if err != errAbort || got != nil {
		t.Fatalf("Update = %v, %v; want nil, the error of fn", got, err)
	}
	same(t, "Lookup", lookup(t, s, aor), []location.Binding{c1})
}

// testInvalid: sets that some database could not store are refused, with no change.
func testInvalid(t *testing.T, s location.Store) {
	c1 := mk(aor, "sip:alice@198.51.100.1", 1000, time.Hour)
	put(t, s, c1)
	bad := map[string]func(*location.Binding){
		"q above 1000":    func(b *location.Binding) { b.Q = 1001 },
		"negative q":      func(b *location.Binding) { b.Q = -1 },
		"empty contact":   func(b *location.Binding) { b.Contact = "" },
		"invalid UTF-8":   func(b *location.Binding) { b.UserAgent = "\xff\xfe" },
		"NUL":             func(b *location.Binding) { b.CallID = "a\x00b" },
		"newline in Path": func(b *location.Binding) { b.Path = []string{"<sip:p1>\n<sip:p2>"} },
		"empty Path":      func(b *location.Binding) { b.Path = []string{""} },
		"long contact":    func(b *location.Binding) { b.Contact = "sip:" + strings.Repeat("a", location.MaxText) },
		"long instance":   func(b *location.Binding) { b.Instance = strings.Repeat("i", location.MaxShort+1) },
		"negative reg-id": func(b *location.Binding) { b.RegID = -1 },
	}
	for name, change := range bad {
		b := mk(aor, "sip:alice@198.51.100.2", 1000, time.Hour)
		change(&b)
		_, err := s.Update(ctx, aor, func(cur []location.Binding) ([]location.Binding, error) { return append(cur, b), nil })
		if !errors.Is(err, location.ErrInvalid) {
			t.Errorf("%s: Update error = %v, want ErrInvalid", name, err)
		}
	}
	_, err := s.Update(ctx, aor, func(cur []location.Binding) ([]location.Binding, error) { return append(cur, cur...), nil })
	if !errors.Is(err, location.ErrInvalid) {
		t.Errorf("duplicate contact: Update error = %v, want ErrInvalid", err)
	}
	long := strings.Repeat("a", location.MaxAOR-len("@example.test")+1) + "@example.test"
	if _, err := s.Update(ctx, long, func([]location.Binding) ([]location.Binding, error) { return nil, nil }); !errors.Is(err, location.ErrInvalid) {
		t.Errorf("long AOR: Update error = %v, want ErrInvalid", err)
	}
	same(t, "Lookup", lookup(t, s, aor), []location.Binding{c1})
}

// testExpiry: expired bindings are hidden at once and removed by Expire.
func testExpiry(t *testing.T, s location.Store) {
	const bob = "bob@example.test"
	a1, a2 := mk(aor, "sip:alice@198.51.100.1", 1000, time.Hour), mk(aor, "sip:alice@198.51.100.2", 1000, 150*time.Millisecond)
	b1, b2 := mk(bob, "sip:bob@198.51.100.1", 1000, time.Hour), mk(bob, "sip:bob@198.51.100.2", 1000, 150*time.Millisecond)
	put(t, s, a1, a2)
	put(t, s, b1, b2)
	if n := count(t, s); n != 4 {
		t.Fatalf("Count = %d, want 4", n)
	}
	time.Sleep(time.Until(a2.Expires.Add(50 * time.Millisecond)))
	same(t, "Lookup after expiry", lookup(t, s, aor), []location.Binding{a1})
	if n := count(t, s); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
	if bs, total, err := s.List(ctx, 0, 0); err != nil || total != 2 || len(bs) != 2 {
		t.Fatalf("List = %d bindings, total %d, %v; want 2, 2", len(bs), total, err)
	}
	_, err := s.Update(ctx, bob, func(cur []location.Binding) ([]location.Binding, error) {
		same(t, "cur", cur, []location.Binding{b1})
		return append(cur, mk(bob, "sip:bob@198.51.100.3", 1000, -time.Second)), nil // dead on arrival: dropped
	})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Lookup bob", lookup(t, s, bob), []location.Binding{b1})
	expire(t, s, time.Now(), 1) // a2; b2 went with the Update
	expire(t, s, time.Now(), 0)
	if n := count(t, s); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
	expire(t, s, time.Now().Add(2*time.Hour), 2)
	if n := count(t, s); n != 0 || len(lookup(t, s, aor)) != 0 {
		t.Fatalf("after expiring all: Count = %d, Lookup = %v", n, lookup(t, s, aor))
	}
}

func expire(t *testing.T, s location.Store, now time.Time, want int) {
	t.Helper()
	if n, err := s.Expire(ctx, now); err != nil || n != want {
		t.Fatalf("Expire = %d, %v; want %d", n, err, want)
	}
}

// testPathOrder: Path values (RFC 3327) keep their order everywhere.
func testPathOrder(t *testing.T, s location.Store) {
	b := mk(aor, "sip:alice@198.51.100.1", 1000, time.Hour)
	b.Path = []string{"<sip:p3.example.test;lr>", "<sip:p1.example.test;lr>", "<sip:p2.example.test;lr;ob>"}
	same(t, "Update", put(t, s, b), []location.Binding{b})
	same(t, "Lookup", lookup(t, s, aor), []location.Binding{b})
	bs, _, err := s.List(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "List", bs, []location.Binding{b})
}

// testRoundTrip: every field comes back exactly (times to the millisecond).
func testRoundTrip(t *testing.T, s location.Store) {
	full := location.Binding{
		AOR: aor, Contact: "sip:alice@[2001:db8::7]:5062;transport=tls;ob", Q: 700,
		Expires: time.Date(2099, 3, 4, 5, 6, 7, 891_234_567, time.UTC), CallID: "843817637684230@998sdasdh09",
		CSeq: math.MaxUint32, Path: []string{"<sip:edge.example.test;lr;ob>"},
		Received: "sip:[2001:db8::7]:61000;transport=tls", Transport: "WSS",
		Source: netip.MustParseAddrPort("[fe80::1%eth0]:61000"),
		Local:  netip.MustParseAddrPort("[2001:db8::1]:443"),
		ConnID: 1<<63 | 12345, Instance: "parley-b.example.test", UserAgent: "Zoiper ✓ 5.6 “beta”",
		SIPInstance: "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>", RegID: math.MaxInt32,
		Updated: time.Date(2026, 1, 2, 3, 4, 5, 999_999_999, time.FixedZone("X", 3600)),
	}
	minimal := location.Binding{AOR: aor, Contact: "sip:alice@192.0.2.4", Expires: time.Now().Add(time.Hour)}
	v4 := mk(aor, "sip:alice@192.0.2.5", 1000, time.Hour)
	v4.Source = netip.MustParseAddrPort("[::ffff:198.51.100.7]:5060") // v4-in-v6 stays so
	want := []location.Binding{v4, full, minimal}
	same(t, "Update", put(t, s, minimal, full, v4), want)
	same(t, "Lookup", lookup(t, s, aor), want)
	bs, _, err := s.List(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "List", bs, []location.Binding{minimal, v4, full}) // by contact, in byte order
}
