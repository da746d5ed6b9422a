// Package test holds Parley's end-to-end tests: a whole App (or the parley
// binary) on 127.0.0.1:0, driven by raw SIP over UDP, TCP, TLS, WS and WSS
// with send/expect, by sipgo and by sipsak.
package test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/app"
	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/proctest"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transport"
)

// Timeouts bound every wait of the package.
const (
	replyTimeout = 3 * time.Second        // a response that must come
	quietPeriod  = 300 * time.Millisecond // how long "no answer" is watched for
)

// server is a running App and the bound address of each of its listeners.
type server struct {
	app   *app.App
	cfg   *config.Config
	addrs map[string]netip.AddrPort // "udp", "tcp", "tls", "ws", "wss", "udp6"
	paths map[string]string         // WebSocket paths by key
}

// serverOpts adjusts the configuration startServer builds.
type serverOpts struct {
	auth   bool     // digest authentication on (off by default in the core tests)
	listen []string // replaces the default listeners when not nil
	http   string   // "" means off
	edit   func(*config.Config)
}

// haveIPv6 reports whether a UDP socket can bind [::1].
func haveIPv6() bool {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// defaultListen is every transport on loopback, port 0, plus IPv6 UDP when available.
func defaultListen() []string {
	l := []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0", "tls:127.0.0.1:0", "ws:127.0.0.1:0/", "wss:127.0.0.1:0/ws"}
	if haveIPv6() {
		l = append(l, "udp:[::1]:0")
	}
	return l
}

// startServer starts an App from config.Default() with loopback listeners on
// port 0, domain example.test and a fresh self-signed certificate, and stops
// it when the test ends.
func startServer(t *testing.T, o serverOpts) *server {
	t.Helper()
	s, err := tryStartServer(t, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tryStartServer is startServer returning the error of App.Start, so that a
// caller can retry with another port.
func tryStartServer(t *testing.T, o serverOpts) (*server, error) {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Listen = defaultListen()
	if o.listen != nil {
		cfg.Listen = o.listen
	}
	cfg.HTTP = "off"
	if o.http != "" {
		cfg.HTTP = o.http
	}
	cfg.Domain = []string{"example.test"}
	cfg.DB = "sqlite:" + filepath.Join(dir, "p.db")
	cfg.Auth.Enabled = o.auth // the core tests speak as unauthenticated users of example.test
	cfg.TLSCert, cfg.TLSKey = writeCert(t, dir)
	if o.edit != nil {
		o.edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	a, err := app.New(cfg, nil, nil)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(); err != nil {
		return nil, fmt.Errorf("Start: %w", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	s := &server{app: a, cfg: cfg, addrs: map[string]netip.AddrPort{}, paths: map[string]string{}}
	for _, ln := range a.SIP().Transport().Listeners() {
		key := protoKey(ln.Proto())
		if ln.Proto() == transport.UDP && ln.Addr().Addr().Is6() {
			key = "udp6"
		}
		s.addrs[key] = ln.Addr()
		s.paths[key] = ln.Spec().Path
	}
	return s, nil
}

func protoKey(p transport.Proto) string {
	switch p {
	case transport.UDP:
		return "udp"
	case transport.TCP:
		return "tcp"
	case transport.TLS:
		return "tls"
	case transport.WS:
		return "ws"
	case transport.WSS:
		return "wss"
	}
	return p.String()
}

// addr returns the address of listener key, failing the test when there is none.
func (s *server) addr(t *testing.T, key string) netip.AddrPort {
	t.Helper()
	a, ok := s.addrs[key]
	if !ok {
		t.Fatalf("no %s listener (have %v)", key, s.addrs)
	}
	return a
}

// stats returns the server's counters.
func (s *server) stats() sipserver.Stats { return s.app.SIP().Stats() }

// writeCert writes a self-signed ECDSA certificate for 127.0.0.1, ::1,
// localhost and example.test into dir and returns the PEM file names.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "parley e2e"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost", "example.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", kb)
	return certFile, keyFile
}

func writePEM(t *testing.T, name, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	return proctest.Poll(d, 10*time.Millisecond, cond)
}
