package auth

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestNonceRoundTrip(t *testing.T) {
	n := newNonces([]byte("0123456789abcdef0123456789abcdef"))
	now := time.UnixMilli(1_700_000_000_123)
	a, b := n.issue(now, "example.com"), n.issue(now, "example.com")
	if a == b {
		t.Fatal("two nonces are equal")
	}
	if len(a) != nonceLen || strings.ContainsAny(a, `"\+/=`) {
		t.Fatalf("nonce %q: not %d base64url characters", a, nonceLen)
	}
	key, ok := n.check(a, "example.com")
	if !ok || key.issuedMs() != now.UnixMilli() {
		t.Fatalf("check = %v, issued %d", ok, key.issuedMs())
	}
}

func TestNonceForgeries(t *testing.T) {
	n := newNonces([]byte("0123456789abcdef0123456789abcdef"))
	good := n.issue(time.Now(), "example.com")
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flip := func(i int) string {
		c := append([]byte(nil), raw...)
		c[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(c)
	}
	other := newNonces([]byte("another secret of 32 bytes......"))
	tests := []struct{ name, nonce, realm string }{
		{"other realm", good, "example.net"},
		{"changed time stamp", flip(3), "example.com"},
		{"changed random part", flip(10), "example.com"},
		{"changed MAC", flip(20), "example.com"},
		{"truncated", good[:len(good)-1], "example.com"},
		{"longer", good + "A", "example.com"},
		{"not base64", strings.Repeat("*", nonceLen), "example.com"},
		{"empty", "", "example.com"},
		{"other secret", other.issue(time.Now(), "example.com"), "example.com"},
	}
	for _, tt := range tests {
		if _, ok := n.check(tt.nonce, tt.realm); ok {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func TestNonceConcurrent(t *testing.T) {
	n := newNonces([]byte("0123456789abcdef"))
	done := make(chan bool)
	for range 4 {
		go func() {
			ok := true
			for range 200 {
				_, good := n.check(n.issue(time.Now(), "r"), "r")
				ok = ok && good
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Fatal("a nonce failed its own check")
		}
	}
}
