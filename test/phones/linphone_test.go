package phones

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/proctest"
)

// linphonec 5.1 driven through its stdin, with its own HOME and rc file, in a
// private mount namespace whose /etc/resolv.conf points at 127.0.0.1 (so a
// DNS lookup of example.test never leaves the machine). See
// /work/shared/notes/real-clients.md.

type linphone struct {
	name     string
	p        *proctest.Proc
	stdin    *os.File
	home     string
	sipPort  int
	rtpPort  int // first port of its audio RTP range
	rtpHi    int // last port of its audio RTP range (one port per call)
	debugLog string
}

// dnsJail returns the command prefix that runs a program in a private mount
// namespace with resolv pointing at 127.0.0.1, trying `unshare -m` (root) and
// then `unshare -r -m` (an unprivileged user namespace). The error explains
// why neither works.
func dnsJail(resolv string) ([]string, error) {
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, fmt.Errorf("unshare not found (util-linux): %v", err)
	}
	const script = `mount --bind "$0" /etc/resolv.conf && exec "$@"`
	var errs []string
	for _, flags := range [][]string{{"-m"}, {"-r", "-m"}} {
		args := append(append([]string{}, flags...), "sh", "-c", script, resolv, "grep", "-q", "^nameserver 127.0.0.1", "/etc/resolv.conf")
		out, err := runBounded(exec.Command(unshare, args...), 10*time.Second)
		if err == nil {
			return append(append([]string{unshare}, flags...), "sh", "-c", script, resolv), nil
		}
		errs = append(errs, fmt.Sprintf("unshare %s: %v %s", strings.Join(flags, " "), err, strings.TrimSpace(string(out))))
	}
	return nil, fmt.Errorf("cannot give linphonec a private /etc/resolv.conf (%s)", strings.Join(errs, "; "))
}

// hasDefaultRoute reports whether the machine has an IPv4 or IPv6 default
// route (linphonec sends nothing over it; it only needs one to exist).
func hasDefaultRoute() bool {
	if b, err := os.ReadFile("/proc/net/route"); err == nil {
		for _, l := range strings.Split(string(b), "\n")[1:] {
			if f := strings.Fields(l); len(f) > 2 && f[1] == "00000000" {
				return true
			}
		}
	}
	if b, err := os.ReadFile("/proc/net/ipv6_route"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 9 && f[0] == strings.Repeat("0", 32) && f[1] == "00" && f[9] != "lo" {
				return true
			}
		}
	}
	return false
}

// writeToneWav writes an 8 kHz mono 16-bit 440 Hz tone of secs seconds.
func writeToneWav(path string, secs int) error {
	n := 8000 * secs
	buf := make([]byte, 44+2*n)
	copy(buf[0:], "RIFF")
	binary.LittleEndian.PutUint32(buf[4:], uint32(36+2*n))
	copy(buf[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(buf[16:], 16)
	binary.LittleEndian.PutUint16(buf[20:], 1)
	binary.LittleEndian.PutUint16(buf[22:], 1)
	binary.LittleEndian.PutUint32(buf[24:], 8000)
	binary.LittleEndian.PutUint32(buf[28:], 16000)
	binary.LittleEndian.PutUint16(buf[32:], 2)
	binary.LittleEndian.PutUint16(buf[34:], 16)
	copy(buf[36:], "data")
	binary.LittleEndian.PutUint32(buf[40:], uint32(2*n))
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
		binary.LittleEndian.PutUint16(buf[44+2*i:], uint16(v))
	}
	return os.WriteFile(path, buf, 0o644)
}

// startLinphone starts linphonec for user over UDP with Parley's UDP listener
// as registrar and reg_route, files instead of a sound card, a tone as the
// microphone, and auto-answer on.
func startLinphone(t *testing.T, bin string, jail []string, user, pw, target string, pp *portPlan) (*linphone, error) {
	return startLinphoneOn(t, bin, jail, user, pw, "udp", target, "", pp)
}

// startLinphoneOn is startLinphone over tr ("udp", "tcp" or "tls"): target
// is Parley's listener for tr, and for TLS rootCA is the PEM file of
// Parley's certificate, which liblinphone verifies (not its name: belle-sip
// matches the host against DNS names only, and the certificate is for
// 127.0.0.1).
func startLinphoneOn(t *testing.T, bin string, jail []string, user, pw, tr, target, rootCA string, pp *portPlan) (*linphone, error) {
	t.Helper()
	home, err := os.MkdirTemp(t.TempDir(), "linphone-")
	if err != nil {
		return nil, err
	}
	// liblinphone opens no SIP socket when it cannot create its database.
	if err := os.MkdirAll(filepath.Join(home, ".local", "share", "linphone"), 0o755); err != nil {
		return nil, err
	}
	// block: SIP p, audio RTP p+10..p+19 (a conference host has one port
	// per call), video p+20..p+29 (unused).
	base, err := pp.block(40, func(p int) bool { return proctest.PortsFree([]int{p, p + 10, p + 11, p + 12, p + 13}, []int{p}) })
	if err != nil {
		return nil, err
	}
	l := &linphone{name: user + "/linphonec-" + tr, home: home, sipPort: base, rtpPort: base + 10, rtpHi: base + 19,
		debugLog: filepath.Join(home, "debug.log")}
	rcFile := filepath.Join(home, "linphonerc")
	if err := os.WriteFile(rcFile, []byte(linphoneRC(l, user, pw, tr, target, rootCA)), 0o600); err != nil {
		return nil, err
	}
	wav := filepath.Join(home, "tone.wav")
	if err := writeToneWav(wav, 60); err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	args := append(append([]string{}, jail[1:]...), bin, "-c", rcFile, "-d", "6", "-l", l.debugLog)
	l.p, err = startProc(t, l.name, []string{"HOME=" + home}, r, jail[0], args...)
	r.Close()
	if err != nil {
		w.Close()
		return nil, err
	}
	l.stdin = w
	t.Cleanup(func() {
		w.Close()
		saveLog(l.name+"-liblinphone", l.debug())
	})
	for _, c := range []string{"soundcard use files", "play " + wav, "autoanswer enable"} {
		l.send(c)
	}
	return l, nil
}

// linphoneRC is the rc file of l: SIP only over tr (the other transports'
// ports 0), Parley as registrar and reg_route, video off.
func linphoneRC(l *linphone, user, pw, tr, target, rootCA string) string {
	ports := map[string]int{"udp": 0, "tcp": 0, "tls": 0}
	ports[tr] = l.sipPort
	tlsConf := ""
	if tr == "tls" {
		tlsConf = fmt.Sprintf("root_ca=%s\nverify_server_certs=1\nverify_server_cn=0\n", rootCA)
	}
	return fmt.Sprintf(`[sip]
sip_port=%d
sip_tcp_port=%d
sip_tls_port=%d
%sbind_address=127.0.0.1
use_ipv6=0
default_proxy=0
inc_timeout=60
register_only_when_network_is_up=0

[rtp]
audio_rtp_port=%d-%d
video_rtp_port=%d-%d

[net]
firewall_policy=0

[sound]
echocancellation=0

[video]
enabled=0
display=0
capture=0
automatically_initiate=0
automatically_accept=0

[proxy_0]
reg_proxy=<sip:%s;transport=%s>
reg_route=<sip:%s;transport=%s;lr>
reg_identity="%s" <sip:%s@%s>
reg_expires=600
reg_sendregister=1
publish=0
dial_escape_plus=0

[auth_info_0]
username=%s
passwd=%s
realm=%s
domain=%s
`, ports["udp"], ports["tcp"], ports["tls"], tlsConf, l.rtpPort, l.rtpHi, l.sipPort+20, l.sipPort+29,
		target, tr, target, tr, user, user, domain, user, pw, domain, domain)
}

// send writes one console command.
func (l *linphone) send(cmd string) {
	l.stdin.SetWriteDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintln(l.stdin, cmd)
}

// mark is the current length of linphonec's output.
func (l *linphone) mark() int { return l.p.LogLen() }

// waitOut waits up to d for re to match the output after mark.
func (l *linphone) waitOut(mark int, d time.Duration, re *regexp.Regexp) ([]string, error) {
	var m []string
	ok := proctest.WaitFor(d, func() bool {
		out := l.p.Log()
		m = re.FindStringSubmatch(out[min(mark, len(out)):])
		return m != nil || !l.p.Running()
	})
	if !ok || m == nil {
		out := l.p.Log()
		return nil, fmt.Errorf("%s: no %q within %v; output since:\n%s", l.name, re, d, proctest.Tail(out[min(mark, len(out)):], 1500))
	}
	return m, nil
}

var registeredRE = regexp.MustCompile(`\bregistered, identity=`)

// waitRegistered asks `status register` every half second for up to d.
func (l *linphone) waitRegistered(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		m := l.mark()
		l.send("status register")
		if _, err := l.waitOut(m, 500*time.Millisecond, registeredRE); err == nil {
			return nil
		}
		if time.Now().After(deadline) || !l.p.Running() {
			return fmt.Errorf("%s not registered within %v; output:\n%s", l.name, d, proctest.Tail(l.p.Log(), 1500))
		}
	}
}

// debug returns the liblinphone log (it has the SIP messages).
func (l *linphone) debug() string {
	b, _ := os.ReadFile(l.debugLog)
	return string(b)
}

// quit sends quit and waits up to 5 s; then kills by PID.
func (l *linphone) quit() {
	if !l.p.Running() {
		return
	}
	l.send("terminate all")
	l.send("quit")
	if !l.p.Wait(5 * time.Second) {
		l.p.Kill()
	}
}

// isRTPPeer checks that addr (ip:port, a phone's RTP peer) is in l's audio
// RTP range.
func (l *linphone) isRTPPeer(addr string) error {
	var port int
	if _, err := fmt.Sscanf(addr, "127.0.0.1:%d", &port); err != nil || port < l.rtpPort || port > l.rtpHi {
		return fmt.Errorf("RTP peer %s is not in %s's audio RTP ports 127.0.0.1:%d-%d", addr, l.name, l.rtpPort, l.rtpHi)
	}
	return nil
}

// autoanswer turns auto-answer on or off and waits until linphonec says so.
func (l *linphone) autoanswer(on bool) error {
	cmd, say := "autoanswer disable", "Auto answer disabled"
	if on {
		cmd, say = "autoanswer enable", "Auto answer enabled"
	}
	m := l.mark()
	l.send(cmd)
	_, err := l.waitOut(m, shortWait, regexp.MustCompile(say))
	return err
}

// logMark is the current length of the liblinphone log.
func (l *linphone) logMark() int { return len(l.debug()) }

// rtpRate is liblinphone's measured RTP bit rate of one call's audio stream
// (kbit/s), as it logs it about once a second at -d 6:
//
//	Bandwidth usage for CallSession [0x5555]:
//		Stream #0 (audio) | cpu: 0.00% | RTP : [d=79.85,u=80.00] RTCP: ...
type rtpRate struct{ down, up float64 }

var bandwidthRE = regexp.MustCompile(`Bandwidth usage for CallSession \[(0x[0-9a-f]+)\]:\s*\n\s*Stream #\d+ \(audio\)[^\n]*RTP : \[d=([0-9.]+),u=([0-9.]+)\]`)

// audioRates returns the last audio rate logged after mark for each call
// session (by its pointer).
func (l *linphone) audioRates(mark int) map[string]rtpRate {
	log := l.debug()
	rates := map[string]rtpRate{}
	for _, m := range bandwidthRE.FindAllStringSubmatch(log[min(mark, len(log)):], -1) {
		var r rtpRate
		fmt.Sscan(m[2], &r.down)
		fmt.Sscan(m[3], &r.up)
		rates[m[1]] = r
	}
	return rates
}

// waitMediaBothWays waits up to d until liblinphone has logged, after mark,
// RTP received and sent on the audio streams of n different calls: its own
// statistics of the other side of each call.
func (l *linphone) waitMediaBothWays(mark, n int, d time.Duration) error {
	var rates map[string]rtpRate
	ok := proctest.WaitFor(d, func() bool {
		rates = l.audioRates(mark)
		both := 0
		for _, r := range rates {
			if r.down > 0 && r.up > 0 {
				both++
			}
		}
		return both >= n || !l.p.Running()
	})
	if !ok || !l.p.Running() {
		return failf("%s: liblinphone's statistics do not show RTP both ways on %d call(s) within %v: %v", l.name, n, d, rates)
	}
	return nil
}

// callRowRE is a row of linphonec's `calls` table: id, remote, state,
// flags, e.g. "1  | sip:alice@example.test | StreamsRunning  | conferencing".
var callRowRE = regexp.MustCompile(`(?m)^(\d+)\s+\|\s+(\S+)\s+\|\s+(\S+)\s+\|\s*(\S*)`)

// waitCalls sends `calls` every half second, up to d, until ok accepts the
// table (rows of id, remote, state, flags); it returns the last table.
func (l *linphone) waitCalls(d time.Duration, ok func(rows [][]string) bool) ([][]string, error) {
	deadline := time.Now().Add(d)
	for {
		m := l.mark()
		l.send("calls")
		var rows [][]string
		if out, err := l.waitOut(m, 500*time.Millisecond, regexp.MustCompile(`(?s)Call states.*?\n-+\n(.*?)linphonec>`)); err == nil {
			for _, r := range callRowRE.FindAllStringSubmatch(out[1], -1) {
				rows = append(rows, r[1:])
			}
			if ok(rows) {
				return rows, nil
			}
		}
		if time.Now().After(deadline) || !l.p.Running() {
			return rows, failf("%s: calls table not as expected within %v: %v", l.name, d, rows)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
