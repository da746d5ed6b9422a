package proctest

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestStartLogWait(t *testing.T) {
	p, err := Start("sh", exec.Command("sh", "-c", "echo out; echo err >&2; exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Wait(5 * time.Second) {
		p.Kill()
		t.Fatal("sh did not exit within 5 s")
	}
	if p.Running() {
		t.Error("Running after Wait returned true")
	}
	if got := p.Log(); !strings.Contains(got, "out\n") || !strings.Contains(got, "err\n") || p.LogLen() != len(got) {
		t.Errorf("log %q (len %d): want stdout and stderr", got, p.LogLen())
	}
	if ee, ok := p.Err().(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Errorf("Err = %v, want exit status 3", p.Err())
	}
}

func TestStartFails(t *testing.T) {
	if _, err := Start("nothing", exec.Command("/nonexistent/binary")); err == nil || !strings.Contains(err.Error(), "start nothing") {
		t.Fatalf("err = %v, want a start error naming the process", err)
	}
}

// TestStopTermThenKill: a process that ignores SIGTERM is killed after the
// grace period; one that does not is ended by SIGTERM.
func TestStopTermThenKill(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		killed       bool
	}{
		{"obeys_sigterm", "echo up; exec sleep 30", false},
		{"ignores_sigterm", "trap '' TERM; echo up; exec sleep 30", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Start("sh", exec.Command("sh", "-c", tc.script))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Kill)
			if !WaitFor(5*time.Second, func() bool { return strings.Contains(p.Log(), "up") }) {
				t.Fatalf("sh did not start: %q", p.Log())
			}
			start := time.Now()
			p.Stop(300 * time.Millisecond)
			if p.Running() {
				t.Fatal("still running after Stop")
			}
			if took := time.Since(start); took > 300*time.Millisecond+KillWait {
				t.Errorf("Stop took %v", took)
			}
			if err := p.Err(); err == nil || strings.Contains(err.Error(), "killed") != tc.killed {
				t.Errorf("Err = %v, want killed=%v", err, tc.killed)
			}
			p.Stop(time.Second) // a second Stop does nothing
		})
	}
}

func TestWaitForAsksAtLeastOnce(t *testing.T) {
	n := 0
	if WaitFor(0, func() bool { n++; return false }) || n == 0 {
		t.Fatalf("WaitFor(0) = true or cond asked %d times", n)
	}
	if !WaitFor(0, func() bool { return true }) {
		t.Fatal("WaitFor(0) with a true cond = false")
	}
}

func TestPortsFree(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if PortsFree(nil, []int{port}) {
		t.Errorf("TCP port %d is held, PortsFree says free", port)
	}
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if PortsFree([]int{c.LocalAddr().(*net.UDPAddr).Port}, nil) {
		t.Error("a held UDP port is reported free")
	}
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"line1\nline2\nline3\n", 8, "...\nline3\n"},
		{"abcdef", 3, "...\ndef"},
	} {
		if got := Tail(tc.s, tc.n); got != tc.want {
			t.Errorf("Tail(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
	if got := TailLines("a\nb\nc\n", 2); got != "b\nc" {
		t.Errorf("TailLines = %q, want %q", got, "b\nc")
	}
}
