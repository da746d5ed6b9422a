package test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/api"
	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/db"
)

// Helpers of the management API tests (api_*_test.go): an App with its HTTP
// listener on 127.0.0.1:0 and an administrator, an HTTP client that speaks
// JSON, and a small user agent that makes a call through Parley.

// The administrator every API test logs in as.
const (
	apiAdmin         = "ops"
	apiAdminPassword = "s3cret-enough"
)

// apiEnv is a running App, its management API's base URL and a session token.
type apiEnv struct {
	*server
	base  string // http://127.0.0.1:PORT
	token string
}

// startAPI starts an App on UDP and TCP loopback with the HTTP listener on
// 127.0.0.1:0, after adding the administrator apiAdmin to its database
// (api.NewAdmins on the same file), and logs in.
func startAPI(t *testing.T, o serverOpts) *apiEnv {
	t.Helper()
	o.http = "127.0.0.1:0"
	if o.listen == nil {
		o.listen = []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}
	}
	edit := o.edit
	o.edit = func(c *config.Config) {
		if edit != nil {
			edit(c)
		}
		addAdmin(t, c.DB, apiAdmin, apiAdminPassword)
	}
	s := startServer(t, o)
	e := &apiEnv{server: s, base: "http://" + s.app.HTTPAddr().String()}
	e.token = e.login(t, apiAdmin, apiAdminPassword)
	return e
}

// addAdmin creates an administrator in the database dsn before the App opens it.
func addAdmin(t *testing.T, dsn, name, password string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := api.NewAdmins(d).Add(ctx, name, password); err != nil {
		t.Fatalf("add administrator: %v", err)
	}
}

// login returns a session token, failing the test if the login fails.
func (e *apiEnv) login(t *testing.T, name, password string) string {
	t.Helper()
	r := e.callAs(t, "", "POST", "/api/v1/login", map[string]string{"name": name, "password": password})
	r.want(t, http.StatusOK)
	var out struct {
		Token   string    `json:"token"`
		Expires time.Time `json:"expires"`
	}
	r.decode(t, &out)
	if len(out.Token) < 32 || out.Expires.Before(time.Now()) {
		t.Fatalf("login returned %s", r.body)
	}
	return out.Token
}

// apiResp is an HTTP response read whole.
type apiResp struct {
	method, path string
	code         int
	hdr          http.Header
	body         []byte
}

// call sends a request with the session token. body is sent as is when it
// is a string or []byte, as JSON otherwise, and not at all when nil.
func (e *apiEnv) call(t *testing.T, method, path string, body any) apiResp {
	t.Helper()
	return e.callAs(t, e.token, method, path, body)
}

// callAs is call with another token ("" for none).
func (e *apiEnv) callAs(t *testing.T, token, method, path string, body any) apiResp {
	t.Helper()
	req := newAPIRequest(t, method, e.base+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return doHTTP(t, req)
}

func newAPIRequest(t *testing.T, method, url string, body any) *http.Request {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func doHTTP(t *testing.T, req *http.Request) apiResp {
	t.Helper()
	hc := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL.Path, err)
	}
	return apiResp{method: req.Method, path: req.URL.RequestURI(), code: res.StatusCode, hdr: res.Header, body: b}
}

// want fails the test unless the status is code.
func (r apiResp) want(t *testing.T, code int) apiResp {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s %s: status %d, want %d; body: %s", r.method, r.path, r.code, code, r.body)
	}
	return r
}

// decode reads the JSON body into v.
func (r apiResp) decode(t *testing.T, v any) {
	t.Helper()
	if ct, _, _ := mime.ParseMediaType(r.hdr.Get("Content-Type")); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, want application/json", r.method, r.path, r.hdr.Get("Content-Type"))
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s %s: %v in %s", r.method, r.path, err, r.body)
	}
}

// wantError checks an error response: status code, a JSON {"error": "..."}
// whose message matches re.
func (r apiResp) wantError(t *testing.T, code int, re string) {
	t.Helper()
	r.want(t, code)
	var e struct {
		Error string `json:"error"`
	}
	r.decode(t, &e)
	if e.Error == "" || !regexpMatch(re, e.Error) {
		t.Errorf("%s %s: error %q, want a message matching %q", r.method, r.path, e.Error, re)
	}
}

// apiList is a paginated list answer.
type apiList[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// list GETs path (status 200) and decodes the list.
func apiGetList[T any](t *testing.T, e *apiEnv, path string) apiList[T] {
	t.Helper()
	var out apiList[T]
	e.call(t, "GET", path, nil).want(t, http.StatusOK).decode(t, &out)
	return out
}
