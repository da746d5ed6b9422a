package api

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/db"
)

// Domain store errors.
var (
	ErrDomainExists   = errors.New("domain already exists")
	ErrDomainNotFound = errors.New("no such domain")
	ErrBadDomain      = errors.New("a domain is a host name or an IPv4 address")
)

var hostname = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?)*$`)

// Domains keeps the served SIP domains (table domains). --domain seeds it.
type Domains struct {
	d        *db.DB
	onChange func([]string) // told the full list after every change
}

// NewDomains returns the store; onChange (may be nil) hears every new list.
func NewDomains(d *db.DB, onChange func([]string)) *Domains { return &Domains{d, onChange} }

// Normalize lowercases a domain and checks it.
func Normalize(name string) (string, error) {
	n := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	if len(n) > 190 || !hostname.MatchString(n) {
		return "", ErrBadDomain
	}
	return n, nil
}

// List returns every domain, sorted.
func (s *Domains) List(ctx context.Context) ([]string, error) {
	rows, err := s.d.QueryContext(ctx, "SELECT name FROM domains ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Add adds a domain; ErrDomainExists when it is there.
func (s *Domains) Add(ctx context.Context, name string) error {
	n, err := Normalize(name)
	if err != nil {
		return err
	}
	if _, err := s.d.ExecContext(ctx, s.d.Rebind("INSERT INTO domains (name, created_at) VALUES (?, ?)"), n, time.Now().Unix()); err != nil {
		if list, lerr := s.List(ctx); lerr == nil && contains(list, n) {
			return ErrDomainExists
		}
		return err
	}
	return s.changed(ctx)
}

// Seed adds the domains that are missing, quietly.
func (s *Domains) Seed(ctx context.Context, names []string) error {
	for _, n := range names {
		if err := s.Add(ctx, n); err != nil && !errors.Is(err, ErrDomainExists) {
			return err
		}
	}
	return s.changed(ctx)
}

// Delete removes a domain.
func (s *Domains) Delete(ctx context.Context, name string) error {
	n, err := Normalize(name)
	if err != nil {
		return err
	}
	res, err := s.d.ExecContext(ctx, s.d.Rebind("DELETE FROM domains WHERE name = ?"), n)
	if err != nil {
		return err
	}
	if c, _ := res.RowsAffected(); c == 0 {
		return ErrDomainNotFound
	}
	return s.changed(ctx)
}

func (s *Domains) changed(ctx context.Context) error {
	if s.onChange == nil {
		return nil
	}
	list, err := s.List(ctx)
	if err != nil {
		return err
	}
	s.onChange(list)
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
