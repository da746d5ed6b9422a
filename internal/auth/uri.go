package auth

import (
	"bytes"

	"github.com/parley-sip/parley/internal/sip"
)

// sameURI reports whether the digest-uri of credentials names the
// Request-URI: the same string, or two URIs that compare equal under the
// rules of RFC 3261 §19.1.4 (scheme and host case-insensitive, user and
// password compared after unescaping, same port, same parameters in any order).
// Headers are compared as strings.
func sameURI(digestURI string, ruri []byte) bool {
	if digestURI == string(ruri) {
		return true
	}
	a, errA := sip.ParseURI([]byte(digestURI))
	b, errB := sip.ParseURI(ruri)
	if errA != nil || errB != nil || !bytes.EqualFold(a.Scheme, b.Scheme) {
		return false
	}
	if !a.IsSIP() {
		return bytes.Equal(a.Opaque, b.Opaque)
	}
	return unescape(a.User) == unescape(b.User) && unescape(a.Password) == unescape(b.Password) &&
		bytes.EqualFold(a.Host, b.Host) && a.Port == b.Port &&
		bytes.Equal(a.Headers, b.Headers) && sameParams(a.Params, b.Params)
}

// sameParams reports whether two ";a=1;b" lists hold the same parameters,
// names and values compared case-insensitively, in any order.
func sameParams(a, b []byte) bool {
	return subsetParams(a, b) && subsetParams(b, a)
}

func subsetParams(a, b []byte) bool {
	for _, p := range bytes.Split(a, []byte{';'}) {
		p = bytes.TrimSpace(p)
		if len(p) == 0 {
			continue
		}
		name, val, _ := bytes.Cut(p, []byte{'='})
		got, ok := sip.Param(b, string(bytes.TrimSpace(name)))
		if !ok || !bytes.EqualFold(got, bytes.TrimSpace(val)) {
			return false
		}
	}
	return true
}

// unescape decodes %XX escapes (RFC 3261 §25.1 escaped); a malformed escape
// is kept as it is.
func unescape(b []byte) string {
	if bytes.IndexByte(b, '%') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) && hexVal(b[i+1]) >= 0 && hexVal(b[i+2]) >= 0 {
			out = append(out, byte(hexVal(b[i+1])<<4|hexVal(b[i+2])))
			i += 2
			continue
		}
		out = append(out, b[i])
	}
	return string(out)
}
