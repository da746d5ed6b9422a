// Package web is Parley's web console: plain HTML, CSS and JavaScript modules
// (no build step, nothing fetched from elsewhere at run time) embedded in the
// binary and served under /console/. The console talks to the management API
// under /api/v1 with the session cookie that POST /api/v1/login sets.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var embedded embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console/"

// csp allows only the console's own files: no inline script, no other origin.
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

type asset struct {
	data  []byte
	etag  string
	ctype string
}

// load reads every embedded file of the console once, with its ETag and content type.
func load() map[string]asset { return loadDir(embedded, "static") }

// loadDir reads every file under dir of fsys, keyed by its path below dir.
func loadDir(fsys fs.FS, dir string) map[string]asset {
	static, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	out := make(map[string]asset)
	err = fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(static, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = http.DetectContentType(data)
		}
		out[name] = asset{data: data, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: ctype}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
}

// Handler serves the console under Prefix: its files by name, and index.html
// for any other path without a file extension (the console's own pages, such
// as /console/users, are routed in the browser). A missing file with an
// extension is 404. Responses carry an ETag and are revalidated on each use.
func Handler() http.Handler {
	assets := load()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path+"/" == Prefix {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		a, found := assets[name]
		if !found {
			if path.Ext(name) != "" {
				http.NotFound(w, r)
				return
			}
			a = assets["index.html"]
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", a.etag)
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
	})
}
