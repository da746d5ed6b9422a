package sip

import "errors"

// URI is a parsed URI. For sip and sips URIs (RFC 3261 §19.1) every part is set;
// for tel (RFC 3966) and other schemes only Scheme and Opaque are. All slices
// alias the input and parsing does not allocate.
type URI struct {
	Scheme   []byte
	User     []byte // still %-escaped
	Password []byte
	Host     []byte // an IPv6 reference keeps its brackets
	Port     int    // 0 when absent
	Params   []byte // ";transport=tcp;lr" including the leading ';'
	Headers  []byte // after '?', without it
	Opaque   []byte // everything after "scheme:"
}

// URI errors. Each one names what is wrong, to be used as a 400 reason phrase.
var (
	errURIScheme = errors.New("Bad URI scheme")
	errURIHost   = errors.New("Bad URI host")
	errURIPort   = errors.New("Bad URI port")
	errURIChars  = errors.New("Bad character in URI")
	errURIEscape = errors.New("Bad escape in URI")
)

// IsSIP reports whether the scheme is sip or sips.
func (u *URI) IsSIP() bool { return equalFold(u.Scheme, "sip") || equalFold(u.Scheme, "sips") }

// IsSecure reports whether the scheme is sips.
func (u *URI) IsSecure() bool { return equalFold(u.Scheme, "sips") }

// Param returns a URI parameter (case-insensitive name).
func (u *URI) Param(name string) ([]byte, bool) { return Param(u.Params, name) }

// ParseURI parses an absolute URI (RFC 3261 §25.1 Request-URI). sip and sips URIs
// are parsed fully and their host validated, including IPv6 references (RFC 5118).
func ParseURI(b []byte) (URI, error) {
	var u URI
	colon := indexByte(b, ':')
	if colon <= 0 || !validScheme(b[:colon]) {
		return u, errURIScheme
	}
	u.Scheme, u.Opaque = b[:colon], b[colon+1:]
	for _, c := range u.Opaque {
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' {
			return u, errURIChars
		}
	}
	if len(u.Opaque) == 0 {
		return u, errURIChars
	}
	if !u.IsSIP() {
		return u, nil
	}
	return u, parseSIPURI(&u, u.Opaque)
}

func validScheme(s []byte) bool {
	if len(s) == 0 || !(s[0]|0x20 >= 'a' && s[0]|0x20 <= 'z') {
		return false
	}
	for _, c := range s {
		if !schemeChars[c] {
			return false
		}
	}
	return true
}

// parseSIPURI splits sip:user:password@host:port;params?headers.
func parseSIPURI(u *URI, b []byte) error {
	if at := indexByte(b, '@'); at >= 0 {
		userinfo := b[:at]
		b = b[at+1:]
		if c := indexByte(userinfo, ':'); c >= 0 {
			u.User, u.Password = userinfo[:c], userinfo[c+1:]
		} else {
			u.User = userinfo
		}
		if len(u.User) == 0 || !validEscapes(u.User) || !validEscapes(u.Password) {
			return errURIEscape
		}
	}
	if q := indexByte(b, '?'); q >= 0 {
		u.Headers = b[q+1:]
		b = b[:q]
	}
	if s := indexByte(b, ';'); s >= 0 {
		u.Params = b[s:]
		b = b[:s]
		if !validURIParams(u.Params) {
			return errURIChars
		}
	}
	host, port, err := splitHostPort(b)
	if err != nil {
		return err
	}
	u.Host, u.Port = host, port
	return nil
}

// validEscapes checks that every '%' starts a two-hex-digit escape (RFC 3261 §25.1 escaped).
func validEscapes(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] == '%' {
			if i+2 >= len(b) {
				return false
			}
			if !isHex(b[i+1]) || !isHex(b[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func validURIParams(p []byte) bool {
	for len(p) > 0 {
		var one []byte
		one, p = nextParam(p)
		if len(one) == 0 {
			continue
		}
		for _, c := range one {
			if c == ' ' || c == '\t' {
				return false
			}
		}
	}
	return true
}

// SplitHostPort splits "host", "host:port", "[v6]" or "[v6]:port" and validates both.
func SplitHostPort(b []byte) (host []byte, port int, err error) { return splitHostPort(b) }

func splitHostPort(b []byte) (host []byte, port int, err error) {
	if len(b) == 0 {
		return nil, 0, errURIHost
	}
	var portPart []byte
	if b[0] == '[' {
		end := indexByte(b, ']')
		if end < 0 || !validIPv6(b[1:end]) {
			return nil, 0, errURIHost
		}
		host, b = b[:end+1], b[end+1:]
		if len(b) > 0 {
			if b[0] != ':' {
				return nil, 0, errURIHost
			}
			portPart = b[1:]
		}
	} else {
		if c := indexByte(b, ':'); c >= 0 {
			host, portPart = b[:c], b[c+1:]
			if portPart == nil {
				portPart = b[c+1 : c+1]
			}
		} else {
			host = b
		}
		if !validHostname(host) {
			return nil, 0, errURIHost
		}
	}
	if portPart != nil {
		p, ok := parseUint(portPart, 65535)
		if !ok {
			return nil, 0, errURIPort
		}
		port = int(p)
	}
	return host, port, nil
}

// validHostname accepts a hostname or an IPv4 address: labels of alphanumerics and '-'.
func validHostname(h []byte) bool {
	if len(h) == 0 || len(h) > 255 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// validIPv6 checks an IPv6 address text (RFC 4291 §2.2), with an optional trailing IPv4 part.
func validIPv6(b []byte) bool {
	groups, doubleColon := 0, false
	if len(b) < 2 {
		return false
	}
	i := 0
	if b[0] == ':' {
		if b[1] != ':' {
			return false
		}
		doubleColon, i = true, skipABNFColon(b, 2)
	}
	for i < len(b) {
		j := i
		for j < len(b) && isHex(b[j]) && j-i < 5 {
			j++
		}
		if j < len(b) && b[j] == '.' {
			if !validIPv4(b[i:]) {
				return false
			}
			groups += 2
			break
		}
		if j == i || j-i > 4 {
			return false
		}
		groups++
		if j == len(b) {
			break
		}
		if b[j] != ':' {
			return false
		}
		j++
		if j < len(b) && b[j] == ':' {
			if doubleColon {
				return false
			}
			doubleColon = true
			j = skipABNFColon(b, j+1)
		} else if j == len(b) {
			return false
		}
		i = j
	}
	if doubleColon {
		return groups < 8
	}
	return groups == 8
}

// skipABNFColon skips the third colon of "::" ":" IPv4address, which RFC 3261's
// ABNF allows by mistake: RFC 5118 §4.10 asks receivers to tolerate it.
func skipABNFColon(b []byte, i int) int {
	if i < len(b) && b[i] == ':' && validIPv4(b[i+1:]) {
		return i + 1
	}
	return i
}

func validIPv4(b []byte) bool {
	parts := 0
	for len(b) > 0 {
		d := indexByte(b, '.')
		part := b
		if d >= 0 {
			part, b = b[:d], b[d+1:]
			if len(b) == 0 {
				return false
			}
		} else {
			b = nil
		}
		if len(part) == 0 || len(part) > 3 {
			return false
		}
		if _, ok := parseUint(part, 255); !ok {
			return false
		}
		parts++
	}
	return parts == 4
}
