package web

import (
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandlerServesFilesAndFallsBackToIndex(t *testing.T) {
	h := Handler()
	index := get(t, h, "GET", "/console/", nil)
	if index.Code != 200 || !strings.Contains(index.Body.String(), `<script type="module" src="/console/js/app.js">`) {
		t.Fatalf("GET /console/: %d %q", index.Code, index.Body.String())
	}
	for _, target := range []string{"/console/users", "/console/history?user=a@b", "/console/ladder?call_id=a.b@c.d", "/console/x/y/"} {
		w := get(t, h, "GET", target, nil)
		if w.Code != 200 || w.Body.String() != index.Body.String() {
			t.Errorf("GET %s: %d, want index.html", target, w.Code)
		}
	}
	for target, ctype := range map[string]string{
		"/console/js/app.js":   "javascript",
		"/console/style.css":   "text/css",
		"/console/favicon.svg": "image/svg+xml",
		"/console/":            "text/html",
	} {
		w := get(t, h, "GET", target, nil)
		if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), ctype) {
			t.Errorf("GET %s: %d %q, want %s", target, w.Code, w.Header().Get("Content-Type"), ctype)
		}
		if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no security headers: %v", target, w.Header())
		}
	}
	for _, target := range []string{"/console/js/nope.js", "/console/nope.css", "/other"} {
		if w := get(t, h, "GET", target, nil); w.Code != 404 {
			t.Errorf("GET %s: %d, want 404", target, w.Code)
		}
	}
	if w := get(t, h, "POST", "/console/", nil); w.Code != 405 {
		t.Errorf("POST /console/: %d, want 405", w.Code)
	}
	if w := get(t, h, "GET", "/console", nil); w.Code != 301 || w.Header().Get("Location") != "/console/" {
		t.Errorf("GET /console: %d %q, want 301 to /console/", w.Code, w.Header().Get("Location"))
	}
}

func TestHandlerRevalidatesWithETag(t *testing.T) {
	h := Handler()
	w := get(t, h, "GET", "/console/js/app.js", nil)
	etag := w.Header().Get("ETag")
	if etag == "" || w.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, w.Header().Get("Cache-Control"))
	}
	if w := get(t, h, "GET", "/console/js/app.js", map[string]string{"If-None-Match": etag}); w.Code != 304 {
		t.Errorf("If-None-Match: %d, want 304", w.Code)
	}
}

// Every module a script imports and every file index.html names is embedded:
// a typo would only show in a browser otherwise.
func TestReferencesResolve(t *testing.T) {
	assets := load()
	imports := regexp.MustCompile(`(?m)^import [^;]*?from '([^']+)';`)
	for name, a := range assets {
		if path.Ext(name) != ".js" {
			continue
		}
		for _, m := range imports.FindAllStringSubmatch(string(a.data), -1) {
			dep := path.Join(path.Dir(name), m[1])
			if _, ok := assets[dep]; !ok {
				t.Errorf("%s imports %s: no such file", name, m[1])
			}
		}
	}
	refs := regexp.MustCompile(`(?:src|href)="/console/([^"]+\.[a-z]+)"`) // files, not pages
	for _, m := range refs.FindAllStringSubmatch(string(assets["index.html"].data), -1) {
		if _, ok := assets[m[1]]; !ok {
			t.Errorf("index.html names /console/%s: no such file", m[1])
		}
	}
}
