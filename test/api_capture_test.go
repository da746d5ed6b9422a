package test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
)

type apiCaptured struct {
	Time      time.Time `json:"time"`
	Dir       string    `json:"dir"`
	Transport string    `json:"transport"`
	Local     string    `json:"local"`
	Remote    string    `json:"remote"`
	FirstLine string    `json:"first_line"`
	CallID    string    `json:"call_id"`
	Message   string    `json:"message"`
}

type apiCapturedCall struct {
	CallID string    `json:"call_id"`
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
	Method string    `json:"method"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Count  int       `json:"count"`
}

// TestAPICapture: the messages of a challenged REGISTER over UDP and of a
// call are in the capture buffer, in time order, with direction, transport,
// both addresses, first line, Call-ID and the whole message; the recent
// Call-IDs are listed with their first method and message count.
func TestAPICapture(t *testing.T) {
	e := startAPI(t, serverOpts{auth: true})
	e.call(t, "POST", "/api/v1/users", map[string]string{"aor": "zoe@example.test", "password": testPassword}).want(t, 201)
	c := dial(t, e.server, "udp")
	r := newRegisterer(c, "zoe")
	r.mustRegister(t, contact("sip:zoe@"+c.local.String(), ""))

	got := apiGetList[apiCaptured](t, e, "/api/v1/capture?call_id="+r.callID)
	want := []struct{ dir, first string }{
		{"in", "REGISTER sip:example.test SIP/2.0"}, {"out", "SIP/2.0 401 Unauthorized"},
		{"in", "REGISTER sip:example.test SIP/2.0"}, {"out", "SIP/2.0 200 OK"},
	}
	if len(got.Items) != len(want) || got.Total != len(want) {
		t.Fatalf("captured %+v", got)
	}
	server := e.addr(t, "udp").String()
	for i, w := range want {
		m := got.Items[i]
		if m.Dir != w.dir || m.FirstLine != w.first || m.Transport != "UDP" || m.Local != server ||
			m.Remote != c.local.String() || m.CallID != r.callID || !strings.HasPrefix(m.Message, w.first+"\r\n") ||
			!strings.HasSuffix(m.Message, "\r\n\r\n") || time.Since(m.Time) > time.Minute ||
			i > 0 && m.Time.Before(got.Items[i-1].Time) {
			t.Errorf("message %d: %+v, want %s %q", i, m, w.dir, w.first)
		}
	}
	if !strings.Contains(got.Items[2].Message, "Authorization: Digest") {
		t.Errorf("the second REGISTER lost its Authorization:\n%s", got.Items[2].Message)
	}

	calls := apiGetList[apiCapturedCall](t, e, "/api/v1/capture/calls")
	if calls.Total != 1 || len(calls.Items) != 1 {
		t.Fatalf("capture calls: %+v", calls)
	}
	if cc := calls.Items[0]; cc.CallID != r.callID || cc.Method != "REGISTER" || cc.Count != 4 ||
		cc.From == "" || !strings.Contains(cc.To, "sip:zoe@example.test") || cc.Last.Before(cc.First) {
		t.Errorf("capture call %+v", cc)
	}
	if l := apiGetList[apiCaptured](t, e, "/api/v1/capture?call_id=unknown"); l.Total != 0 || l.Items == nil {
		t.Errorf("unknown Call-ID: %+v", l)
	}
	if l := apiGetList[apiCaptured](t, e, "/api/v1/capture?limit=2"); l.Total != 4 || len(l.Items) != 2 ||
		l.Items[1].FirstLine != "SIP/2.0 200 OK" {
		t.Errorf("the last 2 messages: %+v", l)
	}
	if l := apiGetList[apiCaptured](t, e, "/api/v1/capture?call_id="+r.callID+"&limit=1"); l.Total != 4 || len(l.Items) != 1 ||
		l.Items[0].FirstLine != "SIP/2.0 200 OK" {
		t.Errorf("call_id with limit=1: %+v", l)
	}
	for _, q := range []string{"/api/v1/capture?limit=0", "/api/v1/capture?limit=x", "/api/v1/capture/calls?limit=1001"} {
		e.call(t, "GET", q, nil).wantError(t, http.StatusBadRequest, "limit")
	}
}

// TestAPICaptureCall: a call's ladder: INVITE in from the caller, 100 out,
// INVITE out to the callee, 180 and 200 in and out, ACKs, BYEs.
func TestAPICaptureCall(t *testing.T) {
	e := startAPI(t, serverOpts{})
	alice, bob := newAPIUA(t, e.server, "alice"), newAPIUA(t, e.server, "bob")
	call := startCall(t, alice, bob)
	var ladder []string
	for _, m := range apiGetList[apiCaptured](t, e, "/api/v1/capture?call_id="+call.callID).Items {
		who := "alice"
		if m.Remote == bob.c.local.String() {
			who = "bob"
		}
		ladder = append(ladder, m.Dir+" "+who+" "+strings.Join(strings.Fields(m.FirstLine)[:2], " "))
	}
	want := []string{
		"in alice INVITE " + bob.aor(), "out alice SIP/2.0 100", "out bob INVITE " + bob.contact(),
		"in bob SIP/2.0 180", "out alice SIP/2.0 180", "in bob SIP/2.0 200", "out alice SIP/2.0 200",
		"in alice ACK " + bob.contact(), "out bob ACK " + bob.contact(),
	}
	if strings.Join(ladder, "\n") != strings.Join(want, "\n") {
		t.Errorf("ladder:\n%s\nwant:\n%s", strings.Join(ladder, "\n"), strings.Join(want, "\n"))
	}
	calls := apiGetList[apiCapturedCall](t, e, "/api/v1/capture/calls")
	if len(calls.Items) != 3 || calls.Items[0].CallID != call.callID || calls.Items[0].Method != "INVITE" || calls.Items[0].Count != 9 {
		t.Errorf("capture calls (the call, then the two registrations): %+v", calls)
	}
}

// TestAPICaptureOff: limits.capture_messages: 0 turns capture off; the
// endpoints say so.
func TestAPICaptureOff(t *testing.T) {
	e := startAPI(t, serverOpts{edit: func(c *config.Config) { c.Limits.CaptureMessages = 0 }})
	c := dial(t, e.server, "udp")
	c.send(optionsTo("sip:example.test"))
	final(t, c)
	e.call(t, "GET", "/api/v1/capture", nil).wantError(t, http.StatusNotFound, "capture is off")
	e.call(t, "GET", "/api/v1/capture/calls", nil).wantError(t, http.StatusNotFound, "capture is off")
}

// TestAPICaptureBounded: the buffer keeps the last limits.capture_messages messages.
func TestAPICaptureBounded(t *testing.T) {
	e := startAPI(t, serverOpts{edit: func(c *config.Config) { c.Limits.CaptureMessages = 5 }})
	c := dial(t, e.server, "udp")
	var last string
	for range 4 {
		last = c.send(optionsTo("sip:example.test"))
		final(t, c)
	}
	l := apiGetList[apiCaptured](t, e, "/api/v1/capture")
	callID, _ := header(last, "Call-ID", "i")
	if l.Total != 5 || len(l.Items) != 5 || l.Items[3].CallID != callID || l.Items[4].Dir != "out" {
		t.Errorf("capture of 5 after 8 messages: %+v", l)
	}
}
