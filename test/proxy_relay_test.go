package test

import (
	"context"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/app"
	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/transport"
)

// TestProxyRFC3261s16_12_ForgedInDialog: a request with a To tag is not
// challenged (it belongs to a dialog authenticated when it was set up), so
// Parley relays it on the word of its route set only when the top Route is
// one of its own Record-Routes whose signature checks (§16.4, §16.12; the
// flow tokens of RFC 5626 §5.2). A forged one is no way through Parley: a
// foreign Route gets 403 (no open relay), any other target that is not a
// user of ours 404, and nothing reaches the target.
func TestProxyRFC3261s16_12_ForgedInDialog(t *testing.T) {
	s := proxyServer(t, nil)
	mallory := newPhone(t, s, "udp", uniq("mallory"))
	victim := newPhone(t, s, "udp", uniq("victim")) // any UA Parley can reach; not registered
	parley := "<sip:" + s.addr(t, "udp").String() + ";lr>"
	foreign := "<sip:" + victim.local.String() + ";lr>"
	for _, tc := range []struct {
		name   string
		from   string   // From of the forged request; ours is not believed inside a dialog either
		route  []string // its route set
		method string
		want   int
	}{
		{"foreign Route, foreign From", "sip:mallory@evil.test", []string{foreign}, "BYE", 403},
		{"foreign Route, From of ours", mallory.aor(), []string{foreign}, "BYE", 403},
		{"foreign Route behind Parley's", mallory.aor(), []string{parley, foreign}, "INFO", 403},
		{"Parley's Route without flows, foreign target", mallory.aor(), []string{parley}, "BYE", 404},
		{"no Route, foreign target", "sip:mallory@evil.test", nil, "MESSAGE", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mallory.call(victim.contact())
			d.localURI, d.remoteTag, d.route = tc.from, "forged"+randHex(3), tc.route
			d.send(t, tc.method, msgOpts{ctype: "text/plain", body: "spam"})
			if res := mallory.final(t, tc.method); res.code() != tc.want {
				t.Errorf("forged in-dialog %s got %q, want %d", tc.method, res.start, tc.want)
			}
			d.send(t, "ACK", msgOpts{}) // an ACK is never answered: it must just go nowhere
			victim.none(t, quietPeriod, "a forged request relayed", func(m *sipMsg) bool { return m.isRequest() })
		})
	}
}

// TestProxyRFC5626s5_2_ForgedFlowToken: the flows in Parley's Record-Route
// (pf, pt: transport, address, port, connection) are signed with the
// server's secret over the dialog's Call-ID. A Route whose flows were
// changed, left unsigned, or lifted from another dialog is never used to pick
// a connection: bob, on TCP, gets nothing down his connection, while the
// real dialog's requests still reach him.
func TestProxyRFC5626s5_2_ForgedFlowToken(t *testing.T) {
	s := proxyServer(t, nil)
	alice, bob := pair(t, s, "udp", "tcp")
	call, _ := establish(t, s, alice, bob)
	mallory := newPhone(t, s, "udp", uniq("mallory"))
	malloryFlow := "udp~" + strings.ReplaceAll(mallory.local.String(), ":", "~") + "~0"
	rePF := regexp.MustCompile(`;pf=[^;>]*`)
	rePS := regexp.MustCompile(`;ps=[^;>]*`)
	for _, tc := range []struct {
		name   string
		edit   func(string) string // applied to each Route value of alice's route set
		callID string              // "" keeps the real one
	}{
		{"caller's flow replaced by mallory's", func(r string) string { return rePF.ReplaceAllString(r, ";pf="+malloryFlow) }, ""},
		{"signature removed", func(r string) string { return rePS.ReplaceAllString(r, "") }, ""},
		{"signature of another process forged", func(r string) string {
			return rePS.ReplaceAllString(rePF.ReplaceAllString(r, ";pf="+malloryFlow), ";ps=00000001.AAAAAAAAAAAAAAAA")
		}, ""},
		{"real Route, another dialog", func(r string) string { return r }, randHex(8) + "@evil.invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := mallory.call(bob.contact())
			d.localURI, d.remoteURI, d.remoteTag = alice.aor(), bob.aor(), call.remoteTag
			d.callID = call.callID
			if tc.callID != "" {
				d.callID = tc.callID
			}
			for _, r := range call.route {
				d.route = append(d.route, tc.edit(r))
			}
			d.send(t, "BYE", msgOpts{})
			if res := mallory.final(t, "BYE"); res.code() != 404 {
				t.Errorf("BYE with a forged flow got %q, want 404 Not Here", res.start)
			}
			bob.none(t, quietPeriod, "a BYE down bob's connection", isRequest("BYE"))
			alice.none(t, 0, "a BYE to the caller", isRequest("BYE"))
		})
	}
	t.Run("the real dialog still works", func(t *testing.T) {
		call.send(t, "INVITE", sdp(true)) // re-INVITE adding video
		in := bob.request(t, "INVITE")
		checkInDialog(t, s, bob, alice, in)
		bob.reply(t, in, 200, "OK", sdp(true))
		ok := alice.response(t, 200, "INVITE")
		call.confirm(ok)
		call.ack(t)
		bob.request(t, "ACK")
		hangup(t, call, bob, alice)
	})
}

// TestProxyRFC3261s16_12_RecordRouteAfterRestart: the key that signs the
// flows of Record-Route URIs is made once and kept in the database, so a
// dialog set up before a restart is still routed after it (and an instance
// sharing the database would route it too). A graceful stop hangs the call
// up with a BYE to both phones; these phones ignore it, as if it were lost
// (or as after a crash, when no BYE goes out), so the dialog lives on at the
// phones and the restarted Parley, which never saw it, must route it.
func TestProxyRFC3261s16_12_RecordRouteAfterRestart(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
	s1 := startAt(t, dsn, "udp:127.0.0.1:0")
	alice, bob := pair(t, s1, "udp", "udp")
	call, bd := establish(t, s1, alice, bob)
	stopApp(t, s1.app)
	for _, p := range []*phone{alice, bob} {
		if bye := p.wait(t, p.user+": Parley's BYE at shutdown", isRequest("BYE")); !strings.Contains(bye.get("Reason"), "shutting down") {
			t.Errorf("%s: BYE at shutdown with Reason %q", p.user, bye.get("Reason"))
		}
	}
	s2 := startAt(t, dsn, "udp:"+s1.addr(t, "udp").String()) // same address, as after a restart
	t.Cleanup(func() { stopApp(t, s2.app) })
	t.Run("INFO from the caller", func(t *testing.T) {
		call.send(t, "INFO", hdr("Content-Type: application/dtmf-relay"))
		info := bob.request(t, "INFO")
		checkInDialog(t, s2, bob, alice, info)
		bob.reply(t, info, 200, "OK", msgOpts{})
		alice.response(t, 200, "INFO")
	})
	t.Run("BYE from the callee", func(t *testing.T) {
		hangup(t, bd, alice, bob)
	})
}

// startAt starts an App on the listener spec and database dsn, without the
// cleanup of startServer: the caller stops it with stopApp.
func startAt(t *testing.T, dsn, listen string) *server {
	t.Helper()
	cfg := config.Default()
	cfg.Listen, cfg.HTTP, cfg.DB = []string{listen}, "off", dsn
	cfg.Domain = []string{"example.test"}
	cfg.Auth.Enabled = false
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	var a *app.App
	var err error
	for range 20 { // the port of a server just stopped may take a moment to be free
		if a, err = app.New(cfg, nil, nil); err != nil {
			t.Fatalf("app.New: %v", err)
		}
		if err = a.Start(); err == nil {
			break // (a failed Start has closed what New opened)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	s := &server{app: a, cfg: cfg, addrs: map[string]netip.AddrPort{}, paths: map[string]string{}}
	for _, ln := range a.SIP().Transport().Listeners() {
		if ln.Proto() == transport.UDP {
			s.addrs["udp"] = ln.Addr()
		}
	}
	return s
}

func stopApp(t *testing.T, a *app.App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
