package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// checkDomains validates each domain and rejects duplicates. Domains are
// compared in canonical form, so "Example.com" and "example.com." clash.
func checkDomains(domains []string) []error { return checkDomainList("domain", domains) }

// checkDomainList is checkDomains for the list at path name.
func checkDomainList(name string, domains []string) []error {
	var errs []error
	seen := map[string]int{}
	for i, d := range domains {
		path := name + "[" + strconv.Itoa(i) + "]"
		n, err := canonicalDomain(d)
		if err != nil {
			errs = append(errs, fieldErr(path, err))
			continue
		}
		if j, dup := seen[n]; dup {
			errs = append(errs, fieldErr(path, fmt.Errorf("%q repeats %s[%d]", d, name, j)))
			continue
		}
		seen[n] = i
	}
	return errs
}

// checkDB accepts the DSN schemes Parley has stores for. The DSN itself is
// never echoed, since it may hold a password.
func checkDB(dsn string) error {
	for _, p := range []string{"sqlite:", "postgres://", "postgresql://", "mysql://"} {
		if rest, ok := strings.CutPrefix(dsn, p); ok {
			if rest == "" {
				return fmt.Errorf("nothing after %q", p)
			}
			return nil
		}
	}
	return errors.New("unsupported DSN: want sqlite:PATH, postgres://..., postgresql://... or mysql://...")
}

func checkLogLevel(level string) error {
	switch strings.ToLower(level) {
	case "debug", "info", "warn", "error":
		return nil
	}
	return fmt.Errorf("unknown level %q (want debug, info, warn or error)", level)
}

// checkReasonPhrases checks codes are 100-699 (RFC 3261 §7.2) and phrases
// are non-empty text without CR or LF (§25.1 Reason-Phrase).
func checkReasonPhrases(m map[int]string) []error {
	var errs []error
	codes := make([]int, 0, len(m))
	for code := range m {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		path := "reason_phrases." + strconv.Itoa(code)
		phrase := m[code]
		switch {
		case code < 100 || code > 699:
			errs = append(errs, fieldErr(path, fmt.Errorf("status code %d out of range 100-699", code)))
		case strings.TrimSpace(phrase) == "":
			errs = append(errs, fieldErr(path, errors.New("reason phrase is empty")))
		default:
			if err := checkText(phrase); err != nil {
				errs = append(errs, fieldErr(path, err))
			}
		}
	}
	return errs
}
