package transport

import (
	"bufio"
	"crypto/tls"
	"errors"
	"math/big"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestTLSSlowHandshakeDoesNotBlock opens a raw TCP connection to a TLS
// listener and sends nothing; another client must still get through, and
// the silent one is dropped after HandshakeTimeout.
func TestTLSSlowHandshakeDoesNotBlock(t *testing.T) {
	const hs = 300 * time.Millisecond
	cfg, _ := tlsConfig(t)
	cfg.HandshakeTimeout = hs
	l, rec := echoLayer(t, cfg)
	ln := listen(t, l, "tls:127.0.0.1:0")

	silent, err := net.DialTimeout("tcp", ln.Addr().String(), testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	start := time.Now()

	nc := dialStream(t, ln)
	nc.Write([]byte(optionsMsg("TLS", "fast")))
	if reply := readSIP(t, bufio.NewReader(nc)); !strings.HasPrefix(reply, "SIP/2.0 200") {
		t.Fatalf("reply %q", reply)
	}
	rec.next(t)
	if time.Since(start) >= hs {
		t.Errorf("the exchange took %v, as long as the handshake timeout", time.Since(start))
	}

	expectClosed(t, silent)
	if took := time.Since(start); took < hs*2/3 {
		t.Errorf("silent client dropped after %v, before the handshake timeout", took)
	}
	waitFor(t, "the handshake failure to be counted", func() bool { return l.Stats().TLS.HandshakeFails == 1 })
	if st := l.Stats().TLS; st.ConnsOpen != 1 || st.ConnsAccepted != 1 {
		t.Errorf("stats %+v", st)
	}
}

// serialOf does a TLS handshake with ln and returns the server
// certificate's serial number.
func serialOf(t *testing.T, ln *Listener) *big.Int {
	t.Helper()
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer nc.Close()
	return nc.ConnectionState().PeerCertificates[0].SerialNumber
}

func TestTLSCertReload(t *testing.T) {
	cfg, files := tlsConfig(t)
	cfg.CertPollInterval = 20 * time.Millisecond
	l := newLayer(t, cfg, nil)
	ln := listen(t, l, "tls:127.0.0.1:0")
	if s := serialOf(t, ln); s.Int64() != 1 {
		t.Fatalf("serial %v, want 1", s)
	}

	writeCert(t, files, 22)
	waitFor(t, "the new certificate", func() bool { return serialOf(t, ln).Int64() == 22 })
	if l.Stats().CertReloads == 0 {
		t.Error("reload not counted")
	}

	// A corrupt file is reported and the last good certificate stays.
	errs := l.Stats().CertReloadErrors
	writeAtomic(t, files.cert, []byte("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"))
	waitFor(t, "the bad file to be noticed", func() bool { return l.Stats().CertReloadErrors > errs })
	if s := serialOf(t, ln); s.Int64() != 22 {
		t.Fatalf("serial %v after a bad file, want 22", s)
	}

	// A missing file is not an error; a good one later is loaded.
	os.Remove(files.cert)
	time.Sleep(3 * cfg.CertPollInterval)
	if s := serialOf(t, ln); s.Int64() != 22 {
		t.Fatalf("serial %v after the file went away, want 22", s)
	}
	writeCert(t, files, 333)
	waitFor(t, "the third certificate", func() bool { return serialOf(t, ln).Int64() == 333 })
}

func TestTLSListenNeedsCert(t *testing.T) {
	_, files := tlsConfig(t)
	tests := []struct {
		name string
		cfg  Config
		spec string
		want string
	}{
		{"no files tls", Config{}, "tls:127.0.0.1:0", "TLSCertFile"},
		{"no files wss", Config{}, "wss:127.0.0.1:0", "TLSCertFile"},
		{"missing file", Config{TLSCertFile: files.cert + ".nope", TLSKeyFile: files.key}, "tls:127.0.0.1:0", "no such file"},
		{"swapped files", Config{TLSCertFile: files.key, TLSKeyFile: files.cert}, "tls:127.0.0.1:0", "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLayer(t, tt.cfg, nil)
			_, err := l.Listen(tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Listen error = %v, want it to mention %q", err, tt.want)
			}
			if len(l.Listeners()) != 0 {
				t.Error("failed listener recorded")
			}
		})
	}
}

func TestSendDialsTLS(t *testing.T) {
	cfg, files := tlsConfig(t)
	srv, srvRec := echoLayer(t, cfg)
	ln := listen(t, srv, "tls:127.0.0.1:0")

	tests := []struct {
		name   string
		host   string
		wantOK bool
	}{
		{"server name", "localhost", true},
		{"ip SAN", "", true},
		{"wrong name", "sip.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cliRec := newRecorder()
			failed := make(chan error, 1)
			cli := newLayer(t, Config{TLSClientConfig: &tls.Config{RootCAs: rootsFor(t, files)},
				OnSendError: func(_ Dest, _ []byte, err error) { failed <- err }}, cliRec)
			id, err := cli.Send(Dest{Proto: TLS, Addr: ln.Addr(), Host: tt.host}, []byte(optionsMsg("TLS", tt.name)))
			if !tt.wantOK {
				// The handshake happens on the connection's writer
				// goroutine: its failure is reported there, not by Send,
				// unless it happened before Send queued the message.
				if err == nil {
					select {
					case err = <-failed:
					case <-time.After(testTimeout):
						t.Fatal("no OnSendError despite a name mismatch")
					}
				}
				var cv *tls.CertificateVerificationError
				if !errors.As(err, &cv) {
					t.Errorf("error %v, want a certificate verification error", err)
				}
				if cli.Stats().TLS.HandshakeFails != 1 || cli.Stats().TLS.ConnsOpen != 0 {
					t.Errorf("stats %+v", cli.Stats().TLS)
				}
				return
			}
			if err != nil || id == 0 {
				t.Fatalf("Send = %d, %v", id, err)
			}
			srvRec.next(t)
			if g := cliRec.next(t); !strings.HasPrefix(g.data, "SIP/2.0 200") || g.pkt.Proto != TLS || g.pkt.Conn != id {
				t.Fatalf("client got %+v %q", g.pkt, g.data)
			}
		})
	}
}
