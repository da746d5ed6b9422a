package test

import (
	"fmt"
	"testing"
	"time"
)

type apiBinding struct {
	AOR       string    `json:"aor"`
	Contact   string    `json:"contact"`
	Q         float64   `json:"q"`
	Expires   time.Time `json:"expires"`
	ExpiresIn int       `json:"expires_in"`
	Transport string    `json:"transport"`
	Source    string    `json:"source"`
	UserAgent string    `json:"user_agent"`
}

// TestAPIRegistrations: a REGISTER over UDP shows up in the list and by AOR,
// with its contact, transport and source; DELETE force-unregisters it (and
// Parley stops routing to it); a second DELETE finds nothing.
func TestAPIRegistrations(t *testing.T) {
	e := startAPI(t, serverOpts{auth: true})
	e.call(t, "POST", "/api/v1/users", map[string]string{"aor": "erin@example.test", "password": testPassword}).want(t, 201)
	c := dial(t, e.server, "udp")
	ct := "sip:erin@" + c.local.String()
	newRegisterer(c, "erin").mustRegister(t, contact(ct, ";q=0.7;expires=300")+"User-Agent: api-test/1\n")

	all := apiGetList[apiBinding](t, e, "/api/v1/registrations")
	if all.Total != 1 || len(all.Items) != 1 {
		t.Fatalf("registrations: %+v", all)
	}
	b := all.Items[0]
	if b.AOR != "erin@example.test" || b.Contact != "<"+ct+">" && b.Contact != ct || b.Q != 0.7 || b.Transport != "UDP" ||
		b.Source != c.local.String() || b.UserAgent != "api-test/1" || b.ExpiresIn < 290 || b.ExpiresIn > 300 ||
		time.Until(b.Expires) > 301*time.Second {
		t.Errorf("binding %+v (contact %s)", b, ct)
	}
	for _, aor := range []string{"erin@example.test", "sip:erin@EXAMPLE.test"} {
		if l := apiGetList[apiBinding](t, e, "/api/v1/registrations/"+aor); l.Total != 1 || l.Items[0].Source != b.Source {
			t.Errorf("GET registrations/%s: %+v", aor, l)
		}
	}
	if l := apiGetList[apiBinding](t, e, "/api/v1/registrations/nobody@example.test"); l.Total != 0 || l.Items == nil {
		t.Errorf("an AOR without bindings: %+v", l)
	}
	e.call(t, "GET", "/api/v1/registrations/erin", nil).wantError(t, 400, "user@domain")
	e.call(t, "GET", "/api/v1/registrations?limit=0", nil).wantError(t, 400, "limit")

	var removed struct{ Removed int }
	e.call(t, "DELETE", "/api/v1/registrations/erin@example.test", nil).want(t, 200).decode(t, &removed)
	if removed.Removed != 1 {
		t.Errorf("removed %d bindings, want 1", removed.Removed)
	}
	if l := apiGetList[apiBinding](t, e, "/api/v1/registrations"); l.Total != 0 {
		t.Errorf("after DELETE: %+v", l)
	}
	e.call(t, "DELETE", "/api/v1/registrations/erin@example.test", nil).wantError(t, 404, "no registrations")
	e.call(t, "DELETE", "/api/v1/registrations/@example.test", nil).wantError(t, 400, "user@domain")
	// The registrar agrees: a query lists no contact.
	if bs := newRegisterer(c, "erin").list(t); len(bs) != 0 {
		t.Errorf("REGISTER query after the forced unregistration lists %v", bs)
	}
}

// TestAPIRegistrationsPaging: offset and limit page through the bindings of
// several users, with the total.
func TestAPIRegistrationsPaging(t *testing.T) {
	e := startAPI(t, serverOpts{})
	c := dial(t, e.server, "udp")
	for i := range 4 {
		u := fmt.Sprintf("p%d", i)
		newRegisterer(c, u).mustRegister(t, contact("sip:"+u+"@"+c.local.String(), ""))
	}
	all := apiGetList[apiBinding](t, e, "/api/v1/registrations")
	page := apiGetList[apiBinding](t, e, "/api/v1/registrations?offset=2&limit=1")
	if all.Total != 4 || page.Total != 4 || len(page.Items) != 1 || page.Items[0].AOR != all.Items[2].AOR {
		t.Errorf("all %+v, offset=2&limit=1 %+v", all, page)
	}
}
