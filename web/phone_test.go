package web

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func testPhone() PhoneConfig {
	return PhoneConfig{Domains: []string{"example.test"},
		WebSockets: []PhoneSocket{{Proto: "ws", Host: "", Port: 5066, Path: "/"}, {Proto: "wss", Host: "127.0.0.1", Port: 8443, Path: "/ws"}}}
}

func TestPhoneServesItsFiles(t *testing.T) {
	h := PhoneHandler(testPhone)
	index := get(t, h, "GET", "/phone/", nil)
	if index.Code != 200 || !strings.Contains(index.Body.String(), `src="/phone/phone.js"`) {
		t.Fatalf("GET /phone/: %d %q", index.Code, index.Body.String())
	}
	for target, ctype := range map[string]string{
		"/phone/phone.js":            "javascript",
		"/phone/messages.js":         "javascript",
		"/phone/phone.css":           "text/css",
		"/phone/vendor/jssip.min.js": "javascript",
		"/phone/vendor/LICENSES.md":  "",
		"/phone/phone.svg":           "image/svg+xml",
		"/phone/index.html":          "text/html",
		"/phone/config.json":         "application/json",
	} {
		w := get(t, h, "GET", target, nil)
		if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), ctype) {
			t.Errorf("GET %s: %d %q, want %s", target, w.Code, w.Header().Get("Content-Type"), ctype)
		}
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "connect-src 'self' ws: wss:") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q", target, csp)
		}
	}
	for _, target := range []string{"/phone/nope.js", "/phone/users", "/phone/vendor/", "/phoneX"} {
		if w := get(t, h, "GET", target, nil); w.Code != 404 {
			t.Errorf("GET %s: %d, want 404", target, w.Code)
		}
	}
	if w := get(t, h, "POST", "/phone/config.json", nil); w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %v, want 405 with Allow", w.Code, w.Header())
	}
	if w := get(t, h, "GET", "/phone", nil); w.Code != 301 || w.Header().Get("Location") != "/phone/" {
		t.Errorf("GET /phone: %d %q, want 301 to /phone/", w.Code, w.Header().Get("Location"))
	}
}

// TestPhoneNothingFromElsewhere: every script, style, icon and module the
// page loads is one of its own embedded files (no CDN).
func TestPhoneNothingFromElsewhere(t *testing.T) {
	assets := loadDir(phoneFiles, "phone")
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"|from "([^"]+)"`)
	for _, name := range []string{"index.html", "phone.js"} {
		for _, m := range refs.FindAllStringSubmatch(string(assets[name].data), -1) {
			ref := m[1] + m[2]
			switch {
			case strings.HasPrefix(ref, "./"):
				ref = strings.TrimPrefix(ref, "./")
			case strings.HasPrefix(ref, PhonePrefix):
				ref = strings.TrimPrefix(ref, PhonePrefix)
			default:
				t.Errorf("%s loads %q from outside /phone/", name, ref)
				continue
			}
			if _, ok := assets[ref]; !ok {
				t.Errorf("%s loads %q, which is not embedded", name, ref)
			}
		}
	}
}

func TestPhoneConfigJSON(t *testing.T) {
	w := get(t, PhoneHandler(testPhone), "GET", "/phone/config.json", nil)
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := `{"domains":["example.test"],"ice_servers":[],"websockets":[{"host":"","path":"/","port":5066,"proto":"ws"},{"host":"127.0.0.1","path":"/ws","port":8443,"proto":"wss"}]}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Errorf("config.json = %s\nwant %s", b, want)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", w.Header().Get("Cache-Control"))
	}
	empty := get(t, PhoneHandler(func() PhoneConfig { return PhoneConfig{} }), "GET", "/phone/config.json", nil)
	if s := strings.TrimSpace(empty.Body.String()); s != `{"domains":[],"websockets":[],"ice_servers":[]}` {
		t.Errorf("empty config.json = %s", s)
	}
}
