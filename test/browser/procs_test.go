package browser

import (
	"bufio"
	"bytes"
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
	"sync"
	"syscall"
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

// proc is a process the test started; it is ended by its PID when the test
// ends (SIGTERM, then SIGKILL after 3 s), and its output is logged if the
// test failed.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuf
	done chan struct{}
	err  error
}

func start(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, out: &syncBuf{}, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.out
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- %s output (last 6000 bytes):\n%s", name, tail(p.out.String(), 6000))
		}
	})
	return p
}

func (p *proc) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if !p.wait(3 * time.Second) {
		p.cmd.Process.Kill()
		<-p.done
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// freePort returns a port that was free for TCP and UDP on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	for range 64 {
		p := 20000 + rand.IntN(30000)
		if portsFree(p) {
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

func portsFree(ports ...int) bool {
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for _, p := range ports {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		u, err := net.ListenPacket("udp4", addr)
		if err != nil {
			return false
		}
		closers = append(closers, u)
		l, err := net.Listen("tcp4", addr)
		if err != nil {
			return false
		}
		closers = append(closers, l)
	}
	return true
}

// baresip is one baresip 1.0 phone driven over ctrl_tcp (netstring JSON); see
// /work/shared/notes/real-clients.md. Its SIP port p is UDP and TCP, p+1 is
// its TLS listener, p+5 ctrl_tcp and p+10..p+29 RTP.
type baresip struct {
	name string
	p    *proc
	port int
	conn net.Conn

	mu        sync.Mutex
	events    []map[string]any
	readErr   error
	responses chan map[string]any
	token     int
}

func startBaresip(t *testing.T, bin, name string) *baresip {
	t.Helper()
	var port int
	for range 64 {
		port = 20000 + rand.IntN(30000)
		if portsFree(port, port+1, port+5, port+10, port+12) {
			break
		}
	}
	dir := t.TempDir()
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%[1]d
net_interface 127.0.0.1
dns_server 127.0.0.1:53
rtp_ports %[2]d-%[3]d
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aubridge.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%[4]d
module_tmp uuid.so
module_tmp account.so
audio_player aubridge,nowhere-%[5]s-%[1]d
audio_source ausine,440
audio_alert aubridge,nowhere-%[5]s-%[1]d
ausrc_srate 48000
ausrc_channels 2
`, port, port+10, port+29, port+5, name)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	b := &baresip{name: name, port: port, responses: make(chan map[string]any, 16)}
	b.p = start(t, "baresip "+name, exec.Command(bin, "-f", dir))
	ctrl := fmt.Sprintf("127.0.0.1:%d", port+5)
	if !waitFor(10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", ctrl, 200*time.Millisecond)
		b.conn = c
		return err == nil
	}) {
		t.Fatalf("baresip %s: ctrl_tcp %s not up within 10 s", name, ctrl)
	}
	t.Cleanup(func() { b.quit(); b.conn.Close() })
	go b.readLoop()
	return b
}

func (b *baresip) readLoop() {
	r := bufio.NewReader(b.conn)
	for {
		m, err := readNetstring(r)
		if err != nil {
			b.mu.Lock()
			b.readErr = err
			b.mu.Unlock()
			close(b.responses)
			return
		}
		if m["event"] == true {
			b.mu.Lock()
			b.events = append(b.events, m)
			b.mu.Unlock()
		} else if m["response"] == true {
			select {
			case b.responses <- m:
			default:
			}
		}
	}
}

func readNetstring(r *bufio.Reader) (map[string]any, error) {
	n, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(strings.TrimSpace(n[:len(n)-1]))
	if err != nil || size < 0 || size > 4<<20 {
		return nil, fmt.Errorf("bad netstring length %q", n)
	}
	buf := make([]byte, size+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if buf[size] != ',' {
		return nil, errors.New("netstring without ','")
	}
	var m map[string]any
	return m, json.Unmarshal(buf[:size], &m)
}

// cmd sends a ctrl_tcp command and waits for its response.
func (b *baresip) cmd(command, params string) error {
	b.token++
	tok := "t" + strconv.Itoa(b.token)
	j, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": tok})
	b.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(b.conn, "%d:%s,", len(j), j); err != nil {
		return fmt.Errorf("baresip %s: %s: %v", b.name, command, err)
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-b.responses:
			if !ok {
				return fmt.Errorf("baresip %s: ctrl_tcp closed during %s", b.name, command)
			}
			if m["token"] != tok {
				continue
			}
			if m["ok"] != true {
				return fmt.Errorf("baresip %s: %s %q failed: %v", b.name, command, params, m["data"])
			}
			return nil
		case <-timeout:
			return fmt.Errorf("baresip %s: no response to %s within 5 s", b.name, command)
		}
	}
}

func (b *baresip) mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events)
}

// waitEvent waits for an event after mark of one of types ("A|B").
func (b *baresip) waitEvent(mark int, d time.Duration, types string) (map[string]any, error) {
	var found map[string]any
	waitFor(d, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.events[min(mark, len(b.events)):] {
			if ty, _ := e["type"].(string); ty != "" && strings.Contains("|"+types+"|", "|"+ty+"|") {
				found = e
				return true
			}
		}
		return b.readErr != nil
	})
	if found == nil {
		return nil, fmt.Errorf("baresip %s: no %s within %v", b.name, types, d)
	}
	return found, nil
}

// register adds the account (outbound proxy: Parley's UDP listener) and waits for REGISTER_OK.
func (b *baresip) register(user, password, target, answermode string) error {
	m := b.mark()
	acct := fmt.Sprintf(`<sip:%s@example.test;transport=udp>;auth_user=%s;auth_pass=%s;outbound="sip:%s;transport=udp";regint=600;mwi=no;answermode=%s;audio_codecs=PCMU,PCMA;ptime=20`,
		user, user, password, target, answermode)
	if err := b.cmd("uanew", acct); err != nil {
		return err
	}
	ev, err := b.waitEvent(m, 10*time.Second, "REGISTER_OK|REGISTER_FAIL")
	if err != nil {
		return err
	}
	if ev["type"] != "REGISTER_OK" {
		return fmt.Errorf("baresip %s: %v %v", b.name, ev["type"], ev["param"])
	}
	return nil
}

// quit un-registers and exits (bounded); the process is then stopped by PID.
func (b *baresip) quit() {
	select {
	case <-b.p.done:
		return
	default:
	}
	j := `{"command":"quit","params":"","token":"quit"}`
	b.conn.SetWriteDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(b.conn, "%d:%s,", len(j), j)
	if !b.p.wait(3 * time.Second) {
		b.p.stop()
	}
}
