package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestExpiredNonceUnknownUser: with a genuine but expired nonce, an unknown
// user gets exactly what a known user with a wrong digest gets (a new
// challenge, stale=false: RFC 7616 §3.3), so the expiry does not reveal who
// exists; the same holds for a fresh nonce (403). Only UnknownUser404 tells.
func TestExpiredNonceUnknownUser(t *testing.T) {
	h := newHarness(t, nil)
	known := aliceRegister(h)
	known.pw = "not-her-password"
	unknown := known
	unknown.user = "mallory"

	fresh := map[string]reply{}
	for name, c := range map[string]client{"known": known, "unknown": unknown} {
		fresh[name] = h.send(phone, register("Authorization: "+c.header()))
	}
	if fresh["known"] != fresh["unknown"] || fresh["known"].code != 403 {
		t.Fatalf("fresh nonce, wrong digest: known %+v, unknown %+v; want the same 403", fresh["known"], fresh["unknown"])
	}

	h.now = h.now.Add(DefaultNonceTTL + time.Second)
	got := map[string]reply{}
	for name, c := range map[string]client{"known": known, "unknown": unknown} {
		r := h.send(phone, register("Authorization: "+c.header()))
		r.extra = nonceRE.ReplaceAllString(r.extra, `nonce="N"`) // each challenge has its own nonce
		got[name] = r
	}
	if got["known"] != got["unknown"] {
		t.Fatalf("expired nonce, wrong digest: known user got %+v, unknown user %+v; want the same answer", got["known"], got["unknown"])
	}
	if r := got["unknown"]; r.code != 401 || strings.Contains(r.extra, "stale") {
		t.Fatalf("expired nonce, unknown user: got %+v, want 401 without stale", r)
	}

	h404 := newHarness(t, func(c *Config) { c.UnknownUser404 = true })
	c := aliceRegister(h404)
	c.user = "mallory"
	h404.now = h404.now.Add(DefaultNonceTTL + time.Second)
	if r := h404.send(phone, register("Authorization: "+c.header())); r.code != 404 {
		t.Fatalf("UnknownUser404, expired nonce: got %+v, want 404", r)
	}
}

// staleStore answers like a store whose database is down but which kept a
// copy of alice's credentials.
type staleStore struct{ inner *mapStore }

func (s staleStore) Credentials(ctx context.Context, user, domain string) (Credentials, error) {
	c, err := s.inner.Credentials(ctx, user, domain)
	if err != nil {
		return c, err
	}
	c.StoreErr = errors.New("dial tcp 127.0.0.1:5432: connection refused")
	c.ReadAt = time.Unix(1_699_999_990, 0)
	return c, nil
}

// TestStoreStaleCredentials: credentials a failing store returns from its
// copy (StoreErr set) are used, counted and logged as a warning.
func TestStoreStaleCredentials(t *testing.T) {
	h := newHarness(t, nil)
	h.d.creds = staleStore{h.store}
	c := aliceRegister(h)
	if r := h.send(phone, register("Authorization: "+c.header())); r.code != 200 {
		t.Fatalf("stale credentials, right password: got %+v, want 200", r)
	}
	c.pw, c.nc = "wrong-password", "00000002"
	if r := h.send(phone, register("Authorization: "+c.header())); r.code != 403 {
		t.Fatalf("stale credentials, wrong password: got %+v, want 403", r)
	}
	if st := h.d.Stats(); st.StoreStale != 2 || st.StoreErrors != 0 {
		t.Errorf("stats %+v: want StoreStale 2, StoreErrors 0", st)
	}
	if l := h.log.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "connection refused") ||
		!strings.Contains(l, "read=2023-11-14T22:13:10Z") {
		t.Errorf("want a warning naming the error and when the credentials were read, got %q", l)
	}
}
