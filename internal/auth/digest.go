package auth

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Algorithm is a digest algorithm (RFC 7616 §3.2, RFC 8760 §2.2).
type Algorithm uint8

// The algorithms Parley verifies. MD5 is what an absent algorithm parameter means.
const (
	MD5 Algorithm = iota
	SHA256
)

// String returns the algorithm token as written in the algorithm parameter.
func (a Algorithm) String() string {
	if a == SHA256 {
		return "SHA-256"
	}
	return "MD5"
}

// hexLen is the length of the algorithm's lowercase hex digest.
func (a Algorithm) hexLen() int {
	if a == SHA256 {
		return 2 * sha256.Size
	}
	return 2 * md5.Size
}

// hash appends the lowercase hex digest of data to dst.
func (a Algorithm) hash(dst, data []byte) []byte {
	if a == SHA256 {
		sum := sha256.Sum256(data)
		return hex.AppendEncode(dst, sum[:])
	}
	sum := md5.Sum(data)
	return hex.AppendEncode(dst, sum[:])
}

// HA1 returns H(username ":" realm ":" password) in lowercase hex: the secret a
// credential store keeps instead of the password (RFC 7616 §3.4.2).
func HA1(a Algorithm, username, realm, password string) string {
	var buf [192]byte
	b := append(buf[:0], username...)
	b = append(b, ':')
	b = append(b, realm...)
	b = append(b, ':')
	b = append(b, password...)
	var out [64]byte
	return string(a.hash(out[:0], b))
}

// RequestDigest returns the response a client computes (RFC 7616 §3.4.1) from
// ha1 for a request with method and digest-uri uri. With qop "auth" it is
// H(HA1:nonce:nc:cnonce:qop:HA2); with qop "" it is the RFC 2069 form
// H(HA1:nonce:HA2). HA2 is H(method:uri).
func RequestDigest(a Algorithm, ha1, nonce, nc, cnonce, qop, method, uri string) string {
	var out [64]byte
	return string(appendRequestDigest(out[:0], a, ha1, nonce, nc, cnonce, qop, method, uri))
}

func appendRequestDigest(dst []byte, a Algorithm, ha1, nonce, nc, cnonce, qop, method, uri string) []byte {
	var buf [320]byte
	b := append(buf[:0], method...)
	b = append(b, ':')
	b = append(b, uri...)
	var ha2 [64]byte
	h2 := a.hash(ha2[:0], b)

	b = append(buf[:0], ha1...)
	b = append(b, ':')
	b = append(b, nonce...)
	b = append(b, ':')
	if qop != "" {
		b = append(b, nc...)
		b = append(b, ':')
		b = append(b, cnonce...)
		b = append(b, ':')
		b = append(b, qop...)
		b = append(b, ':')
	}
	b = append(b, h2...)
	return a.hash(dst, b)
}

// Verify reports whether the response in c is the one computed from ha1 (the
// stored HA1 for c.Algorithm) and the request method. The comparison takes
// constant time. An empty ha1 never verifies.
func (c *Response) Verify(ha1, method string) bool {
	if len(ha1) != c.Algorithm.hexLen() {
		return false
	}
	ha1 = strings.ToLower(ha1) // no copy when it already is
	var out [64]byte
	want := appendRequestDigest(out[:0], c.Algorithm, ha1, c.Nonce, c.NC, c.CNonce, c.QOP, method, c.URI)
	return subtle.ConstantTimeCompare(want, []byte(c.Response)) == 1
}
