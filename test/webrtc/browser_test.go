package webrtc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/proctest"
)

// browser is one headless Chromium driven by browser.mjs over stdin/stdout.
type browser struct {
	t      testing.TB
	p      *proctest.Proc // its log is browser.mjs's stderr
	in     io.WriteCloser
	stdout *os.File
	out    *bufio.Scanner
	mu     sync.Mutex
	nextID int
}

// startBrowser launches Chromium; it is closed when the test ends. spki,
// when not empty, is the one certificate key Chromium trusts besides its roots.
func startBrowser(t testing.TB, spki string) *browser {
	t.Helper()
	opts, _ := json.Marshal(map[string]string{"spki": spki})
	cmd := exec.Command(nodeBin, "browser.mjs", string(opts))
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromiumBin)
	b := &browser{t: t}
	var err error
	if b.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	// A pipe of our own rather than cmd.StdoutPipe: the process is reaped
	// (cmd.Wait) as soon as it exits, which must not close what is still
	// to be read.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	b.p, err = proctest.Start("browser.mjs", cmd)
	w.Close()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	b.stdout = r
	b.out = bufio.NewScanner(r)
	b.out.Buffer(make([]byte, 1<<20), 16<<20)
	t.Cleanup(b.close)
	var version string
	if err := b.read(0, &version, 60*time.Second); err != nil {
		t.Fatalf("chromium did not start: %v\n%s", err, b.p.Log())
	}
	t.Logf("chromium %s", version)
	return b
}

// close ends the browser (stdin closed, then killed after 10 s) and logs
// what the pages printed when the test failed.
func (b *browser) close() {
	start := time.Now()
	defer func() {
		if os.Getenv("WEBRTC_LOG") != "" {
			b.t.Logf("browser closed in %s", time.Since(start).Round(time.Millisecond))
		}
	}()
	b.in.Close()
	if !b.p.Wait(10 * time.Second) {
		b.p.Kill()
	}
	b.stdout.Close()
	if b.t.Failed() || os.Getenv("WEBRTC_LOG") != "" {
		b.t.Logf("browser log:\n%s", proctest.TailLines(b.p.Log(), 200))
	}
}

// do sends one request and decodes its result into res (may be nil).
func (b *browser) do(req map[string]any, res any, d time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	req["id"] = b.nextID
	if os.Getenv("WEBRTC_LOG") != "" {
		start := time.Now()
		defer func() {
			b.t.Logf("browser %v %v: %s", req["op"], req["name"], time.Since(start).Round(time.Millisecond))
		}()
	}
	line, _ := json.Marshal(req)
	if _, err := b.in.Write(append(line, '\n')); err != nil {
		return err
	}
	return b.read(b.nextID, res, d)
}

// read waits for the answer with id.
func (b *browser) read(id int, res any, d time.Duration) error {
	type answer struct {
		ID     int             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  string          `json:"error"`
	}
	got := make(chan error, 1)
	go func() {
		for b.out.Scan() {
			var a answer
			if err := json.Unmarshal(b.out.Bytes(), &a); err != nil || a.ID != id {
				continue
			}
			if a.Error != "" {
				got <- fmt.Errorf("%s", a.Error)
				return
			}
			if res != nil {
				got <- json.Unmarshal(a.Result, res)
				return
			}
			got <- nil
			return
		}
		got <- fmt.Errorf("browser exited: %v", b.out.Err())
	}()
	select {
	case err := <-got:
		return err
	case <-time.After(d):
		b.p.Kill() // the reader goroutine ends with it
		return fmt.Errorf("no answer in %s", d)
	}
}

// page is one tab of the browser, in its own context.
type page struct {
	b    *browser
	name string
}

// open loads url in a new context named name.
func (b *browser) open(name, url string) *page {
	b.t.Helper()
	if err := b.do(map[string]any{"op": "open", "name": name, "url": url}, nil, 30*time.Second); err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
	return &page{b: b, name: name}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func (p *page) eval(expr string, res any) error {
	return p.b.do(map[string]any{"op": "eval", "name": p.name, "expr": expr}, res, 20*time.Second)
}

// run evaluates expr and fails the test on an error.
func (p *page) run(t testing.TB, expr string) {
	t.Helper()
	if err := p.eval("Promise.resolve("+expr+").then(() => null)", nil); err != nil {
		t.Fatalf("%s: %s: %v", p.name, expr, err)
	}
}

// str evaluates expr to a string.
func (p *page) str(t testing.TB, expr string) string {
	t.Helper()
	var s string
	if err := p.eval("String("+expr+")", &s); err != nil {
		t.Fatalf("%s: %s: %v", p.name, expr, err)
	}
	return s
}

// waitFor polls expr (a string-valued expression) until it equals want.
func (p *page) waitFor(t testing.TB, expr, want string, d time.Duration) {
	t.Helper()
	var last string
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if last = p.str(t, expr); last == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %s is %q after %s, want %q (log: %s)", p.name, expr, last, d, want, p.str(t, `t.log.slice(-8).join(" | ")`))
}

// act runs a page-level op (fill, click) on a selector.
func (p *page) act(t testing.TB, op, selector, value string) {
	t.Helper()
	if err := p.b.do(map[string]any{"op": op, "name": p.name, "selector": selector, "value": value}, nil, 20*time.Second); err != nil {
		t.Fatalf("%s: %s %s: %v", p.name, op, selector, err)
	}
}

// text returns the text content of selector.
func (p *page) text(t testing.TB, selector string) string {
	t.Helper()
	var s string
	if err := p.b.do(map[string]any{"op": "text", "name": p.name, "selector": selector}, &s, 20*time.Second); err != nil {
		t.Fatalf("%s: text %s: %v", p.name, selector, err)
	}
	return s
}

// close closes the page's context: its WebSocket goes away with it.
func (p *page) close() {
	p.b.do(map[string]any{"op": "close", "name": p.name}, nil, 20*time.Second)
}

// rtp is what t.stats() reports.
type rtp struct {
	AudioIn  int `json:"audioIn"`
	AudioOut int `json:"audioOut"`
	VideoIn  int `json:"videoIn"`
	BytesIn  int `json:"bytesIn"`
}

func (p *page) stats(t testing.TB) rtp {
	t.Helper()
	var s rtp
	if err := p.eval("t.stats()", &s); err != nil {
		t.Fatalf("%s: stats: %v", p.name, err)
	}
	return s
}
