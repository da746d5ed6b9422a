package proxy

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"
)

// tokens signs the flows Parley writes into its Record-Route URIs (pf, pt)
// and into the Via of a request forwarded statelessly (pf), and checks them
// when they come back, the way RFC 5626 §5.2 flow tokens and Kamailio's and
// OpenSIPS's signed Record-Routes do: a token is HMAC-SHA256 keyed with the
// server secret, truncated to 96 bits, in base64url. Without it anybody could
// write a Route naming Parley with another user's connection in pt and have
// requests pushed down that connection.
//
// A flow names a connection by its number, which only means something to the
// process that numbered it; the epoch, which every token carries and signs,
// names that process. A token from another process (an earlier run, another
// instance on the same database) is still valid, but its connection numbers
// are ignored and the flow is reached by address.
type tokens struct {
	key   []byte
	epoch string     // epochLen hex digits, random per process
	macs  *sync.Pool // hash.Hash: HMAC-SHA256 keyed with key, reused (hmac.New allocates)
}

const (
	macLen   = 12 // bytes of HMAC kept: 96 bits, as RFC 2104 §5 allows
	epochLen = 8  // hex digits of the epoch
)

// Kinds of signed values: a token of one kind never verifies as another.
const (
	kindRecordRoute = "rr"
	kindVia         = "via"
)

// newTokens returns a signer keyed with secret (random when empty, which only
// suits a single Proxy that is never rebuilt) under epoch (random when 0).
func newTokens(secret []byte, epoch uint32) tokens {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		rand.Read(secret)
	}
	for epoch == 0 {
		var b [4]byte
		rand.Read(b[:])
		epoch = binary.BigEndian.Uint32(b[:])
	}
	return tokens{key: secret, epoch: fmt.Sprintf("%08x", epoch),
		macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, secret) }}}
}

// mac is the truncated HMAC of kind, epoch and parts, each length-prefixed so
// that no two different lists hash the same.
func (k tokens) mac(kind string, epoch []byte, parts ...[]byte) []byte {
	h := k.macs.Get().(hash.Hash)
	defer k.macs.Put(h)
	h.Reset()
	var n [4]byte
	write := func(p []byte) {
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	write([]byte(kind))
	write(epoch)
	for _, p := range parts {
		write(p)
	}
	return h.Sum(make([]byte, 0, sha256.Size))[:macLen]
}

// sign returns the token "epoch.mac" for parts under this process's epoch.
func (k tokens) sign(kind string, parts ...[]byte) string {
	m := k.mac(kind, []byte(k.epoch), parts...)
	return k.epoch + "." + base64.RawURLEncoding.EncodeToString(m)
}

// verify checks a token made by sign with the same key, in constant time. It
// reports whether the token is valid, and whether this process made it (so
// that the connection numbers it covers are ours).
func (k tokens) verify(tok []byte, kind string, parts ...[]byte) (valid, local bool) {
	epoch, sig, ok := bytes.Cut(tok, []byte("."))
	if !ok || len(epoch) != epochLen || base64.RawURLEncoding.DecodedLen(len(sig)) != macLen {
		return false, false
	}
	got := make([]byte, macLen)
	if n, err := base64.RawURLEncoding.Decode(got, sig); err != nil || n != macLen {
		return false, false
	}
	if !hmac.Equal(got, k.mac(kind, epoch, parts...)) {
		return false, false
	}
	return true, string(epoch) == k.epoch
}
