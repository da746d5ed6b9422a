package proxy

import (
	"strings"
	"testing"
)

// TestTokensSignVerify: a token verifies for exactly the values it was made
// for, under the same key and kind, and says whether this process made it.
func TestTokensSignVerify(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	k := newTokens(key, 0x1234abcd)
	parts := [][]byte{[]byte("call-1@host"), []byte("udp~127.0.0.1~5060~0"), []byte("tcp~127.0.0.1~40000~7")}
	tok := k.sign(kindRecordRoute, parts...)
	if !strings.HasPrefix(tok, "1234abcd.") || len(tok) != epochLen+1+16 {
		t.Fatalf("token %q: want 1234abcd. and 16 base64url characters", tok)
	}
	if valid, local := k.verify([]byte(tok), kindRecordRoute, parts...); !valid || !local {
		t.Fatalf("own token: valid %v local %v", valid, local)
	}
	restart := newTokens(key, 0x99999999) // the same database secret, another process
	if valid, local := restart.verify([]byte(tok), kindRecordRoute, parts...); !valid || local {
		t.Errorf("token of an earlier process: valid %v local %v, want valid and not local", valid, local)
	}
	other := []byte("tcp~127.0.0.1~40000~8")
	flip := []byte(tok)
	flip[len(flip)-1] ^= 1
	for _, tc := range []struct {
		name  string
		k     tokens
		tok   string
		kind  string
		parts [][]byte
	}{
		{"another connection", k, tok, kindRecordRoute, [][]byte{parts[0], parts[1], other}},
		{"another Call-ID", k, tok, kindRecordRoute, [][]byte{[]byte("call-2@host"), parts[1], parts[2]}},
		{"flows swapped", k, tok, kindRecordRoute, [][]byte{parts[0], parts[2], parts[1]}},
		{"another kind", k, tok, kindVia, parts},
		{"another key", newTokens([]byte("another secret of thirty-two b!"), 0x1234abcd), tok, kindRecordRoute, parts},
		{"epoch changed", k, "1234abce" + tok[epochLen:], kindRecordRoute, parts},
		{"mac changed", k, string(flip), kindRecordRoute, parts},
		{"empty", k, "", kindRecordRoute, parts},
		{"no dot", k, strings.Replace(tok, ".", "", 1), kindRecordRoute, parts},
		{"short epoch", k, tok[1:], kindRecordRoute, parts},
		{"short mac", k, tok[:len(tok)-1], kindRecordRoute, parts},
		{"long mac", k, tok + "A", kindRecordRoute, parts},
		{"not base64url", k, tok[:len(tok)-1] + "+", kindRecordRoute, parts},
		{"forged by hand", k, "00000000.AAAAAAAAAAAAAAAA", kindRecordRoute, parts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if valid, _ := tc.k.verify([]byte(tc.tok), tc.kind, tc.parts...); valid {
				t.Errorf("verify(%q) accepted", tc.tok)
			}
		})
	}
}

// TestTokensRandomDefaults: without a secret or an epoch each signer makes
// its own, so two such signers never accept each other's tokens.
func TestTokensRandomDefaults(t *testing.T) {
	a, b := newTokens(nil, 0), newTokens(nil, 0)
	if len(a.key) != 32 || len(a.epoch) != epochLen {
		t.Fatalf("key of %d bytes, epoch %q", len(a.key), a.epoch)
	}
	tok := a.sign(kindVia, []byte("x"))
	if valid, _ := b.verify([]byte(tok), kindVia, []byte("x")); valid {
		t.Error("a token verified under another random key")
	}
}

// TestTokensLengthPrefix: the parts are length-prefixed, so moving bytes
// from one part to the next changes the MAC.
func TestTokensLengthPrefix(t *testing.T) {
	k := newTokens([]byte("k"), 1)
	tok := k.sign(kindVia, []byte("ab"), []byte("c"))
	if valid, _ := k.verify([]byte(tok), kindVia, []byte("a"), []byte("bc")); valid {
		t.Error(`("ab","c") and ("a","bc") share a token`)
	}
}
