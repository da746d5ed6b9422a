package api

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/db"
)

// Admin store errors.
var (
	ErrAdminExists   = errors.New("administrator already exists")
	ErrAdminNotFound = errors.New("no such administrator")
	ErrBadAdminName  = errors.New("administrator name must be 1-64 letters, digits, '.', '_' or '-'")
	ErrWeakPassword  = errors.New("password must have at least 8 characters and differ from the name")
	ErrBadLogin      = errors.New("wrong name or password")
)

// pbkdf2Iterations is the PBKDF2-SHA256 work factor for administrator passwords.
const pbkdf2Iterations = 100_000

var adminName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Admins keeps administrator accounts (table admins) with salted PBKDF2-SHA256
// password hashes.
type Admins struct{ d *db.DB }

// NewAdmins returns the store over a migrated database.
func NewAdmins(d *db.DB) *Admins { return &Admins{d} }

// Add creates an administrator.
func (a *Admins) Add(ctx context.Context, name, password string) error {
	if !adminName.MatchString(name) {
		return ErrBadAdminName
	}
	if len(password) < 8 || strings.EqualFold(password, name) {
		return ErrWeakPassword
	}
	h, err := hashPassword(password)
	if err != nil {
		return err
	}
	_, err = a.d.ExecContext(ctx, a.d.Rebind("INSERT INTO admins (name, pw_hash, created_at) VALUES (?, ?, ?)"),
		name, h, time.Now().Unix())
	if err != nil {
		if _, gerr := a.get(ctx, name); gerr == nil {
			return ErrAdminExists
		}
		return err
	}
	return nil
}

// Verify checks a name and password; ErrBadLogin when they do not match.
func (a *Admins) Verify(ctx context.Context, name, password string) error {
	h, err := a.get(ctx, name)
	if errors.Is(err, ErrAdminNotFound) {
		hashPassword(password) // spend the same time as for a known name
		return ErrBadLogin
	}
	if err != nil {
		return err
	}
	if !checkPassword(h, password) {
		return ErrBadLogin
	}
	return nil
}

// Delete removes an administrator.
func (a *Admins) Delete(ctx context.Context, name string) error {
	res, err := a.d.ExecContext(ctx, a.d.Rebind("DELETE FROM admins WHERE name = ?"), name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrAdminNotFound
	}
	return nil
}

// Count returns how many administrators exist.
func (a *Admins) Count(ctx context.Context) (int, error) {
	var n int
	err := a.d.QueryRowContext(ctx, "SELECT COUNT(*) FROM admins").Scan(&n)
	return n, err
}

func (a *Admins) get(ctx context.Context, name string) (string, error) {
	var h string
	err := a.d.QueryRowContext(ctx, a.d.Rebind("SELECT pw_hash FROM admins WHERE name = ?"), name).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrAdminNotFound
	}
	return h, err
}

// hashPassword returns "pbkdf2-sha256$ITER$SALT$HASH" (base64).
func hashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	rand.Read(salt)
	k, err := pbkdf2.Key(sha256.New, pw, salt, pbkdf2Iterations, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", pbkdf2Iterations, enc.EncodeToString(salt), enc.EncodeToString(k)), nil
}

func checkPassword(stored, pw string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	enc := base64.RawStdEncoding
	salt, err2 := enc.DecodeString(parts[2])
	want, err3 := enc.DecodeString(parts[3])
	if err != nil || err2 != nil || err3 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pw, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
