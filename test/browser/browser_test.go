// Package browser tests Parley's web console in a real browser: Debian's
// Chromium driven by playwright-core from npm (console.spec.mjs), against the
// parley binary with real baresip phones registering and calling.
//
// Needs: apt-get install chromium baresip nodejs npm; npm ci in test/browser.
// Without them the test skips, or fails when CI is set. Screenshots go to
// test/browser/screenshots/ (or $SCREENSHOT_DIR).
package browser

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/proctest"
)

const (
	chromium  = "/usr/bin/chromium"
	adminName = "admin"
	adminPW   = "Console-Admin-2024"
	bobPW     = "bob-secret-77"
	timeLimit = 100 * time.Second // the whole test after the build, browser script included
)

// need skips (or fails under CI) when a tool is missing.
func need(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("browser test needs %s", what)
	}
	t.Skipf("browser test needs %s", what)
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

func TestConsoleInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	need(t, exists(chromium), chromium+" (apt-get install chromium)")
	node, err := exec.LookPath("node")
	need(t, err == nil, "node (apt-get install nodejs)")
	need(t, exists("node_modules/playwright-core/package.json"), "playwright-core (npm ci in test/browser)")
	bare, err := exec.LookPath("baresip")
	need(t, err == nil, "baresip (apt-get install baresip)")
	goBin, err := exec.LookPath("go")
	need(t, err == nil, "go on PATH")

	// Build the binary (seconds with a warm build cache, over a minute with a cold one).
	dir := t.TempDir()
	bin := filepath.Join(dir, "parley")
	t0 := time.Now()
	build := exec.Command(goBin, "build", "-o", bin, "./cmd/parley")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/parley: %v\n%s", err, out)
	}
	t.Logf("go build ./cmd/parley took %v", time.Since(t0).Round(time.Millisecond))

	// Create an administrator and bob, start Parley; then the browser.
	ctx, cancel := context.WithTimeout(context.Background(), timeLimit)
	defer cancel()
	began := time.Now()
	db := "sqlite:" + filepath.Join(dir, "parley.db")
	for _, args := range [][]string{
		{"admin", "add", adminName, "--password", adminPW, "--db", db},
		{"user", "add", "bob@example.test", "--password", bobPW, "--db", db},
	} {
		if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("parley %s: %v\n%s", strings.Join(args[:2], " "), err, out)
		}
	}
	sipAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	httpAddr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	start(t, "parley", exec.Command(bin, "serve", "--domain", "example.test", "--db", db,
		"--listen", "udp:"+sipAddr, "--http", httpAddr))
	base := "http://" + httpAddr
	if !proctest.WaitFor(10*time.Second, func() bool {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil && res.StatusCode == 200
	}) {
		t.Fatalf("parley not ready on %s within 10 s", httpAddr)
	}
	t.Logf("parley ready after %v", time.Since(began).Round(time.Millisecond))

	// Run the browser script; it asks for phones on its stdout ("@@ ...")
	// and reads the answers on its stdin.
	shots := os.Getenv("SCREENSHOT_DIR")
	if shots == "" {
		shots, _ = filepath.Abs("screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(shots, "*.png"))
	for _, f := range old {
		os.Remove(f)
	}
	script := exec.CommandContext(ctx, node, "console.spec.mjs")
	script.Env = append(os.Environ(), "PARLEY_URL="+base, "PARLEY_ADMIN="+adminName, "PARLEY_PASSWORD="+adminPW,
		"SCREENSHOT_DIR="+shots, "BOB_PASSWORD="+bobPW, "CHROMIUM="+chromium, "USER_DATA_DIR="+filepath.Join(dir, "chromium"))
	script.Cancel = func() error { return script.Process.Signal(syscall.SIGTERM) } // Playwright closes Chromium
	script.WaitDelay = 5 * time.Second
	stdin, err := script.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := script.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sp := start(t, "console.spec.mjs", script)

	ph := &phones{t: t, bin: bare, target: sipAddr}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		req, ok := strings.CutPrefix(line, "@@ ")
		if !ok {
			t.Log("script: " + line)
			continue
		}
		t.Logf("script asks: %s (at %v)", req, time.Since(began).Round(time.Millisecond))
		answer := "ok"
		if err := ph.do(strings.Fields(req)); err != nil {
			answer = "error " + err.Error()
			t.Errorf("%s: %v", req, err)
		}
		io.WriteString(stdin, answer+"\n")
	}
	<-sp.Done()
	if err := sp.Err(); err != nil {
		t.Fatalf("console.spec.mjs failed (%v); see its output above", err)
	}
	t.Logf("browser test took %v", time.Since(began).Round(time.Millisecond))
}

// phones does what the browser script asks of the real phones.
type phones struct {
	t          *testing.T
	bin        string
	target     string // Parley's UDP listener
	alice, bob *baresip
}

func (p *phones) do(req []string) error {
	switch {
	case len(req) == 3 && req[0] == "register": // register USER PASSWORD
		p.alice = startBaresip(p.t, p.bin, req[1])
		return p.alice.register(req[1], req[2], p.target, "manual")
	case len(req) == 1 && req[0] == "call": // bob registers (auto answer), alice calls him
		if p.alice == nil {
			return fmt.Errorf("call before register")
		}
		p.bob = startBaresip(p.t, p.bin, "bob")
		if err := p.bob.register("bob", bobPW, p.target, "auto"); err != nil {
			return err
		}
		ma, mb := p.alice.Mark(), p.bob.Mark()
		if _, err := p.alice.Do("dial", "sip:bob@example.test"); err != nil {
			return err
		}
		if _, err := p.alice.WaitEvent(ma, 10*time.Second, "CALL_ESTABLISHED", nil); err != nil {
			return err
		}
		_, err := p.bob.WaitEvent(mb, 5*time.Second, "CALL_ESTABLISHED", nil)
		return err
	case len(req) == 1 && req[0] == "hungup": // both phones saw the call end
		for _, b := range []*baresip{p.alice, p.bob} {
			if _, err := b.WaitEvent(0, 10*time.Second, "CALL_CLOSED", nil); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown request %q", req)
}
