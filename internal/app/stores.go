package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/api"
	"github.com/parley-sip/parley/internal/auth"
	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/location/sqlstore"
	"github.com/parley-sip/parley/internal/metrics"
	"github.com/parley-sip/parley/internal/proxy"
	"github.com/parley-sip/parley/internal/transport"
	"github.com/parley-sip/parley/internal/users"
)

// stores are the long-lived data services; a reload keeps them.
type stores struct {
	db       *db.DB
	users    *users.Store
	loc      *location.Cached
	instance string
	stop     context.CancelFunc
	// nonceKey signs digest nonces when auth.secret is not set: derived from
	// the database secret (see nonceSecret).
	nonceKey []byte
	// sipSecret is the key of the flow tokens in the proxy's Record-Routes,
	// kept in the database so that restarts and every instance sharing it
	// accept each other's; epoch names this process's connections in them.
	sipSecret []byte
	epoch     uint32
	domains   *api.Domains
	admins    *api.Admins
	cdr       *acc.Writer
	calls     *proxy.Calls // dialogs and call records, kept across reloads
	// callCount counts the call records on their way from calls to cdr (parley_calls_total).
	callCount *metrics.CallCounter
}

// openStores opens and migrates the database and loads the location cache.
func openStores(cfg *config.Config, log *slog.Logger) (*stores, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, err := db.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	backend, err := sqlstore.New(d, sqlstore.Options{})
	if err != nil {
		d.Close()
		return nil, err
	}
	loc, err := location.NewCached(backend, location.CachedOptions{WriteThrough: cfg.Location.WriteMode == "write-through"}, log)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("location store: %w", err)
	}
	sipSecret, err := d.Secret(ctx, "sip", 32)
	if err != nil {
		loc.Close()
		d.Close()
		return nil, err
	}
	s := &stores{db: d, users: users.New(d), loc: loc, instance: instanceName(), nonceKey: deriveKey(sipSecret, "auth-nonce"),
		admins: api.NewAdmins(d), sipSecret: sipSecret, epoch: randomEpoch()}
	if s.cdr, err = openCDR(cfg, d, log); err != nil {
		loc.Close()
		d.Close()
		return nil, err
	}
	s.callCount = metrics.CountCalls(s.cdr)
	s.calls = proxy.NewCalls(s.callCount)
	sweepCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go location.Sweep(sweepCtx, loc, cfg.Location.SweepInterval.Std(), log)
	n, _ := loc.Count(ctx)
	log.Info("database ready", "db", d.Name(), "schema", db.LatestVersion(), "bindings", n)
	if n > 0 {
		// Loading the bindings left the garbage of every row scanned, and the
		// heap grew to twice what stays: return it to the system now rather
		// than at the runtime's pace (measured: 1.12 KB of resident memory
		// per binding before, with 100,000 bindings).
		debug.FreeOSMemory()
	}
	return s, nil
}

// randomEpoch is a random non-zero number naming this process (proxy.Config.Epoch).
func randomEpoch() uint32 {
	var b [4]byte
	for {
		rand.Read(b[:])
		if e := binary.BigEndian.Uint32(b[:]); e != 0 {
			return e
		}
	}
}

// instanceName names this Parley among several sharing a database (a
// Kubernetes pod name is its hostname).
func instanceName() string {
	h, err := os.Hostname()
	if err != nil {
		return "parley"
	}
	return h
}

// onConnClose stops using the bindings of a WebSocket that closed (RFC 7118 §5:
// the flow is gone and a browser cannot be reached another way).
func (s *stores) onConnClose(log *slog.Logger) func(transport.ConnID, transport.Proto, netip.AddrPort) {
	return func(id transport.ConnID, p transport.Proto, _ netip.AddrPort) {
		if p != transport.WS && p != transport.WSS {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := s.loc.DeleteConn(ctx, s.instance, uint64(id)); err != nil {
			log.Warn("removing bindings of a closed WebSocket failed", "err", err)
		}
	}
}

// openCDR starts the call-record writer with the configured sinks.
func openCDR(cfg *config.Config, d *db.DB, log *slog.Logger) (*acc.Writer, error) {
	var sinks []acc.Sink
	if cfg.Calls.CDRDatabase {
		sinks = append(sinks, acc.NewDBSink(d))
	}
	if cfg.Calls.CDRFile != "" {
		f, err := acc.NewFileSink(cfg.Calls.CDRFile)
		if err != nil {
			return nil, fmt.Errorf("cdr file: %w", err)
		}
		sinks = append(sinks, f)
	}
	return acc.NewWriter(acc.WriterConfig{}, sinks, log), nil
}

// close writes the queued call records and flushes the location cache, both
// at once and bounded by ctx (a database that is down must not hold a
// shutdown past its deadline), then closes the database. Bindings not
// written are in the error; call records not written are logged, as the
// writer's drops are. A ctx without a deadline gets closeTimeout.
func (s *stores) close(ctx context.Context) error {
	s.stop()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, closeTimeout)
		defer cancel()
	}
	var wg sync.WaitGroup
	var cdrErr, locErr error
	wg.Add(2)
	go func() { defer wg.Done(); cdrErr = s.cdr.Close(ctx) }()
	go func() { defer wg.Done(); locErr = s.loc.CloseContext(ctx) }()
	wg.Wait()
	if cdrErr != nil {
		slog.Default().Warn("call records not all written", "err", cdrErr)
	}
	return errors.Join(locErr, s.db.Close())
}

// closeTimeout bounds close when its context has no deadline.
const closeTimeout = 30 * time.Second

// userExists reports whether a user of our domains exists (proxy.unregistered_480).
func (s *stores) userExists(ctx context.Context, user, domain string) (bool, error) {
	_, err := s.users.Credentials(ctx, user, domain)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, auth.ErrUnknownUser) {
		return false, nil
	}
	return false, err
}

// nonceSecret is the configured auth.secret, or else a key derived from the
// database's secret: every instance sharing the database, and this one after
// a restart or a reload, accept the nonces the others issued (RFC 7616 §3.3
// leaves the nonce's form to the server; its key is the server's).
func (s *stores) nonceSecret(configured string) []byte {
	if configured != "" {
		return []byte(configured)
	}
	return s.nonceKey
}

// deriveKey returns HMAC-SHA256(secret, purpose): one database secret keys
// several things (Record-Route flows and Via branches, digest nonces), and a
// key made for one purpose never serves another.
func deriveKey(secret []byte, purpose string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(purpose))
	return h.Sum(nil)
}

// redactDSN removes a password from a DSN.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
