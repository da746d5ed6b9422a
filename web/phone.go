package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// The web phone: a page where a person signs in with their SIP user and
// password and calls other users from the browser (JsSIP over WebSocket,
// RFC 7118, and WebRTC media). Its files are embedded like the console's,
// including the vendored JsSIP build (phone/vendor, see its LICENSES.md).

//go:embed phone
var phoneFiles embed.FS

// PhonePrefix is where the web phone is mounted.
const PhonePrefix = "/phone/"

// phoneCSP allows the page's own files, WebSocket connections to any host
// (the SIP listener is on another port, maybe another name) and media
// streams; no inline script, no other origin.
const phoneCSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self' ws: wss:; media-src 'self' blob: mediastream:; frame-ancestors 'none'; " +
	"base-uri 'none'; form-action 'self'"

// PhoneConfig is what /phone/config.json tells the page: the domains (the
// first completes a bare user name) and the WebSocket listeners to offer.
// It needs no login: it holds nothing a SIP client could not learn anyway.
type PhoneConfig struct {
	Domains    []string      `json:"domains"`
	WebSockets []PhoneSocket `json:"websockets"`
	// ICEServers is passed to RTCPeerConnection; empty: host candidates only.
	ICEServers []any `json:"ice_servers"`
}

// PhoneSocket is one ws or wss listener. Host is "" when the listener is
// bound to a wildcard address: the page then uses its own host name.
type PhoneSocket struct {
	Proto string `json:"proto"`
	Host  string `json:"host"`
	Port  int    `json:"port"`
	Path  string `json:"path"`
}

// PhoneHandler serves the web phone under PhonePrefix: its files, and
// config.json from cfg, called on each request so that it follows reloads.
// Everything else under the prefix is 404; /phone redirects to /phone/.
func PhoneHandler(cfg func() PhoneConfig) http.Handler {
	assets := loadDir(phoneFiles, "phone")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path+"/" == PhonePrefix {
			http.Redirect(w, r, PhonePrefix, http.StatusMovedPermanently)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, PhonePrefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		securityHeaders(w.Header())
		if name == "config.json" {
			servePhoneConfig(w, cfg())
			return
		}
		if name == "" {
			name = "index.html"
		}
		a, found := assets[name]
		if !found {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", a.etag)
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
	})
}

func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", phoneCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	// The page may use the microphone and camera, on its own origin only.
	h.Set("Permissions-Policy", "microphone=(self), camera=(self)")
}

func servePhoneConfig(w http.ResponseWriter, c PhoneConfig) {
	if c.Domains == nil {
		c.Domains = []string{}
	}
	if c.WebSockets == nil {
		c.WebSockets = []PhoneSocket{}
	}
	if c.ICEServers == nil {
		c.ICEServers = []any{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(c)
}
