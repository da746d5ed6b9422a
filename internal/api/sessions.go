package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// cookieName is the session cookie of the web console.
const cookieName = "parley_session"

// sessions are administrator logins: random tokens kept in memory (a restart
// logs everybody out).
type sessions struct {
	ttl  time.Duration
	mu   sync.Mutex
	byID map[string]session
}

type session struct {
	admin   string
	expires time.Time
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, byID: make(map[string]session)}
}

func (s *sessions) create(admin string) (string, time.Time) {
	b := make([]byte, 24)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	exp := time.Now().Add(s.ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, x := range s.byID { // drop expired sessions as we go
		if time.Now().After(x.expires) {
			delete(s.byID, id)
		}
	}
	s.byID[tok] = session{admin, exp}
	return tok, exp
}

// check finds the session of a request: "Authorization: Bearer TOKEN" or the cookie.
func (s *sessions) check(r *http.Request) (string, bool) {
	tok := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		tok = strings.TrimPrefix(h, "Bearer ")
	} else if c, err := r.Cookie(cookieName); err == nil {
		tok = c.Value
	}
	if tok == "" {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.byID[tok]
	if !ok || time.Now().After(x.expires) {
		delete(s.byID, tok)
		return "", false
	}
	return x.admin, true
}

func (s *sessions) drop(r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if c, err := r.Cookie(cookieName); err == nil {
		tok = c.Value
	}
	s.mu.Lock()
	delete(s.byID, tok)
	s.mu.Unlock()
}

type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// login checks an administrator's password and returns a token, also set as
// an HttpOnly, SameSite=Strict cookie for the web console.
func (a *API) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	var req loginRequest
	if err := decode(r, &req); err != nil {
		a.fail(w, err)
		return
	}
	ctx, cancel := ctxOf(r)
	defer cancel()
	if err := a.svc.Admins.Verify(ctx, req.Name, req.Password); err != nil {
		if errors.Is(err, ErrBadLogin) {
			a.log.Info("administrator login failed", "name", req.Name, "from", r.RemoteAddr)
			writeError(w, http.StatusUnauthorized, "wrong name or password")
			return
		}
		a.fail(w, err)
		return
	}
	tok, exp := a.sessions.create(req.Name)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: tok, Path: "/", Expires: exp, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "expires": exp})
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	a.sessions.drop(r)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1})
	return writeJSON(w, http.StatusOK, map[string]string{"status": "logged out"})
}
