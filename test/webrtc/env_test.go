// Package webrtc holds Parley's browser tests: headless Chromium pages running
// JsSIP, SIP.js and Parley's own /phone page register and call each other
// over WS and WSS through Parley, and call a baresip phone through rtpengine.
//
// Needs: Debian chromium (or $CHROMIUM), node and npm, and the npm packages of
// package.json (installed here with `npm ci --omit=dev` when missing). Without
// them the tests skip, unless CI is set, when they fail. The rtpengine part
// also needs Debian rtpengine-daemon and baresip, and skips without them.
package webrtc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

var nodeBin, chromiumBin string

// need skips the test when a tool is missing, or fails it when CI is set.
func need(t testing.TB, what, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is needed in CI: %s", what, why)
	}
	t.Skipf("%s not available (%s); skipping", what, why)
}

// requireBrowser finds node and Chromium and installs the npm packages.
func requireBrowser(t testing.TB) {
	t.Helper()
	chromiumBin = os.Getenv("CHROMIUM")
	if chromiumBin == "" {
		chromiumBin = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromiumBin); err != nil {
		need(t, "chromium", "apt-get install chromium")
	}
	var err error
	if nodeBin, err = exec.LookPath("node"); err != nil {
		need(t, "node", "apt-get install nodejs npm")
	}
	if _, err := os.Stat("node_modules/playwright-core/package.json"); err == nil {
		return
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		need(t, "npm", "apt-get install npm")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, npm, "ci", "--omit=dev", "--no-audit", "--no-fund").CombinedOutput()
	if err != nil {
		need(t, "npm packages of test/webrtc/package.json", "npm ci failed: "+err.Error()+"\n"+string(out))
	}
}

// cert is a throw-away self-signed certificate for 127.0.0.1 and localhost.
type cert struct {
	certFile, keyFile string
	spki              string // base64 SHA-256 of the public key, for Chromium's spki list
}

func writeCert(t testing.TB, dir string) cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "parley webrtc test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(pub)
	c := cert{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"),
		spki: base64.StdEncoding.EncodeToString(sum[:])}
	os.WriteFile(c.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(c.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return c
}
