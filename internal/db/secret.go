package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Secret returns the secret called name from the secrets table, creating it
// with size random bytes the first time any instance asks. Instances starting
// together on one database agree: the first insert wins and every caller
// reads the stored value back. A stored secret of another size is an error.
func (d *DB) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	if v, err := d.readSecret(ctx, name); err == nil {
		return checkSecret(name, v, size)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	if _, err := d.ExecContext(ctx, d.insertIgnore(), name, hex.EncodeToString(b), time.Now().Unix()); err != nil {
		return nil, fmt.Errorf("store secret %s: %w", name, err)
	}
	v, err := d.readSecret(ctx, name)
	if err != nil {
		return nil, err
	}
	return checkSecret(name, v, size)
}

func (d *DB) readSecret(ctx context.Context, name string) (string, error) {
	var v string
	err := d.QueryRowContext(ctx, d.Rebind("SELECT value FROM secrets WHERE name = ?"), name).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read secret %s: %w", name, err)
	}
	return v, err
}

// insertIgnore is an insert into secrets that does nothing when the name
// exists: another instance made the secret first.
func (d *DB) insertIgnore() string {
	if d.Dialect == MySQL {
		return "INSERT IGNORE INTO secrets (name, value, created_at) VALUES (?, ?, ?)"
	}
	return d.Rebind("INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING")
}

func checkSecret(name, v string, size int) ([]byte, error) {
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != size {
		return nil, fmt.Errorf("secret %s in the database is not %d bytes of hex", name, size)
	}
	return b, nil
}
