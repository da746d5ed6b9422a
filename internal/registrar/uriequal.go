package registrar

import (
	"net/netip"
	"strings"

	"github.com/parley-sip/parley/internal/sip"
)

// URIEqual reports whether two URIs are equal under RFC 3261 §19.1.4, the
// rule §10.3 step 7 names for matching a Contact to a stored binding:
//   - sip and sips URIs are never equal; other schemes compare their text
//     after the scheme, escapes normalized.
//   - The user and password compare case-sensitively, everything else
//     case-insensitively; a character other than a reserved one (RFC 2396
//     §2.2) equals its %HH escape, and escapes compare without regard to the
//     case of their hex digits.
//   - Host and port must match; an absent port does not match an explicit
//     one, even 5060. Two IP addresses compare as addresses ([::1] equals
//     [0:0::1]); a name never equals the address it resolves to.
//   - A parameter in both URIs must have the same value. user, ttl, method,
//     maddr and transport must be in both or in neither; any other
//     parameter in only one URI is ignored. (The rule list of §19.1.4 leaves
//     transport out, but its example says sip:bob@biloxi.com and
//     sip:bob@biloxi.com;transport=udp "can resolve to different transports"
//     and are not equal; Parley follows the example.)
//   - Headers (after '?') must be the same set in both, in any order.
//
// A URI that does not parse equals only the same string.
func URIEqual(a, b string) bool {
	if a == b {
		return true
	}
	ua, errA := sip.ParseURI([]byte(a))
	ub, errB := sip.ParseURI([]byte(b))
	if errA != nil || errB != nil || !strings.EqualFold(string(ua.Scheme), string(ub.Scheme)) {
		return false
	}
	if !ua.IsSIP() {
		return canonEscapes(string(ua.Opaque)) == canonEscapes(string(ub.Opaque))
	}
	return canonEscapes(string(ua.User)) == canonEscapes(string(ub.User)) &&
		canonEscapes(string(ua.Password)) == canonEscapes(string(ub.Password)) &&
		sameHost(string(ua.Host), string(ub.Host)) && ua.Port == ub.Port &&
		sameURIParams(string(ua.Params), string(ub.Params)) &&
		sameURIHeaders(string(ua.Headers), string(ub.Headers))
}

// sameHost compares hosts case-insensitively, and IP addresses as addresses.
func sameHost(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	ia, errA := netip.ParseAddr(strings.Trim(a, "[]"))
	ib, errB := netip.ParseAddr(strings.Trim(b, "[]"))
	return errA == nil && errB == nil && ia == ib
}

// mustMatchParams are the parameters that make two URIs differ when only one
// has them (§19.1.4; transport after its example, see URIEqual).
var mustMatchParams = [...]string{"user", "ttl", "method", "maddr", "transport"}

// sameURIParams applies the parameter rules of §19.1.4 to two ";a=1;b" lists.
func sameURIParams(a, b string) bool {
	pa, pb := splitURIParams(a), splitURIParams(b)
	for name, va := range pa {
		if vb, ok := pb[name]; ok && !strings.EqualFold(va, vb) {
			return false
		}
	}
	for _, name := range mustMatchParams {
		_, inA := pa[name]
		_, inB := pb[name]
		if inA != inB {
			return false
		}
	}
	return true
}

// splitURIParams maps each parameter's lowercase name to its value with
// escapes normalized ("" for a flag such as lr). The first of a repeated
// name counts.
func splitURIParams(s string) map[string]string {
	out := map[string]string{}
	for p := range strings.SplitSeq(s, ";") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		name, val, _ := strings.Cut(p, "=")
		name = strings.ToLower(canonEscapes(strings.TrimSpace(name)))
		if _, dup := out[name]; !dup {
			out[name] = canonEscapes(strings.TrimSpace(val))
		}
	}
	return out
}

// sameURIHeaders reports whether two "a=1&b=2" header lists hold the same
// headers in any order: names case-insensitive, values exact after escape
// normalization (§19.1.4: header components are never ignored).
func sameURIHeaders(a, b string) bool {
	ha, hb := splitURIHeaders(a), splitURIHeaders(b)
	if len(ha) != len(hb) {
		return false
	}
	for k, n := range ha {
		if hb[k] != n {
			return false
		}
	}
	return true
}

// splitURIHeaders counts each "name=value" of a header list, the name
// lowercased and both with escapes normalized.
func splitURIHeaders(s string) map[string]int {
	out := map[string]int{}
	for h := range strings.SplitSeq(s, "&") {
		if h == "" {
			continue
		}
		name, val, _ := strings.Cut(h, "=")
		out[strings.ToLower(canonEscapes(name))+"="+canonEscapes(val)]++
	}
	return out
}

// canonEscapes decodes each %HH escape whose character is not reserved
// (RFC 2396 §2.2: ;/?:@&=+$,) and upper-cases the hex digits of the escapes
// it keeps, so that equal URI components become equal strings (§19.1.4).
func canonEscapes(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		hi, lo, ok := escapeAt(s, i)
		if !ok {
			b.WriteByte(s[i])
			continue
		}
		c := hi<<4 | lo
		if strings.IndexByte(";/?:@&=+$,", c) >= 0 {
			b.WriteString(strings.ToUpper(s[i : i+3]))
		} else {
			b.WriteByte(c)
		}
		i += 2
	}
	return b.String()
}

// escapeAt decodes the %HH escape at s[i], if there is one.
func escapeAt(s string, i int) (hi, lo byte, ok bool) {
	if s[i] != '%' || i+2 >= len(s) {
		return 0, 0, false
	}
	hi, okHi := hexDigit(s[i+1])
	lo, okLo := hexDigit(s[i+2])
	return hi, lo, okHi && okLo
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
