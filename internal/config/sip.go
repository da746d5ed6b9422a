package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SIP holds protocol-level choices that are not tied to one feature.
type SIP struct {
	// ServerHeader is the Server header value put in responses
	// (RFC 3261 §20.35). Default "Parley"; "" sends no Server header.
	ServerHeader string `yaml:"server_header"`
	// Supported lists the option tags Parley advertises in Supported
	// (RFC 3261 §20.37). Default ["path"] (RFC 3327).
	Supported []string `yaml:"supported"`
}

// DefaultSIP returns the default protocol settings.
func DefaultSIP() SIP {
	return SIP{ServerHeader: "Parley", Supported: []string{"path"}}
}

// Validate checks that the Server value fits on one header line and that
// each option tag is a token (RFC 3261 §25.1), listed once.
func (s SIP) Validate() error {
	var errs []error
	if err := checkText(s.ServerHeader); err != nil {
		errs = append(errs, fieldErr("server_header", err))
	}
	seen := map[string]bool{}
	for i, tag := range s.Supported {
		path := "supported[" + strconv.Itoa(i) + "]"
		switch {
		case !isToken(tag):
			errs = append(errs, fieldErr(path, fmt.Errorf("option tag %q is not a token", tag)))
		case seen[tag]:
			errs = append(errs, fieldErr(path, fmt.Errorf("option tag %q listed twice", tag)))
		}
		seen[tag] = true
	}
	return errors.Join(errs...)
}

// isToken reports whether s is a non-empty RFC 3261 §25.1 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && !strings.ContainsRune("-.!%*_+`'~", rune(c)) {
			return false
		}
	}
	return true
}

// checkText rejects control characters other than horizontal tab, so the
// value cannot break a header or status line (no CR or LF injection).
func checkText(s string) error {
	for _, r := range s {
		if r < ' ' && r != '\t' || r == 0x7f {
			return fmt.Errorf("control character %q not allowed", r)
		}
	}
	return nil
}
