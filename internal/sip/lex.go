package sip

import "bytes"

// Character classes of RFC 3261 §25.1, as lookup tables.
var (
	tokenChars  [256]bool // token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
	wordChars   [256]bool // word (Call-ID): token chars plus ( ) < > : \ " / [ ] ? { }
	uriChars    [256]bool // characters allowed unescaped somewhere in a SIP URI
	schemeChars [256]bool
)

func init() {
	for c := 'a'; c <= 'z'; c++ {
		tokenChars[c], tokenChars[c-32] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		tokenChars[c] = true
	}
	for _, c := range "-.!%*_+`'~" {
		tokenChars[c] = true
	}
	wordChars = tokenChars
	for _, c := range "()<>:\\\"/[]?{}" {
		wordChars[c] = true
	}
	for c := 0; c < 256; c++ {
		uriChars[c] = tokenChars[c]
	}
	for _, c := range ";/?:@&=+$,#[]()" {
		uriChars[c] = true
	}
	for c := 0; c < 256; c++ {
		schemeChars[c] = tokenChars[c] && c != '!' && c != '%' && c != '*' && c != '_' && c != '`' && c != '\'' && c != '~'
	}
}

func isWS(c byte) bool { return c == ' ' || c == '\t' }

// trimLWS removes leading and trailing spaces, tabs, CR and LF.
func trimLWS(b []byte) []byte {
	for len(b) > 0 && (isWS(b[0]) || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (isWS(b[len(b)-1]) || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenChars[c] {
			return false
		}
	}
	return true
}

// splitComma splits off the first comma-separated element of a header value,
// ignoring commas inside quoted strings and inside <...> (RFC 3261 §7.3.1).
func splitComma(b []byte) (first, rest []byte) {
	c := bytes.IndexByte(b, ',')
	if c < 0 {
		return b, nil
	}
	if bytes.IndexByte(b[:c], '"') < 0 && bytes.IndexByte(b[:c], '<') < 0 {
		return b[:c], b[c+1:]
	}
	return splitCommaSlow(b)
}

func splitCommaSlow(b []byte) (first, rest []byte) {
	inQuote, inAngle := false, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inQuote:
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case c == ',' && !inAngle:
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// Param finds parameter name (case-insensitive) in a ";a=1;b;c=2" parameter list
// and returns its value (nil for a flag parameter) and whether it was present.
// Whitespace around ";" and "=" is allowed (RFC 3261 §25.1 SEMI and EQUAL).
func Param(params []byte, name string) ([]byte, bool) {
	for len(params) > 0 {
		var p []byte
		p, params = nextParam(params)
		n, v := splitParam(p)
		if equalFold(n, name) {
			return v, true
		}
	}
	return nil, false
}

// nextParam returns the first ";"-separated element (trimmed) and the rest,
// skipping separators inside quoted strings. It consumes one leading ";", so
// ";;a" yields an empty element first: the validators reject it (SEMI must be
// followed by a parameter, RFC 3261 §25.1; RFC 4475 §3.1.2.1).
func nextParam(b []byte) (p, rest []byte) {
	b = trimLeadingWS(b)
	if len(b) > 0 && b[0] == ';' {
		b = trimLeadingWS(b[1:])
	}
	inQuote := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inQuote {
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
			continue
		}
		if c == '"' {
			inQuote = true
		} else if c == ';' {
			return trimLWS(b[:i]), b[i:]
		}
	}
	return trimLWS(b), nil
}

// splitParam splits "name = value" into trimmed name and value (nil if no "=").
func splitParam(p []byte) (name, value []byte) {
	for i, c := range p {
		if c == '=' {
			return trimLWS(p[:i]), trimLWS(p[i+1:])
		}
	}
	return p, nil
}

func trimLeadingWS(b []byte) []byte {
	for len(b) > 0 && isWS(b[0]) {
		b = b[1:]
	}
	return b
}

// validParams checks that every parameter is token[=token/quoted-string/host]
// and that no ";" is left without a parameter.
func validParams(b []byte) bool {
	for len(trimLWS(b)) > 0 {
		var p []byte
		p, b = nextParam(b)
		if len(p) == 0 {
			return false
		}
		n, v := splitParam(p)
		if !isToken(n) {
			return false
		}
		if v != nil && !validGenValue(v) {
			return false
		}
	}
	return true
}

// validGenValue accepts token, host (incl. IPv6 reference) or quoted-string (§25.1 gen-value).
func validGenValue(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	if v[0] == '"' {
		_, rest, ok := quoted(v)
		return ok && len(rest) == 0
	}
	if v[0] == '[' {
		return v[len(v)-1] == ']'
	}
	return isToken(v)
}

// quoted parses a quoted-string at the start of b and returns it with its
// quotes, the rest of b, and whether it was well formed (closed, escapes complete).
func quoted(b []byte) (q, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, b, false
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return b[:i+1], b[i+1:], true
		}
	}
	return nil, b, false
}

// maxParseUint is the largest max parseUint honours: below it, n*10+9 cannot
// overflow before n is compared with max.
const maxParseUint = (1<<64 - 1 - 9) / 10

// parseUint parses decimal digits into n, failing on empty input, non-digits or a
// value above max (at most maxParseUint).
func parseUint(b []byte, max uint64) (uint64, bool) {
	if max > maxParseUint {
		max = maxParseUint
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}

func indexByte(b []byte, c byte) int { return bytes.IndexByte(b, c) }
