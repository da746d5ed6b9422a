package auth

import (
	"errors"
	"strings"
)

// Response is one parsed Digest credentials value of an Authorization or
// Proxy-Authorization header (RFC 3261 §25.1 digest-response, RFC 7616 §3.4).
// Quoted values are unquoted and unescaped; Response is lowercase hex.
type Response struct {
	Username, Realm, Nonce, URI, Response string
	Algorithm                             Algorithm // MD5 when the parameter is absent
	QOP                                   string    // "auth" or "" (RFC 2069 style)
	NC                                    string    // 8 hex digits when QOP is "auth"
	NCValue                               uint32
	CNonce, Opaque                        string
}

// FormatError is a credentials value that cannot be used; its text names the
// problem and becomes part of the 400 reason phrase.
type FormatError struct{ Problem string }

func (e *FormatError) Error() string { return e.Problem }

func malformed(problem string) error { return &FormatError{problem} }

// ErrNotDigest is returned by ParseCredentials for another scheme than Digest.
var ErrNotDigest = errors.New("not Digest credentials")

// ParseCredentials parses `Digest name=value, name="quoted value", ...`.
// Names are case-insensitive; a parameter given twice, a missing username,
// realm, nonce, uri or response, an unsupported algorithm or qop, or a bad nc
// is a *FormatError. Unknown parameters are ignored (RFC 7616 §3.4 auth-param).
// When the parameters parse but do not fit together, the partial Response is
// returned with the error, so that a caller can tell which realm they were for.
func ParseCredentials(v []byte) (*Response, error) {
	s := strings.TrimLeft(string(v), " \t")
	scheme, rest := s, ""
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		scheme, rest = s[:i], s[i:]
	}
	if !strings.EqualFold(scheme, "Digest") {
		if strings.ContainsAny(scheme, "=\",") || scheme == "" {
			return nil, malformed("missing scheme")
		}
		return nil, ErrNotDigest
	}
	r := &Response{}
	if err := parseParams(rest, r); err != nil {
		return nil, err
	}
	if err := r.check(); err != nil {
		return r, err // r.Realm tells whose credentials they were
	}
	return r, nil
}

// parseParams reads dig-resp *(COMMA dig-resp) into r.
func parseParams(s string, r *Response) error {
	var seen uint16
	var other []string
	for {
		s = trimLWS(s)
		if s == "" {
			return nil
		}
		name, value, rest, err := nextParam(s)
		if err != nil {
			return err
		}
		name = strings.ToLower(name)
		bit := r.set(name, value)
		if bit == 0 {
			if contains(other, name) {
				return malformed("duplicate " + name)
			}
			other = append(other, name)
		} else if seen&bit != 0 {
			return malformed("duplicate " + name)
		}
		seen |= bit
		s = trimLWS(rest)
		if s == "" {
			return nil
		}
		if s[0] != ',' {
			return malformed("expected comma after " + name)
		}
		s = s[1:]
		if trimLWS(s) == "" {
			return malformed("trailing comma")
		}
	}
}

// nextParam splits `name = value` (token or quoted-string) off the front of s.
func nextParam(s string) (name, value, rest string, err error) {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if i == 0 {
		return "", "", "", malformed("bad parameter name")
	}
	name, s = s[:i], trimLWS(s[i:])
	if s == "" || s[0] != '=' {
		return "", "", "", malformed("missing value of " + name)
	}
	s = trimLWS(s[1:])
	if s != "" && s[0] == '"' {
		value, rest, ok := unquote(s)
		if !ok {
			return "", "", "", malformed("unterminated quoted string in " + name)
		}
		return name, value, rest, nil
	}
	i = 0
	for i < len(s) && s[i] != ',' && s[i] != ' ' && s[i] != '\t' && s[i] != '"' && s[i] > 0x20 && s[i] < 0x7f {
		i++
	}
	if i == 0 {
		return "", "", "", malformed("missing value of " + name)
	}
	return name, s[:i], s[i:], nil
}

// unquote reads a quoted-string at the start of s (RFC 3261 §25.1: a backslash
// escapes the next character) and returns its content and what follows.
func unquote(s string) (value, rest string, ok bool) {
	var b []byte // only allocated when there is an escape
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			if b == nil {
				return s[1:i], s[i+1:], true
			}
			return string(b), s[i+1:], true
		case '\\':
			if i+1 == len(s) {
				return "", s, false
			}
			if b == nil {
				b = append(make([]byte, 0, len(s)), s[1:i]...)
			}
			i++
			b = append(b, s[i])
		case '\r', '\n':
			return "", s, false
		default:
			if b != nil {
				b = append(b, c)
			}
		}
	}
	return "", s, false
}

// set stores a known parameter and returns its bit, or 0 for an unknown one.
func (r *Response) set(name, value string) uint16 {
	fields := [...]struct {
		name string
		dst  *string
	}{
		{"username", &r.Username}, {"realm", &r.Realm}, {"nonce", &r.Nonce}, {"uri", &r.URI},
		{"response", &r.Response}, {"qop", &r.QOP}, {"nc", &r.NC}, {"cnonce", &r.CNonce},
		{"opaque", &r.Opaque}, {"algorithm", nil},
	}
	for i, f := range fields {
		if f.name != name {
			continue
		}
		if f.dst == nil {
			r.setAlgorithm(value)
		} else {
			*f.dst = value
		}
		return 1 << i
	}
	return 0
}

// badAlgorithm marks an algorithm value check rejects.
const badAlgorithm Algorithm = 0xff

func (r *Response) setAlgorithm(v string) {
	switch {
	case strings.EqualFold(v, "MD5"):
		r.Algorithm = MD5
	case strings.EqualFold(v, "SHA-256"):
		r.Algorithm = SHA256
	default:
		r.Algorithm = badAlgorithm
	}
}

// check validates the parameters against each other (RFC 7616 §3.4).
func (r *Response) check() error {
	for _, f := range [...]struct{ name, v string }{
		{"username", r.Username}, {"realm", r.Realm}, {"nonce", r.Nonce}, {"uri", r.URI}, {"response", r.Response},
	} {
		if f.v == "" {
			return malformed("missing " + f.name)
		}
	}
	if r.Algorithm == badAlgorithm {
		return malformed("unsupported algorithm")
	}
	if len(r.Response) != r.Algorithm.hexLen() || !isHex(r.Response) {
		return malformed("bad response")
	}
	r.Response = strings.ToLower(r.Response)
	return r.checkQOP()
}

// checkQOP requires cnonce and an 8-digit nc with qop=auth. Without qop, nc
// and cnonce play no part in the digest and are ignored.
func (r *Response) checkQOP() error {
	switch {
	case r.QOP == "":
		r.NC, r.CNonce = "", ""
		return nil
	case !strings.EqualFold(r.QOP, "auth"):
		return malformed("unsupported qop")
	}
	r.QOP = "auth"
	if r.CNonce == "" {
		return malformed("missing cnonce")
	}
	if len(r.NC) != 8 || !isHex(r.NC) {
		return malformed("bad nc")
	}
	var n uint32
	for i := 0; i < len(r.NC); i++ {
		n = n<<4 | uint32(hexVal(r.NC[i]))
	}
	if n == 0 {
		return malformed("bad nc")
	}
	r.NCValue = n
	return nil
}

func trimLWS(s string) string { return strings.TrimLeft(s, " \t\r\n") }

func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if hexVal(s[i]) < 0 {
			return false
		}
	}
	return len(s) > 0
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return int(c|0x20-'a') + 10
	}
	return -1
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
