package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// certStore serves the listener certificate and reloads it when its files
// change, so certificates can be renewed without a restart.
type certStore struct {
	certFile, keyFile string
	log               *slog.Logger
	stats             *counters
	cur               atomic.Pointer[tls.Certificate]
	stamp             fileStamp // owned by the poll goroutine after newCertStore
}

// fileStamp identifies a version of the certificate and key files.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

// newCertStore loads the pair once; it fails if the files do not load.
func newCertStore(certFile, keyFile string, log *slog.Logger, stats *counters) (*certStore, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("tls and wss listeners need TLSCertFile and TLSKeyFile")
	}
	s := &certStore{certFile: certFile, keyFile: keyFile, log: log, stats: stats}
	st, err := s.statFiles()
	if err != nil {
		return nil, err
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	s.stamp = st
	return s, nil
}

// getCertificate is the tls.Config.GetCertificate hook.
func (s *certStore) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cur.Load(), nil
}

// load reads and parses the pair and puts it in service.
func (s *certStore) load() error {
	cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS certificate: %w", err)
	}
	s.cur.Store(&cert)
	return nil
}

// statFiles returns the current stamp of the pair.
func (s *certStore) statFiles() (fileStamp, error) {
	ci, err := os.Stat(s.certFile)
	if err != nil {
		return fileStamp{}, err
	}
	ki, err := os.Stat(s.keyFile)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{ci.ModTime(), ki.ModTime(), ci.Size(), ki.Size()}, nil
}

// poll checks the files every interval until ctx is done.
func (s *certStore) poll(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.check()
		}
	}
}

// check reloads the pair if the files changed. A pair that does not load
// (say, the certificate was written but not yet the key) keeps the old one
// in service; the next change is tried again.
func (s *certStore) check() {
	st, err := s.statFiles()
	if err != nil {
		s.log.Debug("transport: stat TLS certificate", "err", err)
		return
	}
	if st == s.stamp {
		return
	}
	s.stamp = st
	if err := s.load(); err != nil {
		s.stats.certErrors.Add(1)
		s.log.Error("transport: TLS certificate changed but did not load; keeping the old one", "err", err)
		return
	}
	s.stats.certReloads.Add(1)
	s.log.Info("transport: TLS certificate reloaded", "cert", s.certFile)
}

// serverTLS returns the server config for tls and wss listeners, loading
// the certificate and starting its poller on first use.
func (l *Layer) serverTLS(p Proto) (*tls.Config, error) {
	l.certMu.Lock()
	defer l.certMu.Unlock()
	if l.certs == nil {
		s, err := newCertStore(l.cfg.TLSCertFile, l.cfg.TLSKeyFile, l.log, &l.stats)
		if err != nil {
			return nil, err
		}
		if !l.spawn(func() { s.poll(l.ctx, l.cfg.CertPollInterval) }) {
			return nil, ErrClosed
		}
		l.certs = s
	}
	cfg := &tls.Config{GetCertificate: l.certs.getCertificate, MinVersion: tls.VersionTLS12}
	if p == WSS {
		cfg.NextProtos = []string{"http/1.1"}
	}
	return cfg, nil
}

// serverHandshake runs the TLS handshake of an accepted connection within
// HandshakeTimeout, on the connection's own goroutine so a client that
// never finishes it holds up nobody else.
func (l *Layer) serverHandshake(nc net.Conn, cfg *tls.Config) (*tls.Conn, error) {
	tc := tls.Server(nc, cfg)
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.HandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		l.stats.of(TLS).handshake.Add(1)
		l.log.Debug("transport: TLS handshake failed", "remote", nc.RemoteAddr(), "err", err)
		tc.Close()
		return nil, err
	}
	return tc, nil
}
