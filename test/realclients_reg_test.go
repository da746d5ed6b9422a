package test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
)

// Real SIP clients registering with digest: sipsak 0.9.8 and baresip 1.0.0
// (Debian 12). See /work/shared/notes/real-clients.md for how they are driven
// headless. Each test skips when its client is not installed, unless CI is
// set: then it fails.

// needBinary returns the path of a client, or skips (fails under CI).
func needBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (apt-get install %s): %v", name, pkg, err)
		}
		t.Skipf("%s not installed (apt-get install %s): %v", name, pkg, err)
	}
	return p
}

// freeFourDigitUDP returns a UDP port of 5070-9999 that was free a moment ago
// (sipsak 0.9.8 truncates 5-digit ports in what it writes).
func freeFourDigitUDP(t *testing.T) int {
	t.Helper()
	start := rand.IntN(4930)
	for i := range 64 {
		port := 5070 + (start+i*37)%4930
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		if err == nil {
			c.Close()
			return port
		}
	}
	t.Fatal("no free UDP port in 5070-9999")
	return 0
}

// startAuthFourDigitUDP starts a server with digest authentication on one UDP
// listener with a 4-digit port, and alice as a user.
func startAuthFourDigitUDP(t *testing.T) *server {
	t.Helper()
	for range 16 {
		s, err := tryStartServer(t, serverOpts{auth: true, listen: []string{"udp:127.0.0.1:" + strconv.Itoa(freeFourDigitUDP(t))}})
		if err == nil {
			addUsers(t, s.cfg.DB, "alice@example.test")
			return s
		}
	}
	t.Fatal("could not start a server on a 4-digit UDP port")
	return nil
}

// TestSipsakRegisterDigestRFC3261s22: sipsak answers the 401 ("authorizing")
// and registers; the binding is listed; a wrong password gets 403.
func TestSipsakRegisterDigestRFC3261s22(t *testing.T) {
	bin := needBinary(t, "sipsak", "sipsak")
	s := startAuthFourDigitUDP(t)
	target := s.addr(t, "udp")
	dir := t.TempDir()
	run := func(t *testing.T, pw string) (string, int) {
		t.Helper()
		lport := freeFourDigitUDP(t)
		file := filepath.Join(dir, "reg-"+strconv.Itoa(lport)+".sip")
		msg := fmt.Sprintf("REGISTER sip:example.test SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"+
			"From: <sip:alice@example.test>;tag=%s\r\n"+
			"To: <sip:alice@example.test>\r\n"+
			"Call-ID: %s@127.0.0.1\r\n"+
			"CSeq: 1 REGISTER\r\n"+
			"Contact: <sip:alice@127.0.0.1:%d>\r\n"+
			"Expires: 600\r\n"+
			"Max-Forwards: 70\r\n"+
			"Content-Length: 0\r\n\r\n", lport, randHex(8), randHex(6), randHex(10), lport)
		writeFile(t, file, msg)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "-f", file, "-s", "sip:"+target.String(), "-u", "alice", "-a", pw,
			"-H", "127.0.0.1", "-l", strconv.Itoa(lport), "-vv")
		out, err := cmd.CombinedOutput()
		if _, exited := err.(*exec.ExitError); err != nil && !exited {
			t.Fatalf("sipsak: %v\n%s", err, out)
		}
		if ctx.Err() != nil {
			t.Fatalf("sipsak did not finish within 15 s:\n%s", out)
		}
		return string(out), lport
	}
	t.Run("right_password_200", func(t *testing.T) {
		out, lport := run(t, testPassword)
		if !strings.Contains(out, "authorizing") || !regexpMatch(`(?m)^SIP/2.0 200 OK\r?$`, out) {
			t.Fatalf("want \"authorizing\" and a 200 OK from sipsak, got:\n%s", out)
		}
		uri := fmt.Sprintf("sip:alice@127.0.0.1:%d", lport)
		wantBinding(t, newRegisterer(dialUDPTo(t, target), "alice").list(t), uri, 600, "")
	})
	t.Run("wrong_password_403", func(t *testing.T) {
		out, _ := run(t, "wrong-password")
		if !strings.Contains(out, "authorizing") || !regexpMatch(`(?m)^SIP/2.0 403 `, out) {
			t.Fatalf("want \"authorizing\" and a 403 from sipsak, got:\n%s", out)
		}
	})
}

// baresip is one running baresip with its ctrl_tcp connection.
type baresip struct {
	p      *proc
	port   int // SIP port
	conn   net.Conn
	r      *bufio.Reader
	events []map[string]any // events read so far
}

// freeBaresipPort returns a port p for which UDP and TCP p, TCP p+1 (baresip's
// TLS) and TCP p+5 (ctrl_tcp) were free a moment ago.
func freeBaresipPort(t *testing.T) int {
	t.Helper()
	for range 64 {
		p := 20000 + rand.IntN(30000)
		ok := true
		var closers []io.Closer
		for _, try := range []struct {
			network string
			port    int
		}{{"udp4", p}, {"tcp4", p}, {"tcp4", p + 1}, {"tcp4", p + 5}} {
			addr := fmt.Sprintf("127.0.0.1:%d", try.port)
			var c io.Closer
			var err error
			if try.network == "udp4" {
				c, err = net.ListenPacket(try.network, addr)
			} else {
				c, err = net.Listen(try.network, addr)
			}
			if err != nil {
				ok = false
				break
			}
			closers = append(closers, c)
		}
		for _, c := range closers {
			c.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free ports for baresip")
	return 0
}

// startBaresip runs baresip with its own config directory, an empty accounts
// file and ctrl_tcp, and connects to ctrl_tcp. It is killed by PID at the end.
func startBaresip(t *testing.T, bin string) *baresip {
	t.Helper()
	dir := t.TempDir()
	port := freeBaresipPort(t)
	rtp := 30000 + rand.IntN(20000)
	writeFile(t, filepath.Join(dir, "config"), fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
dns_server 127.0.0.1:53
rtp_ports %d-%d
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aubridge.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%d
module_tmp uuid.so
module_tmp account.so
audio_player aubridge,nowhere-%d
audio_source ausine,440
audio_alert aubridge,nowhere-%d
ausrc_srate 48000
ausrc_channels 2
`, port, rtp, rtp+20, port+5, port, port))
	writeFile(t, filepath.Join(dir, "accounts"), "")
	b := &baresip{p: runProcess(t, bin, "-s", "-f", dir), port: port}
	ctrl := fmt.Sprintf("127.0.0.1:%d", port+5)
	if !waitFor(10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", ctrl, 200*time.Millisecond)
		if err == nil {
			b.conn = c
		}
		return err == nil
	}) {
		t.Fatalf("baresip ctrl_tcp %s not up within 10 s; log:\n%s", ctrl, b.p.log)
	}
	b.r = bufio.NewReader(b.conn)
	t.Cleanup(func() { b.conn.Close() })
	return b
}

// runProcess starts bin with args, collecting its output; it is killed by its
// PID if still running when the test ends.
func runProcess(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), log: &lineLog{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), p.log)
		}
	})
	return p
}

// command sends a ctrl_tcp command (a JSON netstring).
func (b *baresip) command(t *testing.T, cmd, params string) {
	t.Helper()
	j, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "e2e"})
	b.conn.SetWriteDeadline(time.Now().Add(replyTimeout))
	if _, err := fmt.Fprintf(b.conn, "%d:%s,", len(j), j); err != nil {
		t.Fatalf("ctrl_tcp %s: %v", cmd, err)
	}
}

// next reads one netstring JSON object before deadline.
func (b *baresip) next(deadline time.Time) (map[string]any, error) {
	b.conn.SetReadDeadline(deadline)
	n, err := b.r.ReadString(':')
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(strings.TrimSpace(n[:len(n)-1]))
	if err != nil || size < 0 || size > 1<<20 {
		return nil, fmt.Errorf("bad netstring length %q", n)
	}
	buf := make([]byte, size+1)
	if _, err := io.ReadFull(b.r, buf); err != nil {
		return nil, err
	}
	if buf[size] != ',' {
		return nil, errors.New("netstring without ','")
	}
	var m map[string]any
	return m, json.Unmarshal(buf[:size], &m)
}

// waitEvent waits up to d for an event whose type is one of types and returns it.
func (b *baresip) waitEvent(t *testing.T, d time.Duration, types ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		m, err := b.next(deadline)
		if err != nil {
			t.Fatalf("baresip: no %v event within %v (%v); events %v; log:\n%s", types, d, err, b.events, b.p.log)
		}
		b.events = append(b.events, m)
		if m["event"] != true {
			continue
		}
		for _, ty := range types {
			if m["type"] == ty {
				return m
			}
		}
	}
}

// account is a baresip account line for user over transport tr ("udp" or
// "tcp") with outbound proxy target.
func account(user, pw, tr string, target string) string {
	return fmt.Sprintf(`<sip:%s@example.test;transport=%s>;auth_user=%s;auth_pass=%s;outbound="sip:%s;transport=%s";regint=600;mwi=no;answermode=manual;audio_codecs=PCMU,PCMA`,
		user, tr, user, pw, target, tr)
}

// TestBaresipRegisterDigestRFC3261s10_22: baresip registers with digest
// (REGISTER_OK), its binding is listed, and `quit` un-registers it; a wrong
// password gives REGISTER_FAIL with 403.
//
// baresip 1.0.0 (libre) gives up on a 401 as soon as one WWW-Authenticate
// names an algorithm other than MD5 ("Function not implemented"), although an
// MD5 challenge is in the same response: RFC 8760 §2.4 wants a UAC to use the
// first challenge it supports. So these servers offer MD5 only
// (auth.algorithms: [MD5]); the default_algorithms subtest shows the default.
func TestBaresipRegisterDigestRFC3261s10_22(t *testing.T) {
	bin := needBinary(t, "baresip", "baresip")
	md5Only := func(cfg *config.Config) { cfg.Auth.Algorithms = []string{"MD5"} }
	for _, tr := range rawTransports {
		t.Run(tr+"/register_list_quit", func(t *testing.T) {
			s := startServer(t, serverOpts{auth: true, listen: []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}, edit: md5Only})
			addUsers(t, s.cfg.DB, "alice@example.test")
			b := startBaresip(t, bin)
			b.command(t, "uanew", account("alice", testPassword, tr, s.addr(t, tr).String()))
			ev := b.waitEvent(t, 10*time.Second, "REGISTER_OK", "REGISTER_FAIL")
			if ev["type"] != "REGISTER_OK" {
				t.Fatalf("baresip over %s: %v", tr, ev)
			}
			lister := newRegisterer(dial(t, s, "udp"), "alice")
			mine := func(bs map[string]binding) []string {
				var out []string
				for uri := range bs {
					if strings.Contains(uri, fmt.Sprintf("@127.0.0.1:%d", b.port)) {
						out = append(out, uri)
					}
				}
				return out
			}
			if got := mine(lister.list(t)); len(got) != 1 {
				t.Fatalf("want one binding of baresip (port %d), have %v", b.port, got)
			}
			b.command(t, "quit", "")
			select {
			case <-b.p.done:
			case <-time.After(10 * time.Second):
				t.Fatalf("baresip did not exit within 10 s of quit")
			}
			if got := mine(lister.list(t)); len(got) != 0 {
				t.Errorf("after quit baresip is still bound: %v", got)
			}
		})
	}
	t.Run("udp/wrong_password_REGISTER_FAIL", func(t *testing.T) {
		s := startServer(t, serverOpts{auth: true, listen: []string{"udp:127.0.0.1:0"}, edit: md5Only})
		addUsers(t, s.cfg.DB, "alice@example.test")
		b := startBaresip(t, bin)
		b.command(t, "uanew", account("alice", "wrong-password", "udp", s.addr(t, "udp").String()))
		ev := b.waitEvent(t, 10*time.Second, "REGISTER_OK", "REGISTER_FAIL")
		if ev["type"] != "REGISTER_FAIL" || !strings.Contains(fmt.Sprint(ev["param"]), "403") {
			t.Fatalf("wrong password: want REGISTER_FAIL 403, got %v", ev)
		}
		b.command(t, "quit", "")
	})
	t.Run("udp/default_algorithms", func(t *testing.T) {
		s := startServer(t, serverOpts{auth: true, listen: []string{"udp:127.0.0.1:0"}})
		addUsers(t, s.cfg.DB, "alice@example.test")
		b := startBaresip(t, bin)
		b.command(t, "uanew", account("alice", testPassword, "udp", s.addr(t, "udp").String()))
		ev := b.waitEvent(t, 10*time.Second, "REGISTER_OK", "REGISTER_FAIL")
		b.command(t, "quit", "")
		if ev["type"] != "REGISTER_OK" {
			t.Fatalf("default algorithms: %v", ev)
		}
	})
}
