package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"sync"
	"time"
)

// A nonce is base64url(ts || rnd || mac) where ts is the issue time in Unix
// milliseconds (8 bytes, big endian), rnd 8 random bytes and mac the first 16
// bytes of HMAC-SHA256(secret, ts || rnd || realm). It needs no server state,
// any instance holding the secret can check it, and it cannot be forged or
// moved to another realm.
const (
	nonceRawLen = 8 + 8 + 16
	nonceMACLen = 16
)

var nonceLen = base64.RawURLEncoding.EncodedLen(nonceRawLen)

// nonceKey identifies a nonce for nonce-count tracking: its ts || rnd.
type nonceKey [16]byte

// issuedMs returns the issue time of the nonce in Unix milliseconds.
func (k nonceKey) issuedMs() int64 { return int64(binary.BigEndian.Uint64(k[:8])) }

// nonces makes and checks nonces with one secret.
type nonces struct {
	macs sync.Pool // of hash.Hash: HMAC-SHA256 keyed with the secret
}

func newNonces(secret []byte) *nonces {
	key := append([]byte(nil), secret...)
	n := &nonces{}
	n.macs.New = func() any { return hmac.New(sha256.New, key) }
	return n
}

// issue returns a new nonce for realm, issued at now.
func (n *nonces) issue(now time.Time, realm string) string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(now.UnixMilli()))
	rand.Read(raw[8:16]) // never fails (crypto/rand, Go 1.24)
	mac := n.sign(raw[:16], realm)
	copy(raw[16:], mac[:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// check verifies the MAC of nonce for realm and returns its key; ok is false
// for a nonce this secret did not make (forged, truncated, other realm).
func (n *nonces) check(nonce, realm string) (key nonceKey, ok bool) {
	if len(nonce) != nonceLen {
		return key, false
	}
	var raw [nonceRawLen]byte
	if _, err := base64.RawURLEncoding.Decode(raw[:], []byte(nonce)); err != nil {
		return key, false
	}
	mac := n.sign(raw[:16], realm)
	if !hmac.Equal(mac[:], raw[16:]) {
		return key, false
	}
	copy(key[:], raw[:16])
	return key, true
}

// sign returns the truncated MAC of head || realm.
func (n *nonces) sign(head []byte, realm string) (mac [nonceMACLen]byte) {
	h := n.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(head)
	h.Write([]byte(realm))
	var sum [sha256.Size]byte
	copy(mac[:], h.Sum(sum[:0]))
	n.macs.Put(h)
	return mac
}
