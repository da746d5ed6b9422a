package test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

type apiUser struct {
	AOR       string    `json:"aor"`
	Username  string    `json:"username"`
	Domain    string    `json:"domain"`
	CreatedAt time.Time `json:"created_at"`
}

// TestAPIUsersCreate: POST /api/v1/users creates a user (201) and refuses a
// duplicate (409), a weak or empty password and a malformed AOR (400 with
// the reason), unknown fields (400 naming the field), malformed JSON (400)
// and an oversized body (413).
func TestAPIUsersCreate(t *testing.T) {
	e := startAPI(t, serverOpts{auth: true})
	add := func(body any) apiResp { return e.call(t, "POST", "/api/v1/users", body) }
	var u apiUser
	add(map[string]string{"aor": "sip:Alice@Example.TEST", "password": testPassword}).want(t, http.StatusCreated).decode(t, &u)
	if u.AOR != "Alice@example.test" || u.Username != "Alice" || u.Domain != "example.test" || time.Since(u.CreatedAt) > time.Minute {
		t.Errorf("created %+v", u)
	}
	add(map[string]string{"aor": "Alice@example.test", "password": testPassword}).wantError(t, http.StatusConflict, "already exists")
	for _, tc := range []struct {
		name string
		body any
		code int
		re   string
	}{
		{"weak password", map[string]string{"aor": "bob@example.test", "password": "bob"}, 400, "weak password"},
		{"empty password", map[string]string{"aor": "bob@example.test", "password": ""}, 400, "weak password"},
		{"no domain", map[string]string{"aor": "bob", "password": testPassword}, 400, "bad address of record.*user@domain"},
		{"bad user character", map[string]string{"aor": "b ob@example.test", "password": testPassword}, 400, `bad address of record.*character ' ' not allowed`},
		{"bad domain", map[string]string{"aor": "bob@exa_mple", "password": testPassword}, 400, "bad address of record"},
		{"unknown field", `{"aor":"bob@example.test","password":"` + testPassword + `","admin":true}`, 400, `unknown field "admin"`},
		{"wrong type", `{"aor":"bob@example.test","password":12345678}`, 400, "malformed JSON.*password"},
		{"malformed JSON", `{"aor":"bob@example.test",`, 400, "malformed JSON"},
		{"two values", `{"aor":"bob@example.test","password":"` + testPassword + `"} {}`, 400, "more than one value"},
		{"empty body", "", 400, "malformed JSON"},
		{"oversized body", `{"aor":"bob@example.test","password":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "larger than 65536 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if body == "" {
				body = []byte{}
			}
			add(body).wantError(t, tc.code, tc.re)
		})
	}
	if l := apiGetList[apiUser](t, e, "/api/v1/users"); l.Total != 1 {
		t.Errorf("after the refusals: %+v", l)
	}
}

// TestAPIUsersList: GET /api/v1/users pages with offset and limit and gives
// the total; GET /api/v1/users/{aor} finds one user.
func TestAPIUsersList(t *testing.T) {
	e := startAPI(t, serverOpts{auth: true})
	for i := range 5 {
		e.call(t, "POST", "/api/v1/users", map[string]string{"aor": fmt.Sprintf("u%d@example.test", i), "password": testPassword}).
			want(t, http.StatusCreated)
	}
	all := apiGetList[apiUser](t, e, "/api/v1/users")
	if all.Total != 5 || len(all.Items) != 5 {
		t.Fatalf("list: %+v", all)
	}
	page := apiGetList[apiUser](t, e, "/api/v1/users?offset=1&limit=2")
	if page.Total != 5 || len(page.Items) != 2 || page.Items[0] != all.Items[1] || page.Items[1] != all.Items[2] {
		t.Errorf("offset=1&limit=2: %+v, all: %+v", page, all.Items)
	}
	if end := apiGetList[apiUser](t, e, "/api/v1/users?offset=4&limit=10"); end.Total != 5 || len(end.Items) != 1 {
		t.Errorf("last page: %+v", end)
	}
	if past := apiGetList[apiUser](t, e, "/api/v1/users?offset=50"); past.Total != 5 || past.Items == nil || len(past.Items) != 0 {
		t.Errorf("past the end: %+v", past)
	}
	for _, q := range []string{"offset=-1", "offset=x", "limit=0", "limit=1001", "limit=two"} {
		e.call(t, "GET", "/api/v1/users?"+q, nil).wantError(t, 400, "offset|limit")
	}
	var u apiUser
	e.call(t, "GET", "/api/v1/users/sip:u3@EXAMPLE.test", nil).want(t, 200).decode(t, &u)
	if u.AOR != "u3@example.test" {
		t.Errorf("get: %+v", u)
	}
	e.call(t, "GET", "/api/v1/users/u9@example.test", nil).wantError(t, 404, "not found")
	e.call(t, "GET", "/api/v1/users/u3", nil).wantError(t, 400, "bad address of record")
}

// TestAPIUsersPasswordAndDelete: a changed password works for the next
// REGISTER at once and the old one no longer does; a deleted user is gone
// (404) and cannot register.
func TestAPIUsersPasswordAndDelete(t *testing.T) {
	e := startAPI(t, serverOpts{auth: true})
	e.call(t, "POST", "/api/v1/users", map[string]string{"aor": "carol@example.test", "password": testPassword}).want(t, 201)
	c := dial(t, e.server, "udp")
	reg := newRegisterer(c, "carol")
	reg.mustRegister(t, contact("sip:carol@"+c.local.String(), ";expires=60"))

	const newPassword = "brand-new-pass-42"
	setPW := func(aor string, body any) apiResp { return e.call(t, "PUT", "/api/v1/users/"+aor+"/password", body) }
	setPW("carol@example.test", map[string]string{"password": "123"}).wantError(t, 400, "weak password")
	setPW("carol@example.test", `{"pw":"x"}`).wantError(t, 400, `unknown field "pw"`)
	setPW("carol@example.test", `{"password":`).wantError(t, 400, "malformed JSON")
	setPW("nobody@example.test", map[string]string{"password": newPassword}).wantError(t, 404, "not found")
	setPW("carol@example.test", map[string]string{"password": newPassword}).want(t, 200)

	// The old password now fails (403), with a fresh nonce too.
	old := newRegisterer(c, "carol")
	if resp := old.register(t, contact("sip:carol@"+c.local.String(), ";expires=60")); statusCode(resp) != 403 {
		t.Fatalf("REGISTER with the old password: want 403, got\n%s", resp)
	}
	fresh := newRegisterer(c, "carol")
	fresh.pw = newPassword
	fresh.mustRegister(t, contact("sip:carol@"+c.local.String(), ";expires=60"))

	e.call(t, "DELETE", "/api/v1/users/carol@example.test", nil).want(t, 200)
	e.call(t, "GET", "/api/v1/users/carol@example.test", nil).wantError(t, 404, "not found")
	e.call(t, "DELETE", "/api/v1/users/carol@example.test", nil).wantError(t, 404, "not found")
	e.call(t, "DELETE", "/api/v1/users/carol", nil).wantError(t, 400, "bad address of record")
	gone := newRegisterer(c, "carol")
	gone.pw = newPassword
	if resp := gone.register(t, contact("sip:carol@"+c.local.String(), ";expires=60")); statusCode(resp) != 403 {
		t.Errorf("REGISTER of a deleted user: want 403, got\n%s", resp)
	}
}
