package webrtc

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/proctest"
	"github.com/parley-sip/parley/test/internal/baresipctl"
)

// baresip 1.0.0 as a plain SIP phone (RTP/AVP over UDP, PCMU, a 440 Hz sine
// as microphone), driven through its ctrl_tcp module (baresipctl), as
// test/phones does; see /work/shared/notes/real-clients.md. Its methods fail
// the test on an error.

type baresip struct {
	t   *testing.T
	p   *proctest.Proc
	ctl *baresipctl.Client
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
	cfg := baresipctl.Config{Base: baresipctl.FreeBase()}
	if cfg.Base == 0 {
		t.Fatal("no free port block for baresip")
	}
	p, ctl, err := cfg.Start("baresip", bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := &baresip{t: t, p: p, ctl: ctl}
	t.Cleanup(b.stop)
	return b
}

// stop un-REGISTERs and quits (5 s), then kills by PID; the log goes to
// the test output when the test failed.
func (b *baresip) stop() {
	if b.p.Running() && b.ctl != nil {
		b.ctl.Send("quit", "", 2*time.Second)
	}
	if !b.p.Wait(5 * time.Second) {
		b.p.Kill()
	}
	summary := ""
	if b.ctl != nil {
		b.ctl.Close()
		summary = b.ctl.Summary(0)
	}
	if b.t.Failed() || os.Getenv("WEBRTC_LOG") != "" {
		b.t.Logf("baresip log:\n%s\nevents: %s", proctest.TailLines(b.p.Log(), 80), summary)
	}
}

// do sends a ctrl_tcp command and returns its response text.
func (b *baresip) do(command, params string) string {
	b.t.Helper()
	out, err := b.ctl.Do(command, params)
	if err != nil {
		b.t.Fatal(err)
	}
	return out
}

func (b *baresip) mark() int { return b.ctl.Mark() }

// wait waits up to d for an event after mark of one of the types "A|B".
func (b *baresip) wait(mark int, d time.Duration, types string) baresipctl.Event {
	b.t.Helper()
	e, err := b.ctl.WaitEvent(mark, d, types, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return e
}

// register adds user's account (UDP to Parley's udp listener, digest with
// the test password) and waits for REGISTER_OK.
func (b *baresip) register(user string, parley string, answermode string) {
	b.t.Helper()
	m := b.mark()
	b.do("uanew", fmt.Sprintf(`<sip:%s@%s;transport=udp>;auth_user=%s;auth_pass=%s;outbound="sip:%s;transport=udp";regint=600;mwi=no;answermode=%s;audio_codecs=PCMU,PCMA;ptime=20`,
		user, domain, user, passwords[user], parley, answermode))
	if e := b.wait(m, regWait, "REGISTER_OK|REGISTER_FAIL"); e.Type() != "REGISTER_OK" {
		b.t.Fatalf("baresip %s: %v %v", user, e.Type(), e.Param())
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
