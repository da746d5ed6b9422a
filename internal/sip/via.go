package sip

import "errors"

// BranchMagic is the RFC 3261 §8.1.1.7 branch prefix of RFC 3261 transactions.
const BranchMagic = "z9hG4bK"

// Via is one parsed Via value (RFC 3261 §20.42, RFC 3581). Slices alias the message.
type Via struct {
	Transport []byte // "UDP", "TCP", "TLS", "WS", "WSS", "SCTP" or an extension
	Host      []byte // IPv6 references keep their brackets
	Port      int    // 0 when absent
	Params    []byte // ";branch=...;rport" with the leading ';'
	Branch    []byte
	Received  []byte
	RPort     []byte // value of rport; nil when it is a flag or absent
	HasRPort  bool
	Maddr     []byte
	TTL       int // -1 when absent
	Raw       []byte
}

var (
	errViaProto  = errors.New("bad Via protocol")
	errViaHost   = errors.New("bad Via host")
	errViaParams = errors.New("bad Via parameters")
)

// ParseVia parses one Via value. Linear whitespace is allowed around "/" in the
// sent-protocol and around ";" and "=" in the parameters (§25.1 SLASH, SEMI, EQUAL).
// The protocol name must be SIP; its version is any token (§25.1 sent-protocol).
// On a parameter error the returned Via still holds the transport and sent-by.
func ParseVia(b []byte) (Via, error) {
	v := Via{TTL: -1, Raw: trimLWS(b)}
	b = v.Raw
	name, b := viaToken(b)
	if !equalFold(name, "SIP") {
		return v, errViaProto
	}
	ver, b := viaSlashToken(b)
	if !isToken(ver) { // protocol-version = token: a SIP/7.0 request keeps a usable Via for its 505
		return v, errViaProto
	}
	v.Transport, b = viaSlashToken(b)
	if !isToken(v.Transport) {
		return v, errViaProto
	}
	b = trimLWS(b)
	end := len(b)
	for i, c := range b {
		if c == ';' || isWS(c) {
			end = i
			break
		}
	}
	host, port, err := splitHostPort(b[:end])
	if err != nil {
		return v, errViaHost
	}
	v.Host, v.Port = host, port
	rest := trimLWS(b[end:])
	if len(rest) > 0 && rest[0] != ';' {
		return v, errViaParams
	}
	v.Params = rest
	return v, v.scanParams()
}

func (v *Via) scanParams() error {
	p := v.Params
	for len(trimLWS(p)) > 0 {
		var one []byte
		one, p = nextParam(p)
		if len(one) == 0 {
			return errViaParams // ";;" or a trailing ";" (RFC 4475 §3.1.2.1)
		}
		n, val := splitParam(one)
		if !isToken(n) || (val != nil && !validViaValue(val)) {
			return errViaParams
		}
		switch {
		case equalFold(n, "branch"):
			v.Branch = val
		case equalFold(n, "received"):
			v.Received = val
		case equalFold(n, "rport"):
			v.HasRPort, v.RPort = true, val
		case equalFold(n, "maddr"):
			v.Maddr = val
		case equalFold(n, "ttl"):
			ttl, ok := parseUint(val, 255)
			if !ok {
				return errViaParams
			}
			v.TTL = int(ttl)
		}
	}
	return nil
}

// validViaValue accepts a token, a host (IPv4, IPv6 with or without brackets,
// RFC 5118 §4.5) or a quoted string.
func validViaValue(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if b[0] == '"' {
		_, rest, ok := quoted(b)
		return ok && len(rest) == 0
	}
	for _, c := range b {
		if !tokenChars[c] && c != ':' && c != '[' && c != ']' {
			return false
		}
	}
	return true
}

// IsRFC3261Branch reports whether the branch carries the magic cookie (§17.2.3).
func (v *Via) IsRFC3261Branch() bool {
	return len(v.Branch) > len(BranchMagic) && string(v.Branch[:len(BranchMagic)]) == BranchMagic
}

func viaToken(b []byte) (tok, rest []byte) {
	b = trimLWS(b)
	for i, c := range b {
		if !tokenChars[c] {
			return b[:i], b[i:]
		}
	}
	return b, nil
}

func viaSlashToken(b []byte) (tok, rest []byte) {
	b = trimLWS(b)
	if len(b) == 0 || b[0] != '/' {
		return nil, b
	}
	return viaToken(b[1:])
}
