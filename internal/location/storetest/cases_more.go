package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/location"
)

// testDeleteConn: a closed connection takes its bindings with it (RFC 5626
// §5.2, RFC 7118), on its own instance only; UDP (id 0) is not a connection.
func testDeleteConn(t *testing.T, s location.Store) {
	const bob, carol = "bob@example.test", "carol@example.test"
	on := func(b location.Binding, instance string, id uint64) location.Binding {
		b.Instance, b.ConnID, b.Transport = instance, id, "WSS"
		return b
	}
	a1 := on(mk(aor, "sip:a1@192.0.2.1", 1000, time.Hour), "i1", 7)
	a2 := on(mk(aor, "sip:a2@192.0.2.1", 1000, time.Hour), "i1", 8)
	b1 := on(mk(bob, "sip:b1@192.0.2.1", 1000, time.Hour), "i1", 7)
	b2 := on(mk(bob, "sip:b2@192.0.2.1", 1000, time.Hour), "i2", 7)
	c1 := on(mk(carol, "sip:c1@192.0.2.1", 1000, time.Hour), "i1", 0)
	put(t, s, a1, a2)
	put(t, s, b1, b2)
	put(t, s, c1)
	del := func(instance string, id uint64, want int) {
		t.Helper()
		if n, err := s.DeleteConn(ctx, instance, id); err != nil || n != want {
			t.Fatalf("DeleteConn(%s, %d) = %d, %v; want %d", instance, id, n, err, want)
		}
	}
	del("i1", 7, 2)
	del("i1", 7, 0)
	del("i1", 0, 0)
	same(t, "alice", lookup(t, s, aor), []location.Binding{a2})
	same(t, "bob", lookup(t, s, bob), []location.Binding{b2})
	same(t, "carol", lookup(t, s, carol), []location.Binding{c1})
	if n := count(t, s); n != 3 {
		t.Fatalf("Count = %d, want 3", n)
	}
}

// testList: management listing, by AOR then contact in byte order, paged.
func testList(t *testing.T, s location.Store) {
	var all []location.Binding
	for i, a := range []string{"zed@example.test", "Bob@example.test", "bob@example.test", "amy@example.test"} {
		var set []location.Binding
		for j, c := range []string{"sip:x@192.0.2.9", "sip:X@192.0.2.9", "sip:a@192.0.2.10"}[:1+i%3] {
			set = append(set, mk(a, c, 1000-100*j, time.Hour))
		}
		put(t, s, set...)
		all = append(all, set...)
	}
	put(t, s, mk("gone@example.test", "sip:g@192.0.2.1", 1000, -time.Second)) // expired: not listed
	slices.SortFunc(all, func(a, b location.Binding) int {
		return cmp.Or(strings.Compare(a.AOR, b.AOR), strings.Compare(a.Contact, b.Contact))
	})
	got, total, err := s.List(ctx, 0, 0)
	if err != nil || total != len(all) {
		t.Fatalf("List(0, 0): total %d, %v; want %d", total, err, len(all))
	}
	same(t, "List(0, 0)", got, all)
	for off := 0; off <= len(all)+1; off++ {
		for _, lim := range []int{1, 3} {
			got, total, err := s.List(ctx, off, lim)
			if err != nil || total != len(all) {
				t.Fatalf("List(%d, %d): total %d, %v; want %d", off, lim, total, err, len(all))
			}
			same(t, fmt.Sprintf("List(%d, %d)", off, lim), got, all[min(off, len(all)):min(off+lim, len(all))])
		}
	}
}

// testConcurrent: Updates of one AOR never interleave, so none is lost.
func testConcurrent(t *testing.T, s location.Store) {
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			b := mk(aor, fmt.Sprintf("sip:alice@192.0.2.%d", i), 1000, time.Hour)
			_, err := s.Update(ctx, aor, func(cur []location.Binding) ([]location.Binding, error) {
				return append(cur, b), nil
			})
			errs <- err
			other := fmt.Sprintf("user%d@example.test", i)
			_, err = s.Update(ctx, other, func(cur []location.Binding) ([]location.Binding, error) {
				return append(cur, mk(other, "sip:u@192.0.2.1", 1000, time.Hour)), nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if bs := lookup(t, s, aor); len(bs) != n {
		t.Fatalf("%d bindings after %d concurrent Updates, want %d", len(bs), n, n)
	}
	if c := count(t, s); c != 2*n {
		t.Fatalf("Count = %d, want %d", c, 2*n)
	}
}

// testIsolation: AORs that look alike are distinct keys (the user part is
// case-sensitive, §19.1.4), and so are contacts that differ only in case.
func testIsolation(t *testing.T, s location.Store) {
	aors := []string{aor, "Alice@example.test", "alice@example.test.org", "alice@example.tes", "alice@example.test "}
	for i, a := range aors {
		put(t, s, mk(a, fmt.Sprintf("sip:%d@192.0.2.1", i), 1000, time.Hour), mk(a, fmt.Sprintf("sip:%d@192.0.2.1", i)+"X", 1000, time.Hour))
	}
	put(t, s, mk(aor, "sip:alice@192.0.2.1", 1000, time.Hour), mk(aor, "sip:ALICE@192.0.2.1", 1000, time.Hour))
	for i, a := range aors[1:] {
		bs := lookup(t, s, a)
		if len(bs) != 2 || bs[0].AOR != a || !strings.HasPrefix(bs[0].Contact, fmt.Sprintf("sip:%d@", i+1)) {
			t.Fatalf("Lookup(%q) = %v", a, contacts(bs))
		}
	}
	if bs := lookup(t, s, aor); len(bs) != 2 || bs[0].Contact != "sip:ALICE@192.0.2.1" {
		t.Fatalf("Lookup(%q) = %v", aor, contacts(bs))
	}
	if bs := lookup(t, s, "nobody@example.test"); len(bs) != 0 {
		t.Fatalf("Lookup(nobody) = %v", contacts(bs))
	}
}

// testLongValues: long contacts and headers work on every backend (MySQL
// index limits).
func testLongValues(t *testing.T, s location.Store) {
	long := strings.Repeat("u", location.MaxAOR-len("@example.test")) + "@example.test"
	b := mk(long, "sip:alice@192.0.2.1;"+strings.Repeat("x-param=vvvvvvvvv;", 27)+"ob", 1000, time.Hour)
	b2 := b
	b2.Contact = b.Contact + "2" // same first 500 bytes
	b.CallID = strings.Repeat("c", 300) + "@host"
	b.UserAgent = strings.Repeat("ü", 500)
	b.Received = "sip:198.51.100.7:5062;" + strings.Repeat("r", 300)
	b.SIPInstance = "<urn:uuid:" + strings.Repeat("0", 200) + ">"
	b.Path = []string{"<sip:" + strings.Repeat("p", 400) + ";lr>", "<sip:q;lr>", "<sip:" + strings.Repeat("r", 400) + ";lr>"}
	if len(b.Contact) < 500 || len(long) != location.MaxAOR {
		t.Fatalf("test values too short: %d, %d", len(b.Contact), len(long))
	}
	want := []location.Binding{b, b2}
	if location.Less(b2, b) < 0 {
		want = []location.Binding{b2, b}
	}
	same(t, "Update", put(t, s, b, b2), want)
	same(t, "Lookup", lookup(t, s, long), want)
}
