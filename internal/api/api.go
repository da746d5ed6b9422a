// Package api is Parley's management REST API under /api/v1: a thin HTTP
// adapter over the features' own methods (users, domains, registrations,
// calls, call records, status, captured SIP messages). JSON in and out;
// errors are JSON objects {"error": "..."} with the right HTTP status; lists
// are paginated with offset and limit and return {"items": [...], "total": N}.
// Everything but /api/v1/login needs an administrator's session: a bearer
// token or the session cookie that POST /api/v1/login returns. The HTTP server also serves
// /healthz, /readyz and /metrics without authentication (see internal/app).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/parley-sip/parley/internal/capture"
	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/proxy"
	"github.com/parley-sip/parley/internal/users"
)

// maxBody bounds a request body; larger ones get 413.
const maxBody = 64 << 10

// Services are what the API adapts.
type Services struct {
	DB        *db.DB
	Users     *users.Store
	Domains   *Domains
	Admins    *Admins
	Locations location.Store
	Calls     *proxy.Calls
	Status    func() any    // server status: version, uptime, listeners, counters
	Config    func() any    // the configuration in effect, secrets removed
	Capture   *capture.Ring // recent SIP messages; nil when capture is off
}

// API serves /api/v1.
type API struct {
	svc      Services
	sessions *sessions
	log      *slog.Logger
}

// New returns the API; Register mounts it.
func New(svc Services, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{svc: svc, sessions: newSessions(12 * time.Hour), log: log}
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/login", a.login)
	a.handle(mux, "POST /api/v1/logout", a.logout)
	a.handle(mux, "GET /api/v1/status", a.status)
	a.handle(mux, "GET /api/v1/config", a.config)
	a.handle(mux, "GET /api/v1/users", a.listUsers)
	a.handle(mux, "POST /api/v1/users", a.addUser)
	a.handle(mux, "GET /api/v1/users/{aor}", a.getUser)
	a.handle(mux, "PUT /api/v1/users/{aor}/password", a.setPassword)
	a.handle(mux, "DELETE /api/v1/users/{aor}", a.deleteUser)
	a.handle(mux, "GET /api/v1/domains", a.listDomains)
	a.handle(mux, "POST /api/v1/domains", a.addDomain)
	a.handle(mux, "DELETE /api/v1/domains/{name}", a.deleteDomain)
	a.handle(mux, "GET /api/v1/registrations", a.listRegistrations)
	a.handle(mux, "GET /api/v1/registrations/{aor}", a.getRegistrations)
	a.handle(mux, "DELETE /api/v1/registrations/{aor}", a.deleteRegistrations)
	a.handle(mux, "GET /api/v1/calls", a.listCalls)
	a.handle(mux, "DELETE /api/v1/calls/{id}", a.endCall)
	a.handle(mux, "GET /api/v1/cdrs", a.listCDRs)
	a.handle(mux, "GET /api/v1/capture", a.listCapture)
	a.handle(mux, "GET /api/v1/capture/calls", a.listCaptureCalls)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.Method+" "+r.URL.Path)
	})
}

// handle registers an endpoint that needs an administrator's session.
func (a *API) handle(mux *http.ServeMux, pattern string, h func(http.ResponseWriter, *http.Request) error) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if _, ok := a.sessions.check(r); !ok {
			writeError(w, http.StatusUnauthorized, "log in first: POST /api/v1/login")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := h(w, r); err != nil {
			a.fail(w, err)
		}
	})
}

// httpError carries a status and a message for the person.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func errorf(code int, format string, args ...any) error {
	return &httpError{code, fmt.Sprintf(format, args...)}
}

func (a *API) fail(w http.ResponseWriter, err error) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		writeError(w, he.code, he.msg)
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", maxBody))
	default:
		a.log.Error("API request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error; see the server log")
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	return json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// decode reads a JSON body strictly: unknown fields and trailing data are errors.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errorf(http.StatusBadRequest, "malformed JSON body: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "malformed JSON body: more than one value")
	}
	return nil
}

// page reads offset and limit (default 100, at most 1000).
func page(r *http.Request) (offset, limit int, err error) {
	return pageUpTo(r, 1000)
}

// pageUpTo reads offset (default 0) and limit (default 100, 1 to max); a
// bad value is a 400 naming it.
func pageUpTo(r *http.Request, max int) (offset, limit int, err error) {
	offset, limit = 0, 100
	if v := r.URL.Query().Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, errorf(http.StatusBadRequest, "offset must be a number >= 0")
		}
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > max {
			return 0, 0, errorf(http.StatusBadRequest, "limit must be a number from 1 to %d", max)
		}
	}
	return offset, limit, nil
}

// pageOf returns the page [offset, offset+limit) of all, never nil, and
// the total, for lists the API holds whole in memory.
func pageOf[T any](all []T, offset, limit int) list[T] {
	out := list[T]{Items: []T{}, Total: len(all)}
	if offset < len(all) {
		out.Items = append(out.Items, all[offset:min(len(all), offset+limit)]...)
	}
	return out
}

type list[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func (a *API) status(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, a.svc.Status())
}

func (a *API) config(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, a.svc.Config())
}

func ctxOf(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 15*time.Second)
}
