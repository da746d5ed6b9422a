package test

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-sip/parley/internal/config"
)

// scrapeMetrics GETs /metrics without a session and returns the samples,
// "name{labels}" -> value.
func scrapeMetrics(t *testing.T, e *apiEnv) map[string]float64 {
	t.Helper()
	r := e.callAs(t, "", "GET", "/metrics", nil).want(t, http.StatusOK)
	if ct := r.hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("/metrics Content-Type %q", ct)
	}
	out := map[string]float64{}
	for l := range strings.SplitSeq(string(r.body), "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", l, err)
		}
		out[l[:i]] = v
	}
	return out
}

// wantSamples fails for each sample that is absent or below its minimum.
func wantSamples(t *testing.T, got map[string]float64, min map[string]float64) {
	t.Helper()
	for _, k := range short(got, min) {
		t.Errorf("%s = %v (present %v), want >= %v", k, got[k], hasKey(got, k), min[k])
	}
}

// wantMetrics scrapes until every sample in min is reached (a message is
// counted just after it is written, so a peer may see it before /metrics
// does), then checks once more with wantSamples.
func wantMetrics(t *testing.T, e *apiEnv, min map[string]float64) map[string]float64 {
	t.Helper()
	var got map[string]float64
	waitFor(replyTimeout, func() bool { got = scrapeMetrics(t, e); return len(short(got, min)) == 0 })
	wantSamples(t, got, min)
	return got
}

func hasKey(m map[string]float64, k string) bool { _, ok := m[k]; return ok }

// short lists the samples of min that got lacks or has below their minimum.
func short(got, min map[string]float64) []string {
	var out []string
	for k, lo := range min {
		if v, ok := got[k]; !ok || v < lo {
			out = append(out, k)
		}
	}
	return out
}

// TestAPIMetrics: after a registration with a challenge, a wrong password,
// an INVITE, an OPTIONS and a call, /metrics (no session needed) has every
// family Parley defines, with the values this traffic explains.
func TestAPIMetrics(t *testing.T) {
	e := startAPI(t, serverOpts{auth: true})
	e.call(t, "POST", "/api/v1/users", map[string]string{"aor": "mia@example.test", "password": testPassword}).want(t, 201)
	c := dial(t, e.server, "udp")
	newRegisterer(c, "mia").mustRegister(t, contact("sip:mia@"+c.local.String(), ""))
	wrong := newRegisterer(c, "mia")
	wrong.pw = "not-the-password"
	if resp := wrong.register(t, ""); statusCode(resp) != 403 {
		t.Fatalf("wrong password: %s", resp)
	}
	c.send(base("INVITE", "sip:nobody@example.test", "INVITE", "")) // challenged: 407 is its first response
	if resp := final(t, c); statusCode(resp) != 407 {
		t.Fatalf("INVITE: %s", resp)
	}
	c.send(optionsTo("sip:example.test"))
	final(t, c)
	tcp := dial(t, e.server, "tcp")
	tcp.send(optionsTo("sip:example.test"))
	final(t, tcp)

	m := wantMetrics(t, e, map[string]float64{
		`parley_sip_requests_total{method="REGISTER"}`:                                   4,
		`parley_sip_requests_total{method="INVITE"}`:                                     1,
		`parley_sip_requests_total{method="OPTIONS"}`:                                    2,
		`parley_sip_requests_total{method="other"}`:                                      0,
		`parley_sip_responses_total{code="401",method="REGISTER"}`:                       2,
		`parley_sip_responses_total{code="200",method="REGISTER"}`:                       1,
		`parley_sip_responses_total{code="403",method="REGISTER"}`:                       1,
		`parley_sip_responses_total{code="100",method="INVITE"}`:                         1,
		`parley_sip_responses_total{code="407",method="INVITE"}`:                         1,
		`parley_sip_responses_total{code="200",method="OPTIONS"}`:                        2,
		`parley_sip_invite_first_response_seconds_count`:                                 1,
		`parley_sip_invite_first_response_seconds_bucket{le="+Inf"}`:                     1,
		`parley_sip_transactions`:                                                        0,
		`parley_sip_transactions_created_total{kind="server"}`:                           5, // the 2 challenged REGISTERs are screened
		`parley_sip_requests_screened_total`:                                             2,
		`parley_sip_transactions_created_total{kind="client"}`:                           0,
		`parley_sip_transaction_timeouts_total`:                                          0,
		`parley_sip_retransmissions_total{direction="received"}`:                         0,
		`parley_sip_retransmissions_total{direction="sent"}`:                             0,
		`parley_sip_transactions_rejected_total`:                                         0,
		`parley_sip_transactions_shed_total`:                                             0,
		`parley_sip_parse_errors_total`:                                                  0,
		`parley_sip_messages_dropped_total{reason="malformed"}`:                          0,
		`parley_sip_messages_dropped_total{reason="stray_response"}`:                     0,
		`parley_sip_handler_panics_total`:                                                0,
		`parley_transport_messages_total{direction="in",transport="udp"}`:                6,
		`parley_transport_messages_total{direction="out",transport="udp"}`:               7,
		`parley_transport_messages_total{direction="in",transport="tcp"}`:                1,
		`parley_transport_connections{transport="tcp"}`:                                  1,
		`parley_transport_connections_opened_total{direction="inbound",transport="tcp"}`: 1,
		`parley_transport_keepalives_total{transport="udp"}`:                             0,
		`parley_transport_messages_dropped_total{reason="garbage",transport="udp"}`:      0,
		`parley_transport_connections_refused_total{transport="tcp"}`:                    0,
		`parley_transport_handshake_failures_total{transport="tls"}`:                     0,
		`parley_transport_send_queue_full_total{transport="tcp"}`:                        0,
		`parley_transport_send_errors_total{transport="tcp"}`:                            0,
		`parley_sip_send_errors_total`:                                                   0,
		`parley_auth_stale_credentials_total`:                                            0,
		`parley_tls_certificate_reloads_total{result="ok"}`:                              0,
		`parley_registrations`:                                                           1,
		`parley_calls_active{state="confirmed"}`:                                         0,
		`parley_calls_total{disposition="answered"}`:                                     0,
		`parley_auth_challenges_total{stale="false"}`:                                    3,
		`parley_auth_accepted_total`:                                                     1,
		`parley_auth_failures_total{reason="wrong_credentials"}`:                         1,
		`parley_auth_nonces`:                                                             1,
		`parley_build_info{version="0.1.0-dev"}`:                                         1,
		`go_goroutines`:                                                                  1,
		`process_open_fds`:                                                               1,
	})
	if t.Failed() {
		t.Logf("scraped: %v", m)
	}
	// Garbage on UDP is counted by the transport layer.
	c.sendRaw([]byte("\x16\x03\x01 not SIP"))
	if !waitFor(replyTimeout, func() bool {
		return scrapeMetrics(t, e)[`parley_transport_messages_dropped_total{reason="garbage",transport="udp"}`] == 1
	}) {
		t.Error("garbage datagram not counted")
	}
}

// TestAPIMetricsCalls: a call and its end show in the call gauges and in
// parley_calls_total, and the INVITE is timed to its 180.
func TestAPIMetricsCalls(t *testing.T) {
	e := startAPI(t, serverOpts{})
	alice, bob := newAPIUA(t, e.server, "alice"), newAPIUA(t, e.server, "bob")
	call := startCall(t, alice, bob)
	wantMetrics(t, e, map[string]float64{
		`parley_calls_active{state="confirmed"}`:                           1,
		`parley_sip_requests_total{method="ACK"}`:                          1,
		`parley_sip_responses_total{code="180",method="INVITE"}`:           1,
		`parley_sip_responses_total{code="200",method="INVITE"}`:           1,
		`parley_sip_invite_first_response_seconds_count`:                   1,
		`parley_sip_transactions_created_total{kind="client"}`:             1,
		`parley_transport_messages_total{direction="out",transport="udp"}`: 7,
	})
	calls := apiGetList[apiDialog](t, e, "/api/v1/calls")
	e.call(t, "DELETE", "/api/v1/calls/"+calls.Items[0].ID, nil).want(t, 200)
	call.caller.expectBye(t)
	call.callee.expectBye(t)
	m := wantMetrics(t, e, map[string]float64{`parley_calls_total{disposition="answered"}`: 1})
	if m[`parley_calls_active{state="confirmed"}`] != 0 || m[`parley_calls_total{disposition="answered"}`] != 1 {
		t.Errorf("after the call: active %v, answered %v", m[`parley_calls_active{state="confirmed"}`],
			m[`parley_calls_total{disposition="answered"}`])
	}
}

// TestAPIMetricsSendErrors: an INVITE routed to a TCP gateway that refuses
// connections fails (the caller gets a 5xx), and the failed write shows in
// the transport's and the transaction layer's send error counters.
func TestAPIMetricsSendErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nobody listens there now: the dial is refused
	e := startAPI(t, serverOpts{edit: func(c *config.Config) {
		c.Proxy.Routes = []config.Route{{User: `^99[0-9]{2}$`, To: "sip:" + closed + ";transport=tcp"}}
	}})
	c := dial(t, e.server, "udp")
	c.send(base("INVITE", "sip:9901@example.test", "INVITE", ""))
	if resp := final(t, c); statusCode(resp) < 500 {
		t.Fatalf("INVITE to a gateway that refuses connections: want 5xx, got\n%s", resp)
	}
	wantMetrics(t, e, map[string]float64{
		`parley_transport_send_errors_total{transport="tcp"}`: 1,
		`parley_sip_send_errors_total`:                        1,
	})
}

// TestAPIMetricsCardinality: 100 users registering add no series: no label
// holds a user, and the number of parley_ series stays what it was after
// the first registration.
func TestAPIMetricsCardinality(t *testing.T) {
	e := startAPI(t, serverOpts{})
	c := dial(t, e.server, "udp")
	register := func(i int) {
		u := fmt.Sprintf("card%03d", i)
		newRegisterer(c, u).mustRegister(t, contact("sip:"+u+"@"+c.local.String(), ""))
	}
	register(0)
	series := func(m map[string]float64) int {
		n := 0
		for k := range m {
			if strings.HasPrefix(k, "parley_") {
				n++
			}
		}
		return n
	}
	before := series(wantMetrics(t, e, map[string]float64{`parley_sip_responses_total{code="200",method="REGISTER"}`: 1}))
	for i := 1; i < 100; i++ {
		register(i)
	}
	// The response counter moves just after the 200 is written, so the
	// scrape waits for the last one rather than racing it.
	m := wantMetrics(t, e, map[string]float64{
		`parley_registrations`: 100,
		`parley_sip_responses_total{code="200",method="REGISTER"}`: 100,
	})
	if after := series(m); after != before {
		t.Errorf("parley_ series: %d after one registration, %d after 100", before, after)
	}
	userLabel := regexp.MustCompile(`card\d{3}|127\.0\.0\.1`)
	for k := range m {
		if userLabel.MatchString(k) {
			t.Errorf("a label holds a user or an address: %s", k)
		}
	}
	if m[`parley_registrations`] != 100 || m[`parley_sip_responses_total{code="200",method="REGISTER"}`] != 100 {
		t.Errorf("registrations %v, REGISTER 200s %v", m[`parley_registrations`], m[`parley_sip_responses_total{code="200",method="REGISTER"}`])
	}
}

// TestAPIMetricsSurviveReload: a reload builds a new handler chain and a new
// authenticator; the counters go on from where they were.
func TestAPIMetricsSurviveReload(t *testing.T) {
	e := startAPI(t, serverOpts{auth: true})
	c := dial(t, e.server, "udp")
	c.send(optionsTo("sip:example.test"))
	final(t, c)
	c.send(base("MESSAGE", "sip:bob@example.test", "MESSAGE", "")) // challenged
	final(t, c)
	next := e.app.Config().Clone()
	next.LogLevel = "debug"
	if err := e.app.Reload(next); err != nil {
		t.Fatal(err)
	}
	c.send(optionsTo("sip:example.test"))
	final(t, c)
	m := scrapeMetrics(t, e)
	if m[`parley_sip_requests_total{method="OPTIONS"}`] != 2 || m[`parley_auth_challenges_total{stale="false"}`] != 1 {
		t.Errorf("after reload: OPTIONS %v, challenges %v", m[`parley_sip_requests_total{method="OPTIONS"}`],
			m[`parley_auth_challenges_total{stale="false"}`])
	}
	bad := e.app.Config().Clone()
	bad.Limits.CaptureMessages = 5
	if err := e.app.Reload(bad); err == nil || !strings.Contains(err.Error(), "limits.capture_messages") {
		t.Errorf("reload changing limits.capture_messages: %v", err)
	}
}
