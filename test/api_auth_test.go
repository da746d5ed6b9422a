package test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/app"
	"github.com/parley-sip/parley/internal/config"
)

// apiEndpoints are every route of the management API that needs a session,
// with a request that would otherwise be valid.
var apiEndpoints = []struct{ method, path, body string }{
	{"POST", "/api/v1/logout", ""},
	{"GET", "/api/v1/status", ""},
	{"GET", "/api/v1/config", ""},
	{"GET", "/api/v1/users", ""},
	{"POST", "/api/v1/users", `{"aor":"x@example.test","password":"long-enough-1"}`},
	{"GET", "/api/v1/users/alice@example.test", ""},
	{"PUT", "/api/v1/users/alice@example.test/password", `{"password":"long-enough-1"}`},
	{"DELETE", "/api/v1/users/alice@example.test", ""},
	{"GET", "/api/v1/domains", ""},
	{"POST", "/api/v1/domains", `{"name":"new.test"}`},
	{"DELETE", "/api/v1/domains/example.test", ""},
	{"GET", "/api/v1/registrations", ""},
	{"GET", "/api/v1/registrations/alice@example.test", ""},
	{"DELETE", "/api/v1/registrations/alice@example.test", ""},
	{"GET", "/api/v1/calls", ""},
	{"DELETE", "/api/v1/calls/0123456789abcdef01234567", ""},
	{"GET", "/api/v1/cdrs", ""},
	{"GET", "/api/v1/cdrs?format=csv", ""},
	{"GET", "/api/v1/capture", ""},
	{"GET", "/api/v1/capture?call_id=x", ""},
	{"GET", "/api/v1/capture/calls", ""},
}

// TestAPIUnauthenticated: every endpoint but /healthz, /readyz, /metrics and
// POST /api/v1/login refuses a request without a session, with a wrong
// token, and with an unknown cookie: 401 and a JSON error. Nothing changes.
func TestAPIUnauthenticated(t *testing.T) {
	e := startAPI(t, serverOpts{})
	for _, ep := range apiEndpoints {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			var body any
			if ep.body != "" {
				body = ep.body
			}
			e.callAs(t, "", ep.method, ep.path, body).wantError(t, http.StatusUnauthorized, "log in")
			e.callAs(t, strings.Repeat("0", 48), ep.method, ep.path, body).wantError(t, http.StatusUnauthorized, "log in")
			req := newAPIRequest(t, ep.method, e.base+ep.path, body)
			req.AddCookie(&http.Cookie{Name: "parley_session", Value: "forged"})
			doHTTP(t, req).wantError(t, http.StatusUnauthorized, "log in")
		})
	}
	// Nothing was done: the domain is still there and no user was added.
	var ds apiList[string]
	e.call(t, "GET", "/api/v1/domains", nil).want(t, 200).decode(t, &ds)
	if ds.Total != 1 || ds.Items[0] != "example.test" {
		t.Errorf("domains after refused requests: %+v", ds)
	}
	if us := apiGetList[map[string]any](t, e, "/api/v1/users"); us.Total != 0 {
		t.Errorf("users after refused requests: %+v", us)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		e.callAs(t, "", "GET", path, nil).want(t, http.StatusOK)
	}
}

// TestAPILogin: a wrong password or an unknown name gets 401; a good login
// returns a token and sets an HttpOnly, SameSite=Strict cookie; both the
// token and the cookie open a session; logout ends it.
func TestAPILogin(t *testing.T) {
	e := startAPI(t, serverOpts{})
	login := func(body any) apiResp { return e.callAs(t, "", "POST", "/api/v1/login", body) }
	login(map[string]string{"name": apiAdmin, "password": "wrong-password"}).wantError(t, 401, "wrong name or password")
	login(map[string]string{"name": "nobody", "password": apiAdminPassword}).wantError(t, 401, "wrong name or password")
	login(`{"name":`).wantError(t, 400, "malformed JSON")
	login(`{"name":"ops","password":"x","otp":1}`).wantError(t, 400, `unknown field "otp"`)
	login(strings.Repeat(" ", 70<<10)+"{}").wantError(t, 413, "larger than")

	r := login(map[string]string{"name": apiAdmin, "password": apiAdminPassword}).want(t, 200)
	var out struct {
		Token   string    `json:"token"`
		Expires time.Time `json:"expires"`
	}
	r.decode(t, &out)
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: r.hdr}).Cookies() {
		if c.Name == "parley_session" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != out.Token || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("session cookie %+v, token %q", cookie, out.Token)
	}
	if d := time.Until(out.Expires); d < 11*time.Hour || d > 13*time.Hour {
		t.Errorf("session expires in %v", d)
	}
	e.callAs(t, out.Token, "GET", "/api/v1/status", nil).want(t, 200)
	req := newAPIRequest(t, "GET", e.base+"/api/v1/status", nil)
	req.AddCookie(&http.Cookie{Name: "parley_session", Value: out.Token})
	doHTTP(t, req).want(t, 200)

	e.callAs(t, out.Token, "POST", "/api/v1/logout", nil).want(t, 200)
	e.callAs(t, out.Token, "GET", "/api/v1/status", nil).wantError(t, 401, "log in")
	e.call(t, "GET", "/api/v1/status", nil).want(t, 200) // other sessions live on
}

// TestAPIUnknownEndpoint: a path under /api/ that does not exist gets a JSON 404.
func TestAPIUnknownEndpoint(t *testing.T) {
	e := startAPI(t, serverOpts{})
	e.call(t, "GET", "/api/v1/nothing", nil).wantError(t, 404, "no such API endpoint")
	e.call(t, "PATCH", "/api/v2/users", nil).wantError(t, 404, "no such API endpoint")
}

// TestAPIStatus: version, uptime, listeners and counters; the
// configuration in effect without its secrets.
func TestAPIStatus(t *testing.T) {
	e := startAPI(t, serverOpts{edit: func(c *config.Config) { c.Auth.Secret = "do-not-show-this" }})
	c := dial(t, e.server, "udp")
	c.send(optionsTo("sip:example.test"))
	final(t, c)
	var st struct {
		Version   string    `json:"version"`
		Uptime    *int      `json:"uptime_seconds"`
		Started   time.Time `json:"started"`
		Listeners []string  `json:"listeners"`
		Domains   []string  `json:"domains"`
		Counters  struct {
			Transactions struct{ ServerTransactions int64 }
			Transport    struct {
				UDP struct{ MessagesIn, MessagesOut uint64 }
			}
		} `json:"counters"`
		ActiveCalls *int `json:"active_calls"`
	}
	e.call(t, "GET", "/api/v1/status", nil).want(t, 200).decode(t, &st)
	udp := "UDP " + e.addr(t, "udp").String()
	if st.Version != app.Version || st.Uptime == nil || *st.Uptime < 0 || time.Since(st.Started) > time.Minute ||
		!slices.Contains(st.Listeners, udp) || len(st.Listeners) != 2 || !slices.Equal(st.Domains, []string{"example.test"}) ||
		st.ActiveCalls == nil || *st.ActiveCalls != 0 {
		t.Errorf("status %+v (want version %s, listener %q)", st, app.Version, udp)
	}
	if c := st.Counters; c.Transactions.ServerTransactions < 1 || c.Transport.UDP.MessagesIn < 1 || c.Transport.UDP.MessagesOut < 1 {
		t.Errorf("counters %+v after an OPTIONS", c)
	}
	r := e.call(t, "GET", "/api/v1/config", nil).want(t, 200)
	var cfg struct {
		Domain []string
		Auth   struct{ Secret string }
		Limits struct{ CaptureMessages int }
	}
	r.decode(t, &cfg)
	if strings.Contains(string(r.body), "do-not-show-this") || cfg.Auth.Secret != "(set)" ||
		!slices.Equal(cfg.Domain, []string{"example.test"}) || cfg.Limits.CaptureMessages != 10000 {
		t.Errorf("config: %s", r.body)
	}
}
