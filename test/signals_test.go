package test

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/app"
)

// The parley binary, built once for the package by buildParley.
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildParley builds ./cmd/parley with CGO_ENABLED=0 into a temporary
// directory, once, and returns the binary's path.
func buildParley(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			binErr = err
			return
		}
		if binDir, binErr = os.MkdirTemp("", "parley-e2e-"); binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "parley")
		cmd := exec.Command(goBin, "build", "-o", binPath, "./cmd/parley")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/parley: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is a running parley subprocess whose stderr (the log) is collected.
type proc struct {
	cmd  *exec.Cmd
	log  *lineLog
	done chan struct{}
	err  error // cmd.Wait's, valid once done is closed
}

// lineLog collects written text line by line.
type lineLog struct {
	mu      sync.Mutex
	partial string
	lines   []string
}

func (l *lineLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.partial + string(b)
	parts := strings.Split(s, "\n")
	l.lines = append(l.lines, parts[:len(parts)-1]...)
	l.partial = parts[len(parts)-1]
	return len(b), nil
}

// since returns the lines from index i on, and the current count.
func (l *lineLog) since(i int) ([]string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines[i:]...), len(l.lines)
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n") + l.partial
}

// runParley starts the binary with args; it is killed (by its PID) if still
// running when the test ends.
func runParley(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(buildParley(t), args...), log: &lineLog{}, done: make(chan struct{})}
	p.cmd.Stderr = p.log
	p.cmd.Stdout = p.log
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
			t.Logf("parley log:\n%s", p.log)
		}
	})
	return p
}

// mark returns the number of log lines so far, for waitLog.
func (p *proc) mark() int {
	_, n := p.log.since(0)
	return n
}

// waitLog waits up to d for a log line from index from on that matches re
// and returns its submatches.
func (p *proc) waitLog(t *testing.T, from int, re string, d time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	var found []string
	ok := waitFor(d, func() bool {
		lines, _ := p.log.since(from)
		for _, l := range lines {
			if m := rx.FindStringSubmatch(l); m != nil {
				found = m
				return true
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("no log line matching %q within %v; log:\n%s", re, d, p.log)
	}
	return found
}

// wait waits up to d for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("parley did not exit within %v; log:\n%s", d, p.log)
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", p.err)
	return -1
}

// serveArgs are the arguments of `parley serve` with the file cfg, UDP on
// 127.0.0.1:0, no HTTP and a database in dir.
func serveArgs(cfg, dir string) []string {
	return []string{"serve", "--config", cfg, "--listen", "udp:127.0.0.1:0", "--http", "off",
		"--db", "sqlite:" + filepath.Join(dir, "p.db")}
}

// startParley runs `parley serve` and returns it with its UDP address, read
// from the "listening" log line.
func startParley(t *testing.T, cfg, dir string) (*proc, netip.AddrPort) {
	t.Helper()
	p := runParley(t, serveArgs(cfg, dir)...)
	m := p.waitLog(t, 0, `msg=listening transport=UDP addr=(\S+)`, 10*time.Second)
	a, err := netip.ParseAddrPort(m[1])
	if err != nil {
		t.Fatalf("listening address %q: %v", m[1], err)
	}
	return p, a
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// optionsTo is an OPTIONS to ruri with the usual fresh values.
func optionsTo(ruri string) string { return base("OPTIONS", ruri, "OPTIONS", "") }

// TestBinaryVersion: `parley version` prints the version.
func TestBinaryVersion(t *testing.T) {
	p := runParley(t, "version")
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got, want := strings.TrimSpace(p.log.String()), "parley "+app.Version; got != want {
		t.Errorf("parley version printed %q, want %q", got, want)
	}
}

// TestBinaryUnknownKey: a config file with an unknown key is refused at
// start with FILE:LINE (STYLE.md 6), and parley serve exits non-zero.
func TestBinaryUnknownKey(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "parley.yaml")
	writeFile(t, cfg, "domain:\n  - example.test\nno_such_key: 1\n")
	p := runParley(t, serveArgs(cfg, dir)...)
	if code := p.wait(t, 10*time.Second); code == 0 {
		t.Fatalf("parley serve exited 0 with an unknown key; log:\n%s", p.log)
	}
	if want := cfg + ":3: unknown key"; !strings.Contains(p.log.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, p.log)
	}
}

// TestBinaryServeReloadTerm runs `parley serve`: OPTIONS works; SIGHUP after
// adding a domain makes the new domain Parley's; SIGHUP with an invalid
// file is refused and the old configuration keeps serving; SIGTERM drains
// and exits 0.
func TestBinaryServeReloadTerm(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "parley.yaml")
	writeFile(t, cfg, "# e2e\ndomain:\n  - example.test\nlog_level: info\n")
	p, addr := startParley(t, cfg, dir)
	c := dialUDPTo(t, addr)

	c.send(optionsTo("sip:$TARGET"))
	c.expect(t, `^SIP/2.0 200 `)
	c.send(optionsTo("sip:example.test"))
	c.expect(t, `^SIP/2.0 200 `)
	c.send(optionsTo("sip:newdomain.test"))
	c.expect(t, `^SIP/2.0 [3-6]\d\d `) // not ours yet: relayed, today 404

	mark := p.mark()
	writeFile(t, cfg, "# e2e\ndomain:\n  - example.test\n  - newdomain.test\nlog_level: info\n")
	signal(t, p, syscall.SIGHUP)
	p.waitLog(t, mark, `configuration reloaded`, 5*time.Second)
	c.send(optionsTo("sip:newdomain.test"))
	c.expect(t, `^SIP/2.0 200 `)

	mark = p.mark()
	writeFile(t, cfg, "# e2e\ndomain:\n  - example.test\nlog_level: info\nno_such_key: 1\n")
	signal(t, p, syscall.SIGHUP)
	m := p.waitLog(t, mark, `reload refused.*`, 5*time.Second)
	if !strings.Contains(m[0], cfg+":5") {
		t.Errorf("refusal %q does not name %s:5", m[0], cfg)
	}
	c.send(optionsTo("sip:newdomain.test"))
	c.expect(t, `^SIP/2.0 200 `) // the previous configuration stays in effect

	signal(t, p, syscall.SIGTERM)
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("SIGTERM: exit %d; log:\n%s", code, p.log)
	}
}

func signal(t *testing.T, p *proc, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// answerDelay is how long the callee of the signal tests rings before it
// answers: the signal arrives in between.
const answerDelay = time.Second

// ringingCall starts `parley serve` (authentication off, UDP on loopback),
// registers a callee and has a caller INVITE it; it returns once the caller
// has the callee's 180, with the INVITE still in progress.
func ringingCall(t *testing.T, cfg, dir string) (p *proc, addr netip.AddrPort, call *dialog, alice, bob *phone, in *sipMsg) {
	t.Helper()
	writeFile(t, cfg, "domain:\n  - example.test\nlog_level: info\nauth:\n  enabled: false\n")
	p, addr = startParley(t, cfg, dir)
	srv := &server{addrs: map[string]netip.AddrPort{"udp": addr}}
	alice, bob = newPhone(t, srv, "udp", uniq("alice")), newPhone(t, srv, "udp", uniq("bob"))
	bob.register(t, "")
	call = alice.call(bob.aor())
	call.send(t, "INVITE", sdp(false))
	in = bob.request(t, "INVITE")
	bob.reply(t, in, 180, "Ringing", msgOpts{})
	alice.response(t, 180, "INVITE")
	return p, addr, call, alice, bob, in
}

// TestBinaryTermDrainsCall: SIGTERM while an INVITE is in progress (the
// callee rings and answers a second later) drains: a new request during the
// drain gets 503, the call still completes (the 200 reaches the caller),
// and then the process exits 0.
func TestBinaryTermDrainsCall(t *testing.T) {
	dir := t.TempDir()
	p, addr, call, alice, bob, in := ringingCall(t, filepath.Join(dir, "parley.yaml"), dir)
	rang := time.Now()

	mark := p.mark()
	signal(t, p, syscall.SIGTERM)
	p.waitLog(t, mark, `msg=draining`, 5*time.Second)
	late := dialUDPTo(t, addr)
	late.send(optionsTo("sip:$TARGET"))
	late.expect(t, `^SIP/2.0 503 `) // RFC 3261 §21.5.4: not accepting new work
	select {
	case <-p.done:
		t.Fatal("parley exited with an INVITE in progress")
	default:
	}

	time.Sleep(time.Until(rang.Add(answerDelay)))
	bob.reply(t, in, 200, "OK", sdp(false))
	ok := alice.response(t, 200, "INVITE")
	call.confirm(ok)
	call.ack(t)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d after the drain; log:\n%s", code, p.log)
	}
}

// TestBinaryHupKeepsCall: SIGHUP while an INVITE is in progress reloads the
// configuration without dropping the transaction: the 200 sent after the
// reload reaches the caller, and the ACK reaches the callee along the route
// Parley recorded before the reload.
func TestBinaryHupKeepsCall(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "parley.yaml")
	p, addr, call, alice, bob, in := ringingCall(t, cfg, dir)
	rang := time.Now()

	mark := p.mark()
	writeFile(t, cfg, "domain:\n  - example.test\n  - newdomain.test\nlog_level: info\nauth:\n  enabled: false\n")
	signal(t, p, syscall.SIGHUP)
	p.waitLog(t, mark, `configuration reloaded`, 5*time.Second)
	c := dialUDPTo(t, addr)
	c.send(optionsTo("sip:newdomain.test"))
	c.expect(t, `^SIP/2.0 200 `) // the new configuration is in effect

	time.Sleep(time.Until(rang.Add(answerDelay)))
	bob.reply(t, in, 200, "OK", sdp(false))
	ok := alice.response(t, 200, "INVITE")
	call.confirm(ok)
	call.ack(t)
	bob.request(t, "ACK")

	signal(t, p, syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("SIGTERM: exit %d; log:\n%s", code, p.log)
	}
}
