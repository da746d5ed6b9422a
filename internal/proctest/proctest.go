// Package proctest runs the external programs that tests talk to (parley
// itself, baresip, linphonec, rtpengine, a browser driver): start one with
// its output captured, wait for it with a bound, and end it by its PID. Its
// Buffer also serves tests that capture a logger's output.
//
// It holds no state of its own: each Proc belongs to the test that started
// it, which decides when and how it ends (Kill, or Stop with a grace period)
// and what to do with its log.
package proctest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// KillWait bounds how long Kill waits for a killed process to be reaped. A
// child that kept the output pipe open can hold cmd.Wait longer; the test
// does not wait for it.
const KillWait = 5 * time.Second

// Proc is one started process.
type Proc struct {
	cmd  *exec.Cmd
	log  *Buffer
	done chan struct{}
	err  error // cmd.Wait's; read only after done is closed
}

// Start starts cmd. Its standard output and error go to the Proc's log
// unless the caller set them (a pipe, say). env, dir and stdin are the
// caller's to set on cmd beforehand.
func Start(name string, cmd *exec.Cmd) (*Proc, error) {
	p := &Proc{cmd: cmd, log: new(Buffer), done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.log
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.log
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Done is closed when the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Wait waits up to d for the process to exit and reports whether it did.
func (p *Proc) Wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// Err is what cmd.Wait returned; it is nil while the process runs.
func (p *Proc) Err() error {
	if p.Running() {
		return nil
	}
	return p.err
}

// Kill sends SIGKILL to the process's PID and waits up to KillWait for it to
// be reaped. It does nothing once the process has exited.
func (p *Proc) Kill() {
	if !p.Running() {
		return
	}
	p.cmd.Process.Kill()
	p.Wait(KillWait)
}

// Signal sends sig to the process's PID.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Stop sends SIGTERM to the process's PID and, if it has not exited within
// grace, kills it (Kill). It may be called more than once.
func (p *Proc) Stop(grace time.Duration) {
	if !p.Running() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if !p.Wait(grace) {
		p.Kill()
	}
}

// Log is what the process wrote to the outputs Start captured.
func (p *Proc) Log() string { return p.log.String() }

// LogLen is len(Log()), without copying it.
func (p *Proc) LogLen() int { return p.log.Len() }

// Buffer collects output; it is safe for concurrent writers and readers (a
// process or a logger writing, a test reading).
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Len is the number of bytes written so far.
func (s *Buffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// WaitFor polls cond every 50 ms until it is true or d has passed (Poll).
func WaitFor(d time.Duration, cond func() bool) bool { return Poll(d, 50*time.Millisecond, cond) }

// Poll asks cond every interval until it is true or d has passed, and
// reports whether it became true; cond is asked at least once, and once
// more after d.
func Poll(d, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}

// PortsFree reports whether all the given UDP and TCP ports of 127.0.0.1
// can be bound at this moment (for a program that takes fixed ports).
func PortsFree(udp, tcp []int) bool {
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

// Tail returns about the last n bytes of s, from a line start, for error
// messages.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := len(s) - n
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		i += j + 1
	}
	return "...\n" + s[i:]
}

// TailLines returns the last n lines of s.
func TailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
