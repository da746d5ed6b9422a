// Package db opens Parley's database (SQLite embedded by default, PostgreSQL or
// MySQL/MariaDB) through database/sql, and creates and upgrades its schema
// automatically: a schema_version table records what has been applied, and
// Migrate applies what is missing, under a lock so several Parley instances on
// one database do not race. No user ever runs SQL by hand to upgrade.
package db

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver (pure Go)
)

// Dialect is the SQL flavour of a database.
type Dialect int

// The supported databases.
const (
	SQLite Dialect = iota
	Postgres
	MySQL
)

func (d Dialect) String() string { return [...]string{"sqlite", "postgres", "mysql"}[d] }

// DB is an open database and its dialect.
type DB struct {
	*sql.DB
	Dialect Dialect
	name    string // the DSN without credentials, for logs
}

// Open opens a DSN: "sqlite:PATH" (or "sqlite::memory:"), "postgres://..." /
// "postgresql://...", or "mysql://user:pass@host:port/dbname?params". It checks
// the connection but does not migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	d, err := open(dsn)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.PingContext(pctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("database %s: %w", d.name, err)
	}
	return d, nil
}

func open(dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return openSQLite(strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(16)
		return &DB{DB: db, Dialect: Postgres, name: redact(dsn)}, nil
	case strings.HasPrefix(dsn, "mysql://"):
		cfg, err := mysqlConfig(dsn)
		if err != nil {
			return nil, err
		}
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(16)
		db.SetConnMaxLifetime(5 * time.Minute)
		return &DB{DB: db, Dialect: MySQL, name: redact(dsn)}, nil
	}
	return nil, fmt.Errorf("database DSN must start with sqlite:, postgres:// or mysql://")
}

// openSQLite opens a file with WAL, a busy timeout and foreign keys. One
// connection serializes writers, which is what SQLite wants.
func openSQLite(path string) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite: empty path")
	}
	q := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	sep := "?"
	if i := strings.Index(path, "?"); i >= 0 { // the DSN's own parameters go before ours
		path, q = path[:i], path[i+1:]+"&"+q
	}
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+sep+q)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return &DB{DB: db, Dialect: SQLite, name: "sqlite:" + path}, nil
}

// mysqlConfig turns mysql://user:pass@host:port/db?params into the driver's config.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("mysql DSN: %w", err)
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", u.Host
	if u.Port() == "" {
		cfg.Addr = u.Host + ":3306"
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	cfg.ParseTime = true
	cfg.MultiStatements = false
	cfg.Timeout = 5 * time.Second
	for k, v := range u.Query() {
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params[k] = v[0]
	}
	return cfg, nil
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

// Name is the DSN without its password.
func (d *DB) Name() string { return d.name }

// Rebind rewrites '?' placeholders to $1, $2, ... for PostgreSQL. Queries in
// Parley are written with '?'.
func (d *DB) Rebind(q string) string {
	if d.Dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Upsert returns the dialect's "insert or replace" statement for table with
// columns, the first nkey of which form the primary key.
func (d *DB) Upsert(table string, cols []string, nkey int) string {
	ph := strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",")
	ins := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, strings.Join(cols, ","), ph)
	var sets []string
	for _, c := range cols[nkey:] {
		switch d.Dialect {
		case MySQL:
			sets = append(sets, fmt.Sprintf("%s=VALUES(%s)", c, c))
		default:
			sets = append(sets, fmt.Sprintf("%s=excluded.%s", c, c))
		}
	}
	if d.Dialect == MySQL {
		return d.Rebind(ins + " ON DUPLICATE KEY UPDATE " + strings.Join(sets, ","))
	}
	return d.Rebind(ins + " ON CONFLICT (" + strings.Join(cols[:nkey], ",") + ") DO UPDATE SET " + strings.Join(sets, ","))
}

// escapePath escapes what a file: URI would read as syntax: a path with '#' or
// '%' names that very file.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "#", "%23").Replace(p)
}
