package api

import (
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/users"
)

type userJSON struct {
	AOR       string    `json:"aor"`
	Username  string    `json:"username"`
	Domain    string    `json:"domain"`
	CreatedAt time.Time `json:"created_at"`
}

func userOf(u users.User) userJSON {
	return userJSON{AOR: u.AOR(), Username: u.Username, Domain: u.Domain, CreatedAt: u.CreatedAt}
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := page(r)
	if err != nil {
		return err
	}
	ctx, cancel := ctxOf(r)
	defer cancel()
	us, total, err := a.svc.Users.List(ctx, off, lim)
	if err != nil {
		return err
	}
	out := list[userJSON]{Items: []userJSON{}, Total: total}
	for _, u := range us {
		out.Items = append(out.Items, userOf(u))
	}
	return writeJSON(w, http.StatusOK, out)
}

type addUserRequest struct {
	AOR      string `json:"aor"`
	Password string `json:"password"`
}

func (a *API) addUser(w http.ResponseWriter, r *http.Request) error {
	var req addUserRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	ctx, cancel := ctxOf(r)
	defer cancel()
	if err := a.svc.Users.Add(ctx, req.AOR, req.Password); err != nil {
		return userError(err)
	}
	u, err := a.svc.Users.Get(ctx, req.AOR)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, userOf(u))
}

// userError maps the user store's errors to HTTP statuses with their message.
func userError(err error) error {
	switch {
	case errors.Is(err, users.ErrExists):
		return errorf(http.StatusConflict, "%v", err)
	case errors.Is(err, users.ErrNotFound):
		return errorf(http.StatusNotFound, "%v", err)
	case errors.Is(err, users.ErrWeakPassword), errors.Is(err, users.ErrBadAOR):
		return errorf(http.StatusBadRequest, "%v", err)
	}
	return err
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := ctxOf(r)
	defer cancel()
	u, err := a.svc.Users.Get(ctx, r.PathValue("aor"))
	if err != nil {
		return userError(err)
	}
	return writeJSON(w, http.StatusOK, userOf(u))
}

func (a *API) setPassword(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Password string `json:"password"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	ctx, cancel := ctxOf(r)
	defer cancel()
	if err := a.svc.Users.SetPassword(ctx, r.PathValue("aor"), req.Password); err != nil {
		return userError(err)
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "password changed"})
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := ctxOf(r)
	defer cancel()
	if err := a.svc.Users.Delete(ctx, r.PathValue("aor")); err != nil {
		return userError(err)
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "deleted"})
}

// listDomains pages through the domains in name order (?offset=&limit=).
func (a *API) listDomains(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := page(r)
	if err != nil {
		return err
	}
	ctx, cancel := ctxOf(r)
	defer cancel()
	ds, err := a.svc.Domains.List(ctx)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pageOf(ds, off, lim))
}

func (a *API) addDomain(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	ctx, cancel := ctxOf(r)
	defer cancel()
	switch err := a.svc.Domains.Add(ctx, req.Name); {
	case errors.Is(err, ErrDomainExists):
		return errorf(http.StatusConflict, "%v", err)
	case errors.Is(err, ErrBadDomain):
		return errorf(http.StatusBadRequest, "%v", err)
	case err != nil:
		return err
	}
	n, _ := Normalize(req.Name)
	return writeJSON(w, http.StatusCreated, map[string]string{"name": n})
}

func (a *API) deleteDomain(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := ctxOf(r)
	defer cancel()
	switch err := a.svc.Domains.Delete(ctx, r.PathValue("name")); {
	case errors.Is(err, ErrDomainNotFound):
		return errorf(http.StatusNotFound, "%v", err)
	case errors.Is(err, ErrBadDomain):
		return errorf(http.StatusBadRequest, "%v", err)
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "deleted"})
}

type bindingJSON struct {
	AOR       string    `json:"aor"`
	Contact   string    `json:"contact"`
	Q         float64   `json:"q"`
	Expires   time.Time `json:"expires"`
	ExpiresIn int       `json:"expires_in"`
	Transport string    `json:"transport"`
	Source    string    `json:"source"`
	UserAgent string    `json:"user_agent"`
	Path      []string  `json:"path,omitempty"`
	Instance  string    `json:"instance,omitempty"`
}

func bindingOf(b location.Binding, now time.Time) bindingJSON {
	return bindingJSON{AOR: b.AOR, Contact: b.Contact, Q: float64(b.Q) / 1000, Expires: b.Expires,
		ExpiresIn: int(b.Remaining(now) / time.Second), Transport: b.Transport, Source: b.Source.String(),
		UserAgent: b.UserAgent, Path: b.Path, Instance: b.Instance}
}

func (a *API) listRegistrations(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := page(r)
	if err != nil {
		return err
	}
	ctx, cancel := ctxOf(r)
	defer cancel()
	bs, total, err := a.svc.Locations.List(ctx, off, lim)
	if err != nil {
		return err
	}
	now := time.Now()
	out := list[bindingJSON]{Items: []bindingJSON{}, Total: total}
	for _, b := range bs {
		out.Items = append(out.Items, bindingOf(b, now))
	}
	return writeJSON(w, http.StatusOK, out)
}

func aorParam(r *http.Request) (string, error) {
	aor := strings.TrimPrefix(strings.TrimPrefix(r.PathValue("aor"), "sip:"), "sips:")
	at := strings.LastIndexByte(aor, '@')
	if at <= 0 || at == len(aor)-1 {
		return "", errorf(http.StatusBadRequest, "an AOR is user@domain")
	}
	return aor[:at] + "@" + strings.ToLower(aor[at+1:]), nil
}

func (a *API) getRegistrations(w http.ResponseWriter, r *http.Request) error {
	aor, err := aorParam(r)
	if err != nil {
		return err
	}
	ctx, cancel := ctxOf(r)
	defer cancel()
	bs, err := a.svc.Locations.Lookup(ctx, aor)
	if err != nil {
		return err
	}
	now := time.Now()
	out := list[bindingJSON]{Items: []bindingJSON{}, Total: len(bs)}
	for _, b := range bs {
		out.Items = append(out.Items, bindingOf(b, now))
	}
	return writeJSON(w, http.StatusOK, out)
}

// deleteRegistrations force-unregisters every binding of an AOR.
func (a *API) deleteRegistrations(w http.ResponseWriter, r *http.Request) error {
	aor, err := aorParam(r)
	if err != nil {
		return err
	}
	ctx, cancel := ctxOf(r)
	defer cancel()
	n := 0
	_, err = a.svc.Locations.Update(ctx, aor, func(cur []location.Binding) ([]location.Binding, error) {
		n = len(cur)
		return nil, nil
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return errorf(http.StatusNotFound, "%s has no registrations", aor)
	}
	return writeJSON(w, http.StatusOK, map[string]int{"removed": n})
}

// listCalls pages through the calls in progress, oldest first (?offset=&limit=).
func (a *API) listCalls(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := page(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pageOf(a.svc.Calls.List(), off, lim))
}

func (a *API) endCall(w http.ResponseWriter, r *http.Request) error {
	if !a.svc.Calls.End(r.PathValue("id")) {
		return errorf(http.StatusNotFound, "no answered call with id %q", r.PathValue("id"))
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ended"})
}

// listCDRs returns call records:
// ?since=RFC3339|duration&user=AOR&offset=N&limit=N&format=csv. A page holds
// the newest limit records after skipping the newest offset ones, oldest
// first; total counts every record that matches since and user.
func (a *API) listCDRs(w http.ResponseWriter, r *http.Request) error {
	off, lim, err := pageUpTo(r, maxCDRLimit)
	if err != nil {
		return err
	}
	q := acc.ListQuery{User: r.URL.Query().Get("user"), Limit: lim, Offset: off}
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := parseSince(v)
		if err != nil {
			return errorf(http.StatusBadRequest, "since must be an RFC 3339 time or a duration like 24h")
		}
		q.Since = t
	}
	ctx, cancel := ctxOf(r)
	defer cancel()
	rs, err := acc.Query(ctx, a.svc.DB, q)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "csv" {
		return writeCSV(w, rs)
	}
	total, err := acc.Count(ctx, a.svc.DB, q)
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []acc.Record{}
	}
	return writeJSON(w, http.StatusOK, list[acc.Record]{Items: rs, Total: total})
}

// maxCDRLimit bounds one page of call records (an export may be large).
const maxCDRLimit = 100000

func parseSince(v string) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	return time.Parse(time.RFC3339, v)
}

func writeCSV(w http.ResponseWriter, rs []acc.Record) error {
	w.Header().Set("Content-Type", "text/csv")
	w.Header().Set("Content-Disposition", `attachment; filename="cdrs.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "call_id", "caller", "callee", "invite_at", "ring_at", "answer_at", "end_at",
		"duration", "code", "reason", "disposition", "missed", "hangup_by", "source", "transport"})
	for _, c := range rs {
		cw.Write([]string{c.ID, c.CallID, c.Caller, c.Callee, ts(c.InviteAt), ts(c.RingAt), ts(c.AnswerAt), ts(c.EndAt),
			strconv.FormatFloat(c.Duration, 'f', 3, 64), strconv.Itoa(c.Code), c.Reason, string(c.Disposition),
			strconv.FormatBool(c.Missed), string(c.HangupBy), c.Source, c.Transport})
	}
	cw.Flush()
	return cw.Error()
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
