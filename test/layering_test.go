package test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLayering enforces the dependency direction of STYLE.md: the SIP core
// imports only downward (sip ← transport ← transaction ← sipserver), feature
// packages do not import each other (the stores they share — location, acc,
// users, db — are not features), and nothing imports app or api.
func TestLayering(t *testing.T) {
	const mod = "github.com/parley-sip/parley/internal/"
	allowed := map[string][]string{
		"sip":         {},
		"transport":   {},
		"transaction": {"sip", "transport"},
		"sipserver":   {"sip", "transport", "transaction"},
		"db":          {},
		"location":    {},
		"acc":         {"db"},
		"auth":        {"sip", "sipserver"},
		"users":       {"auth", "db"},
		"registrar":   {"location", "sip", "sipserver"},
		"proxy":       {"acc", "location", "rtpengine", "sip", "sipserver", "transaction", "transport"},
		"rtpengine":   {},
		"config":      {},

		// The RFC 3263 resolver, used by app only: the proxy sees transport.Resolver.
		"transport/resolve": {"transport"},
	}
	for pkg, ok := range allowed {
		out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "../internal/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, imp := range strings.Fields(string(out)) {
			if !strings.HasPrefix(imp, mod) {
				if strings.HasPrefix(imp, "github.com/parley-sip/parley/") {
					t.Errorf("%s imports %s", pkg, imp)
				}
				continue
			}
			dep := strings.TrimPrefix(imp, mod)
			if !slices.Contains(ok, dep) {
				t.Errorf("internal/%s imports internal/%s: not allowed by the layering (STYLE.md)", pkg, dep)
			}
		}
	}
}
