package transport

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 5 * time.Second

// optionsMsg returns a small OPTIONS request with a unique branch.
func optionsMsg(proto, branch string) string {
	return "OPTIONS sip:parley@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/" + proto + " client.invalid;branch=z9hG4bK" + branch + "\r\n" +
		"Max-Forwards: 70\r\n" +
		"To: <sip:parley@example.com>\r\n" +
		"From: <sip:test@example.com>;tag=1\r\n" +
		"Call-ID: " + branch + "@test\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Content-Length: 0\r\n\r\n"
}

// msgWithBody returns a MESSAGE request carrying body.
func msgWithBody(body string) string {
	return "MESSAGE sip:a@b SIP/2.0\r\nl: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// okFor builds a 200 OK echoing the request's Via and Call-ID lines.
func okFor(req []byte) []byte {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\n")
	for _, line := range strings.Split(string(req), "\r\n") {
		if strings.HasPrefix(line, "Via:") || strings.HasPrefix(line, "Call-ID:") {
			b.WriteString(line + "\r\n")
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

// got is one packet copied by recorder.
type got struct {
	data string
	pkt  Packet // Data cleared
}

// recorder is a Handler that copies every packet to a channel.
type recorder struct{ ch chan got }

func newRecorder() *recorder { return &recorder{ch: make(chan got, 256)} }

func (r *recorder) HandlePacket(p *Packet) {
	g := got{data: string(p.Data), pkt: *p}
	g.pkt.Data = nil
	r.ch <- g
}

// next waits for the next packet.
func (r *recorder) next(t *testing.T) got {
	t.Helper()
	select {
	case g := <-r.ch:
		return g
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting for a packet")
		return got{}
	}
}

// none checks that no packet arrives within d.
func (r *recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case g := <-r.ch:
		t.Fatalf("unexpected packet %q", g.data)
	case <-time.After(d):
	}
}

// newLayer returns a Layer closed when the test ends.
func newLayer(t *testing.T, cfg Config, h Handler) *Layer {
	t.Helper()
	l := New(cfg, h, testLog(t))
	t.Cleanup(func() { l.Close() })
	return l
}

// echoLayer returns a Layer that answers every request with a 200 OK on
// the connection it came on, and records what it received.
func echoLayer(t *testing.T, cfg Config) (*Layer, *recorder) {
	t.Helper()
	rec := newRecorder()
	var l *Layer
	l = newLayer(t, cfg, HandlerFunc(func(p *Packet) {
		rec.HandlePacket(p)
		if strings.HasPrefix(string(p.Data), "SIP/2.0") {
			return
		}
		// The test may end (and close l) while a reply is on its way.
		_, err := l.Send(Dest{Proto: p.Proto, Addr: p.Source, Conn: p.Conn, Local: p.Local}, okFor(p.Data))
		if err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("reply: %v", err)
		}
	}))
	return l, rec
}

// listen calls l.Listen and fails the test on error.
func listen(t *testing.T, l *Layer, spec string) *Listener {
	t.Helper()
	ln, err := l.Listen(spec)
	if err != nil {
		t.Fatalf("Listen(%q): %v", spec, err)
	}
	return ln
}

// skipNoIPv6 skips the test if ::1 cannot be bound.
func skipNoIPv6(t *testing.T, host string) {
	t.Helper()
	if !strings.Contains(host, ":") {
		return
	}
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("IPv6 loopback not available: %v", err)
	}
	ln.Close()
}

// testLog logs to t until the test ends.
func testLog(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// readSIP reads one message framed by Content-Length from br.
func readSIP(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	cl := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading SIP message: %v (so far %q)", err, b.String())
		}
		b.WriteString(line)
		if line == "\r\n" {
			break
		}
		if name, v, ok := strings.Cut(line, ":"); ok && (strings.EqualFold(name, "Content-Length") || strings.EqualFold(name, "l")) {
			cl, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	body := make([]byte, cl)
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return b.String() + string(body)
}

// expectClosed waits until the peer closes nc.
func expectClosed(t *testing.T, nc net.Conn) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(testTimeout))
	buf := make([]byte, 512)
	for {
		_, err := nc.Read(buf)
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("connection not closed by the server")
		}
		return
	}
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dialStream connects a raw client to a TCP or TLS listener.
func dialStream(t *testing.T, ln *Listener) net.Conn {
	t.Helper()
	var nc net.Conn
	var err error
	if ln.Proto() == TLS {
		d := &tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		nc, err = d.DialContext(ctx, "tcp", ln.Addr().String())
	} else {
		nc, err = net.DialTimeout("tcp", ln.Addr().String(), testTimeout)
	}
	if err != nil {
		t.Fatalf("dial %v: %v", ln, err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// certFiles is a certificate and key written for a test.
type certFiles struct{ cert, key string }

// tlsConfig returns a Config with a fresh self-signed certificate.
func tlsConfig(t *testing.T) (Config, certFiles) {
	t.Helper()
	dir := t.TempDir()
	f := certFiles{filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")}
	writeCert(t, f, 1)
	return Config{TLSCertFile: f.cert, TLSKeyFile: f.key}, f
}

// writeCert writes a self-signed ECDSA certificate with the given serial,
// valid for localhost, 127.0.0.1 and ::1, and returns it parsed. The
// subject grows with the serial so the file size changes too.
func writeCert(t *testing.T, f certFiles, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: "parley-test-" + strings.Repeat("x", int(serial))},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, f.key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	writeAtomic(t, f.cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// writeAtomic replaces path with data through a rename.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// rootsFor returns a pool trusting the certificate in f.
func rootsFor(t *testing.T, f certFiles) *x509.CertPool {
	t.Helper()
	pemData, err := os.ReadFile(f.cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		t.Fatal("bad test certificate")
	}
	return pool
}

// hostOf returns the URL host form of ap ("[::1]:5060").
func hostOf(ap netip.AddrPort) string { return ap.String() }

// uniq returns a short unique token for branches and bodies.
func uniq(i int) string { return fmt.Sprintf("t%06d", i) }

// samePacket compares everything but Data.
func samePacket(a, b Packet) bool {
	return a.Source == b.Source && a.Local == b.Local && a.Proto == b.Proto && a.Conn == b.Conn && a.Listener == b.Listener
}
