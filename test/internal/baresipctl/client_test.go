package baresipctl

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestReadNetstring(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string // the decoded "type", or the error's text
		wantErr bool
	}{
		{`26:{"event":true,"type":"X1"},`, "X1", false},
		{` 26:{"event":true,"type":"X2"},`, "X2", false},
		{`x:{}`, "bad netstring length", true},
		{`-1:{}`, "bad netstring length", true},
		{`99999999:{}`, "bad netstring length", true},
		{`2:{};`, "without ','", true},
		{`5:{}`, "EOF", true},
		{`2:[],`, "cannot unmarshal", true},
	} {
		m, err := readNetstring(bufio.NewReader(strings.NewReader(tc.in)))
		switch {
		case tc.wantErr && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: err = %v, want one with %q", tc.in, err, tc.want)
		case !tc.wantErr && (err != nil || Event(m).Type() != tc.want):
			t.Errorf("%q: %v, %v; want type %s", tc.in, m, err, tc.want)
		}
	}
}

func TestConfigText(t *testing.T) {
	c := Config{Base: 30000, Certificate: "/tmp/both.pem", Extra: "module vp8.so\n"}
	got := c.text()
	for _, want := range []string{"sip_listen 127.0.0.1:30000\nsip_certificate /tmp/both.pem\nnet_interface",
		"rtp_ports 30010-30029\n", "ctrl_tcp_listen 127.0.0.1:30005\n", "audio_player aubridge,nowhere-30000\n",
		"ausrc_channels 2\nmodule vp8.so\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("config lacks %q:\n%s", want, got)
		}
	}
	if got := (Config{Base: 1, Tag: "bob-1"}).text(); strings.Contains(got, "sip_certificate") || !strings.Contains(got, "nowhere-bob-1\n") {
		t.Errorf("without certificate, tag bob-1:\n%s", got)
	}
}

// TestClientWithBaresip drives a real baresip: a command's response, a
// failing command, an event wait that times out, and ctrl_tcp closing when
// baresip quits (a wait then gives up at once, a command fails).
func TestClientWithBaresip(t *testing.T) {
	bin, err := exec.LookPath("baresip")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("baresip not installed (apt-get install baresip): %v", err)
		}
		t.Skip("baresip not installed (apt-get install baresip)")
	}
	cfg := Config{Base: FreeBase()}
	if cfg.Base == 0 {
		t.Fatal("no free ports for baresip")
	}
	p, c, err := cfg.Start("test", bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("baresip output:\n%s", p.Log())
		}
	})
	defer c.Close()

	// baresip 1.0.0 answers "--- No active calls ---" when there are none.
	if out, err := c.Do("listcalls", ""); err != nil || !strings.Contains(out, "No active calls") {
		t.Errorf("listcalls: %q, %v; want No active calls", out, err)
	}
	if _, err := c.Do("uadel", "sip:nobody@example.test"); err == nil || !strings.HasPrefix(err.Error(), "test: command uadel") {
		t.Errorf("uadel of no account: err = %v, want a failed command", err)
	}
	m := c.Mark()
	if ev, err := c.WaitEvent(m, 0, "CALL_CLOSED|CALL_INCOMING", nil); ev != nil || err == nil || !strings.Contains(err.Error(), "no CALL_CLOSED|CALL_INCOMING event") {
		t.Errorf("WaitEvent with no event: %v, %v", ev, err)
	}

	if err := c.Send("quit", "", time.Second); err != nil {
		t.Fatal(err)
	}
	if !p.Wait(5 * time.Second) {
		t.Fatal("baresip did not exit within 5 s of quit")
	}
	start := time.Now()
	if _, err := c.WaitEvent(m, 10*time.Second, "CALL_CLOSED", nil); err == nil || !strings.Contains(err.Error(), "ctrl_tcp: ") {
		t.Errorf("WaitEvent after quit: err = %v, want one naming the closed ctrl_tcp", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("WaitEvent on a closed ctrl_tcp took %v, want it to give up at once", took)
	}
	if _, err := c.Do("listcalls", ""); err == nil {
		t.Error("Do after quit succeeded")
	}
}
