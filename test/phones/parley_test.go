package phones

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/proctest"
)

const domain = "example.test"

// parley is the server under test, started from the binary built by
// buildParley.
type parley struct {
	bin, dir, db string
	p            *proctest.Proc
	addr         map[string]string // "udp", "tcp", "tls" → 127.0.0.1:PORT
}

// goTool returns the go command.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// buildParley builds ./cmd/parley with CGO_ENABLED=0 into dir.
func buildParley(t *testing.T, dir string) (string, error) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "parley")
	cmd := exec.Command(goTool(), "build", "-o", bin, "./cmd/parley")
	cmd.Dir = root
	// -race needs cgo; a GOFLAGS=-race of the caller must not break this build.
	goflags := strings.Join(slices.DeleteFunc(strings.Fields(os.Getenv("GOFLAGS")), func(f string) bool { return f == "-race" }), " ")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS="+goflags)
	done := make(chan struct{})
	var out []byte
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		<-done
		return "", fmt.Errorf("go build ./cmd/parley took more than 3 minutes")
	}
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/parley: %v\n%s", err, out)
	}
	return bin, nil
}

// writeCert writes a throw-away self-signed certificate for 127.0.0.1 and
// example.test: cert.pem, key.pem and both in one file (baresip's
// sip_certificate). It returns the three paths.
func writeCert(dir string) (cert, key, both string, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{domain},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return
	}
	cpem := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kpem := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	cert, key, both = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "both.pem")
	for _, f := range []struct {
		path string
		data []byte
	}{{cert, cpem}, {key, kpem}, {both, append(append([]byte{}, cpem...), kpem...)}} {
		if err = os.WriteFile(f.path, f.data, 0o600); err != nil {
			return
		}
	}
	return
}

// userAdd runs `parley user add USER@example.test --password PW --db DSN`.
func userAdd(bin, db, user, pw string) error {
	cmd := exec.Command(bin, "user", "add", user+"@"+domain, "--password", pw, "--db", db)
	out, err := runBounded(cmd, 30*time.Second)
	if err != nil {
		return fmt.Errorf("parley user add %s: %v\n%s", user, err, out)
	}
	return nil
}

// runBounded runs cmd to completion, killing it after d.
func runBounded(cmd *exec.Cmd, d time.Duration) ([]byte, error) {
	p, err := proctest.Start(filepath.Base(cmd.Path), cmd)
	if err != nil {
		return nil, err
	}
	if !p.Wait(d) {
		p.Kill()
		return []byte(p.Log()), fmt.Errorf("did not finish within %v", d)
	}
	return []byte(p.Log()), p.Err()
}

// Parley logs each listener twice: `msg="transport: listening"
// listener=udp:127.0.0.1:PORT` and `msg=listening transport=UDP
// addr=127.0.0.1:PORT`; either gives the port chosen for port 0.
var listeningRE = regexp.MustCompile(`(?:msg=listening transport=|listener=)(UDP|TCP|TLS|udp|tcp|tls)(?: addr=|:)(127\.0\.0\.1:\d+)`)

// startParley adds users (name → password) with `parley user add` to a fresh
// SQLite database, then starts `parley serve` on 127.0.0.1 port 0 for udp,
// tcp and tls (with config as its configuration file, unless empty), and
// waits until it logs the three listening addresses.
func startParley(t *testing.T, bin, dir, config, cert, key string, users map[string]string) (*parley, error) {
	t.Helper()
	s := &parley{bin: bin, dir: dir, db: "sqlite:" + filepath.Join(dir, "parley.db"), addr: map[string]string{}}
	for u, pw := range users {
		if err := userAdd(bin, s.db, u, pw); err != nil {
			return nil, err
		}
	}
	args := []string{"serve"}
	if config != "" {
		cfgFile := filepath.Join(dir, "parley.yaml")
		if err := os.WriteFile(cfgFile, []byte(config), 0o644); err != nil {
			return nil, err
		}
		args = append(args, "--config", cfgFile)
	}
	var err error
	s.p, err = startProc(t, "parley", nil, nil, bin, append(args,
		"--listen", "udp:127.0.0.1:0", "--listen", "tcp:127.0.0.1:0", "--listen", "tls:127.0.0.1:0",
		"--domain", domain, "--db", s.db, "--http", "off",
		"--tls-cert", cert, "--tls-key", key, "--log-level", "info")...)
	if err != nil {
		return nil, err
	}
	ok := proctest.WaitFor(15*time.Second, func() bool {
		for _, m := range listeningRE.FindAllStringSubmatch(s.p.Log(), -1) {
			s.addr[strings.ToLower(m[1])] = m[2]
		}
		return len(s.addr) == 3 || !s.p.Running()
	})
	if !ok || len(s.addr) != 3 {
		return nil, fmt.Errorf("parley did not log udp, tcp and tls listeners within 15 s (have %v):\n%s", s.addr, proctest.Tail(s.p.Log(), 3000))
	}
	return s, nil
}

// isParley reports whether addr (ip:port) is one of Parley's listeners.
func (s *parley) isParley(addr string) bool {
	for _, a := range s.addr {
		if a == addr {
			return true
		}
	}
	return false
}
