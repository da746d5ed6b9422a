package sip

import "errors"

var (
	errDisplay  = errors.New("bad display name")
	errAngle    = errors.New("bad <URI>")
	errAddrSpec = errors.New("URI with ?, ; or , must be in <>")
	errParams   = errors.New("bad parameters")
)

// ParseNameAddr parses name-addr / addr-spec followed by header parameters, as in
// From, To, Contact, Route and Record-Route (RFC 3261 §20.10, §25.1). In the
// addr-spec form, ";" starts header parameters, never URI parameters (§20).
func ParseNameAddr(b []byte) (NameAddr, error) {
	var n NameAddr
	b = trimLWS(b)
	if len(b) == 0 {
		return n, errAngle
	}
	lt := angleStart(b)
	if lt < 0 {
		return parseAddrSpec(b)
	}
	if b[lt] != '<' {
		return n, errDisplay // an unterminated quoted display name
	}
	disp := trimLWS(b[:lt])
	if len(disp) > 0 {
		if disp[0] == '"' {
			q, rest, ok := quoted(disp)
			if !ok || len(trimLWS(rest)) > 0 {
				return n, errDisplay
			}
			disp = q
		} else if !validTokens(disp) {
			return n, errDisplay
		}
	}
	n.Display = disp
	b = b[lt+1:]
	gt := indexByte(b, '>')
	if gt < 0 {
		return n, errAngle
	}
	uri := b[:gt]
	if len(uri) == 0 || isWS(uri[0]) || isWS(uri[len(uri)-1]) {
		return n, errAngle
	}
	if _, err := ParseURI(uri); err != nil {
		return n, err
	}
	n.URI = uri
	return n, setParams(&n, b[gt+1:])
}

// angleStart finds the '<' that opens the URI, skipping a quoted display name.
// It returns -1 for the addr-spec form, and 0 (where there is no '<') for a
// display name that is quoted but not followed by <URI>.
func angleStart(b []byte) int {
	i := 0
	if b[0] == '"' {
		q, _, ok := quoted(b)
		if !ok {
			return 0 // unbalanced quote: let the caller fail on the display name
		}
		i = len(q)
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case '<':
			return i
		case ';', ':':
			if i > 0 && b[0] != '"' {
				return -1
			}
		}
	}
	if b[0] == '"' {
		return 0
	}
	return -1
}

func parseAddrSpec(b []byte) (NameAddr, error) {
	var n NameAddr
	end := len(b)
	for i, c := range b {
		if c == ';' || isWS(c) {
			end = i
			break
		}
	}
	uri := b[:end]
	for _, c := range uri {
		if c == '?' || c == ',' {
			return n, errAddrSpec
		}
	}
	if _, err := ParseURI(uri); err != nil {
		return n, err
	}
	n.URI = uri
	return n, setParams(&n, b[end:])
}

func setParams(n *NameAddr, rest []byte) error {
	rest = trimLWS(rest)
	if len(rest) == 0 {
		return nil
	}
	if rest[0] != ';' || !validParams(rest) {
		return errParams
	}
	n.Params = rest
	return nil
}

// validTokens accepts *(token LWS) as an unquoted display name.
func validTokens(b []byte) bool {
	for _, c := range b {
		if !tokenChars[c] && !isWS(c) {
			return false
		}
	}
	return true
}
