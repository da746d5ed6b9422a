package webrtc

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/app"
	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/proctest"
	"github.com/parley-sip/parley/internal/transport"
	"github.com/parley-sip/parley/internal/users"
)

const domain = "example.test"

// passwords of the test users.
var passwords = map[string]string{"alice": "alice-pw-1", "bob": "bob-pw-12", "carol": "carol-pw-3"}

// parley is an App on loopback port 0 with UDP, TCP, WS, WSS and HTTP listeners.
type parley struct {
	app      *app.App
	cfg      *config.Config
	addrs    map[transport.Proto]netip.AddrPort
	ws, wss  string // ws://127.0.0.1:P/ and wss://127.0.0.1:P/ws
	httpBase string // http://127.0.0.1:P
	log      *proctest.Buffer
}

// startParley starts an App with the three test users; edit adjusts the
// configuration first.
func startParley(t testing.TB, c cert, edit func(*config.Config)) *parley {
	t.Helper()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Listen = []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0", "ws:127.0.0.1:0/", "wss:127.0.0.1:0/ws"}
	cfg.HTTP = "127.0.0.1:0"
	cfg.Domain = []string{domain}
	cfg.DB = "sqlite:" + filepath.Join(dir, "p.db")
	cfg.TLSCert, cfg.TLSKey = c.certFile, c.keyFile
	cfg.LogLevel = "debug"
	if edit != nil {
		edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	start := time.Now()
	addUsers(t, cfg.DB)
	if os.Getenv("WEBRTC_LOG") != "" {
		defer func() { t.Logf("parley started in %s", time.Since(start).Round(time.Millisecond)) }()
	}
	p := &parley{cfg: cfg, addrs: map[transport.Proto]netip.AddrPort{}, log: new(proctest.Buffer)}
	log := slog.New(slog.NewTextHandler(p.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(cfg, log, nil)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	p.app = a
	t.Cleanup(func() {
		// Shutdown waits for handlers in progress: a proxied BYE whose
		// answer never came (the tab closed at once) would hold it for Timer F.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		a.Shutdown(ctx)
		if os.Getenv("WEBRTC_LOG") != "" {
			t.Logf("parley stopped in %s", time.Since(start).Round(time.Millisecond))
		}
		if t.Failed() || os.Getenv("WEBRTC_LOG") != "" {
			t.Logf("parley log:\n%s", proctest.TailLines(p.log.String(), 150))
		}
	})
	for _, ln := range a.SIP().Transport().Listeners() {
		p.addrs[ln.Proto()] = ln.Addr()
	}
	p.ws = fmt.Sprintf("ws://%s/", p.addrs[transport.WS])
	p.wss = fmt.Sprintf("wss://%s/ws", p.addrs[transport.WSS])
	p.httpBase = "http://" + a.HTTPAddr().String()
	return p
}

// addUsers creates alice, bob and carol in the database, as `parley user add` does.
func addUsers(t testing.TB, dsn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st := users.New(d)
	for u, pw := range passwords {
		if err := st.Add(ctx, u+"@"+domain, pw); err != nil {
			t.Fatal(err)
		}
	}
}

// pageServer serves the test pages, the vendored JsSIP and SIP.js's modules
// from an origin of its own (not Parley's).
func pageServer(t testing.TB) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/pages/", http.StripPrefix("/pages/", http.FileServer(http.Dir("pages"))))
	mux.Handle("/vendor/", http.StripPrefix("/vendor/", http.FileServer(http.Dir("../../web/phone/vendor"))))
	mux.Handle("/sip.js/", http.StripPrefix("/sip.js/", http.FileServer(http.Dir("node_modules/sip.js/lib"))))
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}
