// Package storetest is the conformance suite every location.Store passes:
// the memory store, the SQL store on each dialect, and the cached store over
// it in both write modes (STYLE.md point 8). A backend's test calls Run with
// a function that returns a new, empty store; the suite does not close it.
package storetest

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/location"
)

// Run runs every conformance test, each on a store of its own from newStore.
func Run(t *testing.T, newStore func(t *testing.T) location.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, location.Store)
	}{
		{"QOrder", testQOrder},
		{"ReplaceRemoveAdd", testReplaceRemoveAdd},
		{"AbortKeepsState", testAbort},
		{"Invalid", testInvalid},
		{"Expiry", testExpiry},
		{"PathOrder", testPathOrder},
		{"RoundTrip", testRoundTrip},
		{"DeleteConn", testDeleteConn},
		{"List", testList},
		{"Concurrent", testConcurrent},
		{"Isolation", testIsolation},
		{"LongValues", testLongValues},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

var ctx = context.Background()

// mk returns a realistic binding of aor for contact that lives for ttl.
func mk(aor, contact string, q int, ttl time.Duration) location.Binding {
	now := time.Now()
	return location.Binding{
		AOR: aor, Contact: contact, Q: q, Expires: now.Add(ttl),
		CallID: "a84b4c76e66710@pc33.example.test", CSeq: 314159, Transport: "UDP",
		Source:   netip.MustParseAddrPort("198.51.100.7:5062"),
		Local:    netip.MustParseAddrPort("192.0.2.1:5060"),
		Instance: "parley-1", UserAgent: "Linphone/5.2.0 (belle-sip/5.2.0)", Updated: now,
	}
}

// put makes bs (all of one AOR) the bindings of their AOR.
func put(t *testing.T, s location.Store, bs ...location.Binding) []location.Binding {
	t.Helper()
	out, err := s.Update(ctx, bs[0].AOR, func([]location.Binding) ([]location.Binding, error) { return bs, nil })
	if err != nil {
		t.Fatalf("Update(%s): %v", bs[0].AOR, err)
	}
	return out
}

func lookup(t *testing.T, s location.Store, aor string) []location.Binding {
	t.Helper()
	bs, err := s.Lookup(ctx, aor)
	if err != nil {
		t.Fatalf("Lookup(%s): %v", aor, err)
	}
	return bs
}

func count(t *testing.T, s location.Store) int {
	t.Helper()
	n, err := s.Count(ctx)
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	return n
}

// normal is b as a store returns it: times to the millisecond.
func normal(b location.Binding) location.Binding {
	b.Expires = time.UnixMilli(b.Expires.UnixMilli())
	b.Updated = time.UnixMilli(b.Updated.UnixMilli())
	return b
}

// diff describes how b differs from want, "" if they are the same binding.
func diff(b, want location.Binding) string {
	want = normal(want)
	switch {
	case !b.Expires.Equal(want.Expires):
		return fmt.Sprintf("Expires %v, want %v", b.Expires, want.Expires)
	case !b.Updated.Equal(want.Updated):
		return fmt.Sprintf("Updated %v, want %v", b.Updated, want.Updated)
	case !slices.Equal(b.Path, want.Path):
		return fmt.Sprintf("Path %q, want %q", b.Path, want.Path)
	}
	b.Expires, b.Updated = want.Expires, want.Updated
	b.Path, want.Path = nil, nil
	if !reflect.DeepEqual(b, want) {
		return fmt.Sprintf("\n got %+v\nwant %+v", b, want)
	}
	return ""
}

// Same fails t unless got holds want's bindings, in that order, field by
// field (times to the millisecond, a nil Path equal to an empty one).
func Same(t *testing.T, what string, got, want []location.Binding) {
	t.Helper()
	same(t, what, got, want)
}

// same fails unless got holds want's bindings, in that order.
func same(t *testing.T, what string, got, want []location.Binding) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d bindings %v, want %d %v", what, len(got), contacts(got), len(want), contacts(want))
	}
	for i := range got {
		if d := diff(got[i], want[i]); d != "" {
			t.Fatalf("%s: binding %d (%s): %s", what, i, want[i].Contact, d)
		}
	}
}

func contacts(bs []location.Binding) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.AOR+" "+b.Contact)
	}
	return out
}
