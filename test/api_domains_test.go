package test

import (
	"net/http"
	"slices"
	"testing"
)

// TestAPIDomains: a domain added through the API is served at once (a
// REGISTER to it works without a reload), is listed, cannot be added twice,
// and once deleted is no longer Parley's: a REGISTER to it is refused.
func TestAPIDomains(t *testing.T) {
	e := startAPI(t, serverOpts{auth: true})
	e.call(t, "POST", "/api/v1/users", map[string]string{"aor": "dave@new.test", "password": testPassword}).want(t, 201)
	c := dial(t, e.server, "udp")
	reg := func() string {
		r := newRegisterer(c, "dave")
		r.domain, r.ruri = "new.test", "sip:new.test"
		return r.register(t, contact("sip:dave@"+c.local.String(), ";expires=60"))
	}
	if resp := reg(); statusCode(resp) != 403 {
		t.Fatalf("REGISTER to new.test before it is a domain of ours: want 403 (relaying denied), got\n%s", resp)
	}

	var added struct{ Name string }
	e.call(t, "POST", "/api/v1/domains", map[string]string{"name": " New.TEST. "}).want(t, http.StatusCreated).decode(t, &added)
	if added.Name != "new.test" {
		t.Errorf("added %+v, want the normalized name new.test", added)
	}
	if resp := reg(); statusCode(resp) != 200 {
		t.Fatalf("REGISTER to new.test right after adding it: want 200, got\n%s", resp)
	}
	if l := apiGetList[string](t, e, "/api/v1/domains"); !slices.Equal(l.Items, []string{"example.test", "new.test"}) || l.Total != 2 {
		t.Errorf("domains: %+v", l)
	}
	e.call(t, "POST", "/api/v1/domains", map[string]string{"name": "new.test"}).wantError(t, http.StatusConflict, "already exists")
	for _, bad := range []string{"", "bad_domain.test", "-x.test", "a..b", "[::1]"} {
		e.call(t, "POST", "/api/v1/domains", map[string]string{"name": bad}).wantError(t, 400, "host name or an IPv4 address")
	}
	e.call(t, "POST", "/api/v1/domains", `{"domain":"x.test"}`).wantError(t, 400, `unknown field "domain"`)
	e.call(t, "POST", "/api/v1/domains", `["x.test"]`).wantError(t, 400, "malformed JSON")

	e.call(t, "DELETE", "/api/v1/domains/NEW.test", nil).want(t, 200)
	e.call(t, "DELETE", "/api/v1/domains/new.test", nil).wantError(t, 404, "no such domain")
	e.call(t, "DELETE", "/api/v1/domains/bad_name", nil).wantError(t, 400, "host name")
	if l := apiGetList[string](t, e, "/api/v1/domains"); !slices.Equal(l.Items, []string{"example.test"}) {
		t.Errorf("domains after the delete: %+v", l)
	}
	if resp := reg(); statusCode(resp) != 403 {
		t.Errorf("REGISTER to a deleted domain: want 403 (relaying denied), got\n%s", resp)
	}
}
