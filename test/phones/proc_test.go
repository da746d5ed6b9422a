package phones

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuf collects a process's output; it is safe for concurrent use.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuf) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// proc is a process started by the test. It is killed by its PID when the
// test ends, if it is still running.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuf
	done chan struct{}
	err  error
}

// startProc starts bin; env (if not nil) is added to the environment; stdin
// (if not nil) becomes its standard input.
func startProc(t *testing.T, name string, env []string, stdin io.Reader, bin string, args ...string) (*proc, error) {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), out: &syncBuf{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	if stdin != nil {
		p.cmd.Stdin = stdin
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		saveLog(name, p.out.String())
	})
	return p, nil
}

// running reports whether the process has not exited yet.
func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// wait waits up to d for the process to exit.
func (p *proc) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// kill kills the process by its PID (SIGKILL) and reaps it.
func (p *proc) kill() {
	if !p.running() {
		return
	}
	p.cmd.Process.Kill()
	p.wait(5 * time.Second)
}

// waitFor polls cond every 50 ms until it is true or d has passed.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// portsFree reports whether all the given UDP and TCP ports on 127.0.0.1 can
// be bound at this moment.
func portsFree(udp, tcp []int) bool {
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for _, p := range udp {
		c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		closers = append(closers, c)
	}
	for _, p := range tcp {
		c, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		closers = append(closers, c)
	}
	return true
}

// portPlan hands out non-overlapping port blocks to the phones of one run.
type portPlan struct {
	mu   sync.Mutex
	next int
}

func newPortPlan() *portPlan { return &portPlan{next: 20000 + 100*rand.IntN(300)} }

// block returns the first port of a block of size ports for which check
// succeeds.
func (pp *portPlan) block(size int, check func(base int) bool) (int, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for range 200 {
		base := pp.next
		pp.next += size
		if pp.next > 60000 {
			pp.next = 20000
		}
		if check(base) {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no free block of %d ports", size)
}

// tail returns the last n bytes of s, for error messages.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		i += j + 1
	}
	return "...\n" + s[i:]
}

// saveLog writes a log into $PHONES_LOGDIR (if set), for looking at the SIP
// traces after a run.
func saveLog(name, text string) {
	dir := os.Getenv("PHONES_LOGDIR")
	if dir == "" {
		return
	}
	os.MkdirAll(dir, 0o755)
	file := strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '(' || r == ')' {
			return '_'
		}
		return r
	}, name)
	for i := 0; ; i++ {
		path := filepath.Join(dir, fmt.Sprintf("%s.%d.log", file, i))
		if _, err := os.Stat(path); err == nil {
			continue
		}
		os.WriteFile(path, []byte(text), 0o644)
		return
	}
}
