package phones

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/proctest"
	"github.com/parley-sip/parley/test/internal/baresipctl"
)

// baresip 1.0.0 driven over ctrl_tcp (baresipctl), with its SIP trace (-s)
// on stdout. See /work/shared/notes/real-clients.md.

// event is one ctrl_tcp event.
type event = baresipctl.Event

type baresip struct {
	name    string // for messages: "alice/udp"
	p       *proctest.Proc
	ctl     *baresipctl.Client
	sipPort int // UDP and TCP; TLS is sipPort+1
	rtpLo   int
	rtpHi   int
}

// startBaresip starts baresip with its own config dir (empty accounts file,
// ctrl_tcp, g711, ausine source, aubridge player, TLS certificate) and
// connects to ctrl_tcp.
func startBaresip(t *testing.T, bin, name, certBoth string, pp *portPlan) (*baresip, error) {
	return startBaresipWith(t, bin, name, certBoth, pp, false)
}

// videoConfig makes a baresip offer and answer video: the fakevideo source
// (a test pattern) and display, and the vp8 codec. Every call of such a
// phone encodes video, so only the video scenario's phones have it.
const videoConfig = `module fakevideo.so
module vp8.so
video_source fakevideo,nil
video_display fakevideo,nil
`

// startBaresipWith is startBaresip, with video (videoConfig) if video is set.
func startBaresipWith(t *testing.T, bin, name, certBoth string, pp *portPlan, video bool) (*baresip, error) {
	t.Helper()
	dir, err := os.MkdirTemp(t.TempDir(), "baresip-")
	if err != nil {
		return nil, err
	}
	// block: SIP p (udp+tcp), TLS p+1, ctrl p+5, RTP p+10..p+29.
	base, err := pp.block(40, baresipctl.BlockFree)
	if err != nil {
		return nil, err
	}
	cfg := baresipctl.Config{Base: base, Certificate: certBoth,
		Tag: strings.NewReplacer("/", "-").Replace(name) + "-" + strconv.Itoa(base)}
	if video {
		cfg.Extra = videoConfig
	}
	if err := cfg.Write(dir); err != nil {
		return nil, err
	}
	b := &baresip{name: name, sipPort: base, rtpLo: cfg.RTPMin(), rtpHi: cfg.RTPMax()}
	b.p, err = startProc(t, "baresip "+name, nil, nil, bin, "-s", "-f", dir)
	if err != nil {
		return nil, err
	}
	if b.ctl, err = baresipctl.Dial(name, cfg.CtrlAddr(), 10*time.Second, b.p.Done()); err != nil {
		b.p.Kill()
		return nil, fmt.Errorf("baresip %v:\n%s", err, proctest.Tail(b.p.Log(), 2000))
	}
	t.Cleanup(func() { b.ctl.Close() })
	return b, nil
}

// cmd sends a ctrl_tcp command and returns the response's data. A response
// with ok=false is an error.
func (b *baresip) cmd(command, params string) (string, error) { return b.ctl.Do(command, params) }

// mark is the number of events seen so far; waitEvent looks at later ones.
func (b *baresip) mark() int { return b.ctl.Mark() }

// waitEvent waits up to d for an event after mark whose type is typ (or one
// of "A|B") and for which match (if not nil) is true.
func (b *baresip) waitEvent(mark int, d time.Duration, typ string, match func(event) bool) (event, error) {
	return b.ctl.WaitEvent(mark, d, typ, match)
}

// account is a baresip account line for user over tr ("udp", "tcp", "tls")
// with outbound set to Parley's listener for tr.
func account(user, pw, tr, target, answermode string) string {
	return fmt.Sprintf(`<sip:%s@%s;transport=%s>;auth_user=%s;auth_pass=%s;outbound="sip:%s;transport=%s";regint=600;mwi=no;answermode=%s;audio_codecs=PCMU,PCMA;ptime=20`,
		user, domain, tr, user, pw, target, tr, answermode)
}

// register adds the account with uanew and waits for REGISTER_OK.
func (b *baresip) register(user, pw, tr, target, answermode string) error {
	m := b.mark()
	if _, err := b.cmd("uanew", account(user, pw, tr, target, answermode)); err != nil {
		return err
	}
	ev, err := b.waitEvent(m, 10*time.Second, "REGISTER_OK|REGISTER_FAIL", nil)
	if err != nil {
		return err
	}
	if ev.Type() != "REGISTER_OK" {
		return fmt.Errorf("%s: %s %q", b.name, ev.Type(), ev.Param())
	}
	return nil
}

// quit sends quit (baresip un-REGISTERs) and waits up to 5 s for the exit;
// then it is killed by PID.
func (b *baresip) quit() {
	if !b.p.Running() {
		return
	}
	b.ctl.Send("quit", "", 2*time.Second)
	if !b.p.Wait(5 * time.Second) {
		b.p.Kill()
	}
}

// calls returns the number of active calls (from listcalls).
func (b *baresip) calls() (int, error) {
	out, err := b.cmd("listcalls", "")
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`Active calls \((\d+)\)`).FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("%s: listcalls: unexpected output %q", b.name, out)
	}
	return strconv.Atoi(m[1])
}

// hangupAll hangs up until no call is left (bounded), waiting for each
// CALL_CLOSED.
func (b *baresip) hangupAll() {
	for range 6 {
		n, err := b.calls()
		if err != nil || n == 0 {
			return
		}
		m := b.mark()
		b.cmd("hangup", "")
		b.waitEvent(m, 2*time.Second, "CALL_CLOSED", nil)
	}
}

// audioStats is what audio_debug (or video_debug) shows for the current
// call.
type audioStats struct {
	localPort int            // our RTP port
	remote    string         // RTP peer from the SDP (ip:port)
	rcvd      map[string]int // RTCP member address → packets received from it
	tx        int            // packets sent
	raw       string
}

var (
	adLocalRE  = regexp.MustCompile(`local: [0-9.]+:(\d+), remote: ([0-9.]+:\d+)`)
	adMemberRE = regexp.MustCompile(`IP=([0-9.]+:\d+) psent=\d+ rcvd=(\d+)`)
	adTxRE     = regexp.MustCompile(`TX: packets=(\d+)`)
)

func (b *baresip) audioDebug() (audioStats, error) { return b.streamDebug("audio") }

// videoDebug is audioDebug for the video stream (same format).
func (b *baresip) videoDebug() (audioStats, error) { return b.streamDebug("video") }

// streamDebug runs audio_debug or video_debug (kind "audio" or "video").
func (b *baresip) streamDebug(kind string) (audioStats, error) {
	out, err := b.cmd(kind+"_debug", "")
	if err != nil {
		return audioStats{}, err
	}
	st := audioStats{rcvd: map[string]int{}, raw: out}
	m := adLocalRE.FindStringSubmatch(out)
	if m == nil {
		return st, fmt.Errorf("%s: %s_debug without local/remote: %q", b.name, kind, out)
	}
	st.localPort, _ = strconv.Atoi(m[1])
	st.remote = m[2]
	for _, mm := range adMemberRE.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(mm[2])
		st.rcvd[mm[1]] += n
	}
	if mm := adTxRE.FindStringSubmatch(out); mm != nil {
		st.tx, _ = strconv.Atoi(mm[1])
	}
	return st, nil
}

// sipMsg is one message of baresip's SIP trace.
type sipMsg struct {
	proto, src, dst string
	start           string              // request or status line
	hdr             map[string][]string // lower-case names
	body            string
}

func (m sipMsg) isResponse() bool { return strings.HasPrefix(m.start, "SIP/2.0 ") }

// code is the status code of a response (0 for a request).
func (m sipMsg) code() int {
	if !m.isResponse() {
		return 0
	}
	f := strings.Fields(m.start)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// method is the method of a request, or the CSeq method of a response.
func (m sipMsg) method() string {
	if !m.isResponse() {
		return strings.Fields(m.start)[0]
	}
	return m.cseqMethod()
}

func (m sipMsg) cseqMethod() string {
	f := strings.Fields(m.get("cseq"))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

func (m sipMsg) cseqNum() int {
	f := strings.Fields(m.get("cseq"))
	if len(f) < 1 {
		return 0
	}
	n, _ := strconv.Atoi(f[0])
	return n
}

func (m sipMsg) get(name string) string {
	if v := m.hdr[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (m sipMsg) callID() string { return m.get("call-id") }

// String is a short form for messages: "UDP a -> b: INVITE sip:... (CSeq 1 INVITE)".
func (m sipMsg) String() string {
	return fmt.Sprintf("%s %s -> %s: %s (CSeq %s)", m.proto, m.src, m.dst, m.start, m.get("cseq"))
}

// full is the message as traced, with its transport line.
func (m sipMsg) full() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s -> %s\n%s\n", m.proto, m.src, m.dst, m.start)
	for k, vs := range m.hdr {
		for _, v := range vs {
			fmt.Fprintf(&sb, "%s: %s\n", k, v)
		}
	}
	if m.body != "" {
		sb.WriteString("\n" + m.body)
	}
	return sb.String()
}

const (
	traceOpen  = "\x1b[36;1m#\n"
	traceClose = "\x1b[;m"
)

// trace parses every complete SIP message baresip printed so far.
func (b *baresip) trace() []sipMsg {
	var msgs []sipMsg
	parts := strings.Split(b.p.Log(), traceOpen)
	for _, part := range parts[1:] {
		end := strings.Index(part, traceClose)
		if end < 0 {
			continue
		}
		part = strings.ReplaceAll(part[:end], "\r\n", "\n")
		nl := strings.IndexByte(part, '\n')
		if nl < 0 {
			continue
		}
		f := strings.Fields(part[:nl]) // UDP 127.0.0.1:a -> 127.0.0.1:b
		if len(f) != 4 {
			continue
		}
		m := sipMsg{proto: f[0], src: f[1], dst: f[3], hdr: map[string][]string{}}
		head, body, _ := strings.Cut(part[nl+1:], "\n\n")
		lines := strings.Split(head, "\n")
		m.start = lines[0]
		for _, l := range lines[1:] {
			k, v, ok := strings.Cut(l, ":")
			if !ok {
				continue
			}
			m.hdr[strings.ToLower(strings.TrimSpace(k))] = append(m.hdr[strings.ToLower(strings.TrimSpace(k))], strings.TrimSpace(v))
		}
		m.body = strings.TrimRight(body, "\n")
		if m.start == "" {
			continue
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// traceMark is the number of SIP messages traced so far.
func (b *baresip) traceMark() int { return len(b.trace()) }

// sent reports whether the phone sent m (as opposed to received it): it
// went to one of Parley's listeners or left from the phone's own SIP ports.
func (b *baresip) sent(s *parley, m sipMsg) bool {
	if s.isParley(m.dst) {
		return true
	}
	own := []string{fmt.Sprintf("127.0.0.1:%d", b.sipPort), fmt.Sprintf("127.0.0.1:%d", b.sipPort+1)}
	return m.src == own[0] || m.src == own[1]
}

// findMsg waits up to d for a traced message after mark for which match is
// true.
func (b *baresip) findMsg(mark int, d time.Duration, match func(sipMsg) bool) (sipMsg, bool) {
	var found sipMsg
	ok := proctest.WaitFor(d, func() bool {
		msgs := b.trace()
		for _, m := range msgs[min(mark, len(msgs)):] {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, ok
}

// traceSummary lists the start lines of the traced messages after mark,
// with their direction, for failure reasons.
func (b *baresip) traceSummary(s *parley, mark int) string {
	msgs := b.trace()
	var out []string
	for _, m := range msgs[min(mark, len(msgs)):] {
		dir := "<-"
		if b.sent(s, m) {
			dir = "->"
		}
		out = append(out, fmt.Sprintf("%s %s [%s]", dir, m.start, m.get("cseq")))
	}
	return strings.Join(out, "; ")
}
