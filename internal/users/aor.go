package users

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors of the Store. They may be wrapped with detail: test with errors.Is.
var (
	ErrExists       = errors.New("user already exists")
	ErrNotFound     = errors.New("user not found")
	ErrWeakPassword = errors.New("weak password")
	ErrBadAOR       = errors.New("bad address of record")
)

// Column sizes of the users table (internal/db migration 1).
const (
	maxUser   = 64
	maxDomain = 190
	minPass   = 6
)

// ParseAOR splits "user@domain" (or "sip:user@domain") into the unescaped user
// and the lowercase domain, and checks both (see the package comment).
func ParseAOR(aor string) (user, domain string, err error) {
	s := aor
	if i := strings.IndexByte(s, ':'); i >= 0 && (strings.EqualFold(s[:i], "sip") || strings.EqualFold(s[:i], "sips")) {
		s = s[i+1:]
	}
	u, d, ok := strings.Cut(s, "@")
	if !ok || u == "" {
		return "", "", fmt.Errorf("%w %q: want user@domain", ErrBadAOR, aor)
	}
	if user, err = parseUser(u); err != nil {
		return "", "", fmt.Errorf("%w %q: %v", ErrBadAOR, aor, err)
	}
	if domain, err = parseDomain(d); err != nil {
		return "", "", fmt.Errorf("%w %q: %v", ErrBadAOR, aor, err)
	}
	return user, domain, nil
}

// userChars are the characters a SIP user part may hold unescaped (RFC 3261
// §25.1 user: unreserved = alphanum / mark, and user-unreserved).
const userChars = "-_.!~*'()" + "&=+$,;?/"

// parseUser checks a user part and returns it unescaped.
func parseUser(u string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case isAlnum(c) || strings.IndexByte(userChars, c) >= 0:
			b.WriteByte(c)
		case c == '%' && i+2 < len(u) && hexVal(u[i+1]) >= 0 && hexVal(u[i+2]) >= 0:
			b.WriteByte(byte(hexVal(u[i+1])<<4 | hexVal(u[i+2])))
			i += 2
		default:
			return "", fmt.Errorf("character %q not allowed in a SIP user (escape it as %%%02X)", c, c)
		}
	}
	user := b.String()
	if !utf8.ValidString(user) || strings.ContainsFunc(user, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) {
		return "", errors.New("user must be printable UTF-8 without spaces")
	}
	if len(user) > maxUser {
		return "", fmt.Errorf("user longer than %d bytes", maxUser)
	}
	return user, nil
}

// parseDomain checks a hostname (RFC 3261 §25.1) or IPv4 address and lowercases it.
func parseDomain(d string) (string, error) {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	if d == "" {
		return "", errors.New("missing domain")
	}
	if len(d) > maxDomain {
		return "", fmt.Errorf("domain longer than %d bytes", maxDomain)
	}
	if a, err := netip.ParseAddr(d); err == nil && a.Is4() {
		return d, nil
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		if !validLabel(l) {
			return "", fmt.Errorf("bad domain label %q", l)
		}
	}
	if top := labels[len(labels)-1]; top[0] < 'a' || top[0] > 'z' {
		return "", errors.New("domain must end in a label starting with a letter")
	}
	return d, nil
}

// validLabel: alphanum / alphanum *( alphanum / "-" ) alphanum, at most 63 bytes.
func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		if !isAlnum(l[i]) && l[i] != '-' {
			return false
		}
	}
	return true
}

// Check reports whether Add would accept aor and password, without asking
// the database (so not ErrExists): ErrBadAOR or ErrWeakPassword, wrapped.
func Check(aor, password string) error {
	user, domain, err := ParseAOR(aor)
	if err != nil {
		return err
	}
	return checkPassword(user, domain, password)
}

// checkPassword rejects passwords that are empty, shorter than 6 characters,
// or the user name or AOR.
func checkPassword(user, domain, pw string) error {
	switch {
	case pw == "":
		return fmt.Errorf("%w: empty", ErrWeakPassword)
	case utf8.RuneCountInString(pw) < minPass:
		return fmt.Errorf("%w: shorter than %d characters", ErrWeakPassword, minPass)
	case strings.EqualFold(pw, user) || strings.EqualFold(pw, user+"@"+domain):
		return fmt.Errorf("%w: same as the user name", ErrWeakPassword)
	}
	return nil
}

// escapeUser %-escapes what may not appear unescaped in a SIP user part.
func escapeUser(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		if c := u[i]; isAlnum(c) || strings.IndexByte(userChars, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
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
