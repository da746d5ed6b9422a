package webrtc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// baresip 1.0.0 as a plain SIP phone (RTP/AVP over UDP, PCMU, a 440 Hz sine
// as microphone), driven through its ctrl_tcp module (netstring JSON), as
// test/phones does; see /work/shared/notes/real-clients.md.

type baresip struct {
	t        *testing.T
	sipPort  int // UDP; baresip also takes sipPort+1 for TLS
	ctrlPort int
	rtpLo    int
	cmd      *exec.Cmd
	out      *syncBuf
	done     chan struct{}
	conn     net.Conn

	mu        sync.Mutex
	events    []map[string]any
	readErr   error
	responses chan map[string]any
	cmdMu     sync.Mutex
	token     int
}

// requireBaresip finds baresip, skipping the test (failing under CI) without it.
func requireBaresip(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		need(t, "baresip", "apt-get install baresip")
	}
	return bin
}

// startBaresip runs baresip in a config dir of its own with an empty
// accounts file (accounts are added with uanew, so that no REGISTER_OK is
// missed) and connects to its ctrl_tcp.
func startBaresip(t *testing.T, bin string) *baresip {
	t.Helper()
	base := freeBlock(t)
	b := &baresip{t: t, sipPort: base, ctrlPort: base + 5, rtpLo: base + 10, out: new(syncBuf),
		done: make(chan struct{}), responses: make(chan map[string]any, 16)}
	dir := t.TempDir()
	config := fmt.Sprintf(`poll_method epoll
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
`, b.sipPort, b.rtpLo, b.rtpLo+19, b.ctrlPort, base, base)
	os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o644)
	os.WriteFile(filepath.Join(dir, "accounts"), nil, 0o644)
	b.cmd = exec.Command(bin, "-f", dir)
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("baresip: %v", err)
	}
	go func() { b.cmd.Wait(); close(b.done) }()
	t.Cleanup(b.stop)
	deadline := time.Now().Add(10 * time.Second)
	for b.conn == nil {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", b.ctrlPort), 200*time.Millisecond)
		if err == nil {
			b.conn = c
			break
		}
		select {
		case <-b.done:
			t.Fatalf("baresip exited:\n%s", tail(b.out.String(), 30))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip ctrl_tcp not up in 10 s:\n%s", tail(b.out.String(), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
	go b.readLoop()
	return b
}

// freeBlock finds 30 ports (SIP, TLS, ctrl, RTP) free on 127.0.0.1.
func freeBlock(t *testing.T) int {
	for range 50 {
		base := 50000 + 40*rand.IntN(300)
		free := true
		for _, p := range []int{base, base + 1, base + 5} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		for _, p := range []int{base, base + 10, base + 12, base + 14} {
			c, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				break
			}
			c.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free port block for baresip")
	return 0
}

// stop un-REGISTERs and quits (5 s), then kills by PID; the log goes to
// the test output when the test failed.
func (b *baresip) stop() {
	select {
	case <-b.done:
	default:
		if b.conn != nil {
			j := `{"command":"quit","params":"","token":"quit"}`
			b.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
			fmt.Fprintf(b.conn, "%d:%s,", len(j), j)
		}
		select {
		case <-b.done:
		case <-time.After(5 * time.Second):
			b.cmd.Process.Kill()
			<-b.done
		}
	}
	if b.conn != nil {
		b.conn.Close()
	}
	if b.t.Failed() || os.Getenv("WEBRTC_LOG") != "" {
		b.t.Logf("baresip log:\n%s\nevents: %s", tail(b.out.String(), 80), b.summary(0))
	}
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
		switch {
		case m["event"] == true:
			b.mu.Lock()
			b.events = append(b.events, m)
			b.mu.Unlock()
		case m["response"] == true:
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

// do sends a ctrl_tcp command and returns its response text.
func (b *baresip) do(command, params string) string {
	b.t.Helper()
	b.cmdMu.Lock()
	defer b.cmdMu.Unlock()
	b.token++
	tok := "t" + strconv.Itoa(b.token)
	j, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": tok})
	b.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(b.conn, "%d:%s,", len(j), j); err != nil {
		b.t.Fatalf("baresip %s: %v", command, err)
	}
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-b.responses:
			if !ok {
				b.t.Fatalf("baresip ctrl_tcp closed during %s", command)
			}
			if m["token"] != tok {
				continue
			}
			data, _ := m["data"].(string)
			if m["ok"] != true {
				b.t.Fatalf("baresip %s %q failed: %s", command, params, data)
			}
			return data
		case <-timeout:
			b.t.Fatalf("baresip: no response to %s in 5 s", command)
		}
	}
}

func (b *baresip) mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events)
}

// wait waits up to d for an event after mark of one of the types "A|B".
func (b *baresip) wait(mark int, d time.Duration, types string) map[string]any {
	b.t.Helper()
	want := strings.Split(types, "|")
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b.mu.Lock()
		for _, e := range b.events[min(mark, len(b.events)):] {
			if typ, _ := e["type"].(string); slices.Contains(want, typ) {
				b.mu.Unlock()
				return e
			}
		}
		b.mu.Unlock()
	}
	b.t.Fatalf("baresip: no %s within %s; events: %s", types, d, b.summary(mark))
	return nil
}

func (b *baresip) summary(mark int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s []string
	for _, e := range b.events[min(mark, len(b.events)):] {
		if e["type"] != "CALL_RTCP" {
			s = append(s, fmt.Sprintf("%v(%v)", e["type"], e["param"]))
		}
	}
	return "[" + strings.Join(s, " ") + "]"
}

// register adds user's account (UDP to Parley's udp listener, digest with
// the test password) and waits for REGISTER_OK.
func (b *baresip) register(user string, parley string, answermode string) {
	b.t.Helper()
	m := b.mark()
	b.do("uanew", fmt.Sprintf(`<sip:%s@%s;transport=udp>;auth_user=%s;auth_pass=%s;outbound="sip:%s;transport=udp";regint=600;mwi=no;answermode=%s;audio_codecs=PCMU,PCMA;ptime=20`,
		user, domain, user, passwords[user], parley, answermode))
	if e := b.wait(m, regWait, "REGISTER_OK|REGISTER_FAIL"); e["type"] != "REGISTER_OK" {
		b.t.Fatalf("baresip %s: %v %v", user, e["type"], e["param"])
	}
}

// rtpStats is what audio_debug says about the current call: where baresip
// sends RTP, and how many RTP packets it received from that same address
// (its RTCP member statistics: "IP=127.0.0.1:P psent=0 rcvd=N").
type rtpStats struct {
	remote string
	rcvd   int
}

var (
	adRemoteRE = regexp.MustCompile(`local: [0-9.]+:\d+, remote: ([0-9.]+:\d+)`)
	adMemberRE = regexp.MustCompile(`IP=([0-9.]+:\d+) psent=\d+ rcvd=(\d+)`)
)

func (b *baresip) audio() rtpStats {
	b.t.Helper()
	out := b.do("audio_debug", "")
	if os.Getenv("WEBRTC_LOG") != "" {
		b.t.Logf("audio_debug: %s", out)
	}
	var s rtpStats
	if m := adRemoteRE.FindStringSubmatch(out); m != nil {
		s.remote = m[1]
	}
	for _, m := range adMemberRE.FindAllStringSubmatch(out, -1) {
		if m[1] == s.remote {
			n, _ := strconv.Atoi(m[2])
			s.rcvd += n
		}
	}
	return s
}
