package browser

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/proctest"
	"github.com/parley-sip/parley/test/internal/baresipctl"
)

// start starts cmd; it is ended by its PID when the test ends (SIGTERM, then
// SIGKILL after 3 s), and its output is logged if the test failed.
func start(t *testing.T, name string, cmd *exec.Cmd) *proctest.Proc {
	t.Helper()
	p, err := proctest.Start(name, cmd)
	if err != nil {
		t.Fatal(err)
	}
	stopAtEnd(t, name, p)
	return p
}

// stopAtEnd stops p when the test ends (SIGTERM, SIGKILL after 3 s)
// and logs the end of its output when the test failed.
func stopAtEnd(t *testing.T, name string, p *proctest.Proc) {
	t.Cleanup(func() {
		p.Stop(3 * time.Second)
		if t.Failed() {
			t.Logf("--- %s output (last 6000 bytes):\n%s", name, proctest.Tail(p.Log(), 6000))
		}
	})
}

// freePort returns a port that was free for TCP and UDP on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	for range 64 {
		p := 20000 + rand.IntN(30000)
		if proctest.PortsFree([]int{p}, []int{p}) {
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

// baresip is one baresip 1.0 phone driven over ctrl_tcp (baresipctl); see
// /work/shared/notes/real-clients.md. Its SIP port is UDP and TCP, the next
// one its TLS listener; baresipctl.Config has the rest of the layout.
type baresip struct {
	*baresipctl.Client
	p *proctest.Proc
}

func startBaresip(t *testing.T, bin, name string) *baresip {
	t.Helper()
	port := baresipctl.FreeBase()
	if port == 0 {
		t.Fatal("no free ports for baresip")
	}
	cfg := baresipctl.Config{Base: port, Tag: name + "-" + strconv.Itoa(port)}
	p, ctl, err := cfg.Start("baresip "+name, bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stopAtEnd(t, "baresip "+name, p)
	b := &baresip{Client: ctl, p: p}
	t.Cleanup(func() { b.quit(); b.Close() })
	return b
}

// register adds the account (outbound proxy: Parley's UDP listener) and waits for REGISTER_OK.
func (b *baresip) register(user, password, target, answermode string) error {
	m := b.Mark()
	acct := fmt.Sprintf(`<sip:%s@example.test;transport=udp>;auth_user=%s;auth_pass=%s;outbound="sip:%s;transport=udp";regint=600;mwi=no;answermode=%s;audio_codecs=PCMU,PCMA;ptime=20`,
		user, user, password, target, answermode)
	if _, err := b.Do("uanew", acct); err != nil {
		return err
	}
	ev, err := b.WaitEvent(m, 10*time.Second, "REGISTER_OK|REGISTER_FAIL", nil)
	if err != nil {
		return err
	}
	if ev.Type() != "REGISTER_OK" {
		return fmt.Errorf("baresip %s: %v %v", user, ev.Type(), ev.Param())
	}
	return nil
}

// quit un-registers and exits (bounded); the process is then stopped by PID.
func (b *baresip) quit() {
	if !b.p.Running() {
		return
	}
	b.Send("quit", "", time.Second)
	if !b.p.Wait(3 * time.Second) {
		b.p.Stop(3 * time.Second)
	}
}
