package test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
)

// runCLI runs the parley binary with args (30 s bound) and returns its exit
// code, stdout and stderr.
func runCLI(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildParley(t), args...)
	cmd.Env = append(cmd.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	} else if err != nil {
		t.Fatalf("parley %v: %v", args, err)
	}
	return 0, out.String(), errb.String()
}

// TestAPICLI: `parley admin add` (through the built binary) creates an
// administrator who can log in; `parley calls` lists a call in progress and
// `parley calls end ID` ends it with a BYE to both ends.
func TestAPICLI(t *testing.T) {
	const name, pw = "cli-admin", "cli-password-1"
	var dsn string
	e := startAPI(t, serverOpts{edit: func(c *config.Config) {
		dsn = c.DB
		if code, out, errs := runCLI(t, nil, "admin", "add", name, "--password", pw, "--db", dsn); code != 0 ||
			strings.TrimSpace(out) != "added "+name {
			t.Fatalf("parley admin add: exit %d\n%s%s", code, out, errs)
		}
		for _, tc := range []struct{ args []string }{
			{[]string{"admin", "add", name, "--password", "another-one-1", "--db", dsn}}, // exists
			{[]string{"admin", "add", "weak", "--password", "short", "--db", dsn}},
			{[]string{"admin", "add", "bad name", "--password", "long-enough-1", "--db", dsn}},
		} {
			if code, _, errs := runCLI(t, nil, tc.args...); code != 1 || !strings.Contains(errs, "parley:") {
				t.Errorf("parley %v: exit %d, stderr %q; want 1 and a message", tc.args, code, errs)
			}
		}
	}})
	e.login(t, name, pw)
	httpAddr := e.app.HTTPAddr().String()

	alice, bob := newAPIUA(t, e.server, "alice"), newAPIUA(t, e.server, "bob")
	call := startCall(t, alice, bob)
	auth := []string{"--http", httpAddr, "--admin", name, "--password", pw}

	code, out, errs := runCLI(t, nil, append([]string{"calls"}, auth...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], "confirmed") ||
		!strings.Contains(lines[1], "alice@example.test") || !strings.Contains(lines[1], "bob@example.test") {
		t.Fatalf("parley calls: exit %d\n%s%s", code, out, errs)
	}
	id := strings.Fields(lines[1])[0]

	// --json, with the credentials from the environment.
	code, out, _ = runCLI(t, []string{"PARLEY_ADMIN=" + name, "PARLEY_ADMIN_PASSWORD=" + pw}, "calls", "--http", httpAddr, "--json")
	var items []map[string]any
	if err := json.Unmarshal([]byte(out), &items); code != 0 || err != nil || len(items) != 1 || items[0]["id"] != id ||
		items[0]["call_id"] != call.callID {
		t.Errorf("parley calls --json: exit %d, %v\n%s", code, err, out)
	}

	if code, _, errs := runCLI(t, nil, append([]string{"calls", "end", "nosuchcall"}, auth...)...); code != 1 || !strings.Contains(errs, "404") {
		t.Errorf("parley calls end of an unknown call: exit %d, %s", code, errs)
	}
	if code, _, errs := runCLI(t, nil, "calls", "--http", httpAddr, "--admin", name, "--password", "wrong"); code != 1 ||
		!strings.Contains(errs, "login") || !strings.Contains(errs, "401") {
		t.Errorf("parley calls with a wrong password: exit %d, %s", code, errs)
	}
	code, out, errs = runCLI(t, nil, append([]string{"calls", "end", id}, auth...)...)
	if code != 0 || strings.TrimSpace(out) != "ended "+id {
		t.Fatalf("parley calls end: exit %d\n%s%s", code, out, errs)
	}
	alice.expectBye(t)
	bob.expectBye(t)
	if code, out, _ := runCLI(t, nil, append([]string{"calls"}, auth...)...); code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("parley calls after the end: exit %d\n%s", code, out)
	}
}
