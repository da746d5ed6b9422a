package test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The SIPp registration load test: 10,000 distinct users register with digest
// against the parley binary, at 500 registrations per second.

const (
	sippDir   = "../../shared/bench/sipp" // relative to test/: /work/shared/bench/sipp
	sippUsers = 10000
)

// sippFile returns the path of a file of the shared SIPp bench directory,
// skipping (failing under CI) when it is missing.
func sippFile(t *testing.T, name string) string {
	t.Helper()
	for _, dir := range []string{os.Getenv("PARLEY_SIPP_DIR"), "/work/shared/bench/sipp", sippDir, "../bench/sipp"} {
		if dir == "" {
			continue
		}
		p, err := filepath.Abs(filepath.Join(dir, name))
		if err == nil {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("SIPp bench file %s not found (set PARLEY_SIPP_DIR)", name)
	}
	t.Skipf("SIPp bench file %s not found (set PARLEY_SIPP_DIR)", name)
	return ""
}

// TestSippRegister10kDigestRFC3261s10_22: `parley user import` loads the 10k
// users of users.csv, SIPp registers every one with digest (401, then 200)
// with no failure, and afterwards the location service holds 10,000
// bindings: listed by REGISTER for a few users while the server runs, and
// counted in the database after a graceful stop.
func TestSippRegister10kDigestRFC3261s10_22(t *testing.T) {
	if testing.Short() {
		t.Skip("load test; not in -short")
	}
	sipp := needBinary(t, "sipp", "sip-tester")
	users, scenario := sippFile(t, "users.csv"), sippFile(t, "reg_auth.xml")
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "p.db")
	if out := userOK(t, "import", users, "--domain", "127.0.0.1", "--db", dsn); !strings.Contains(out, "imported 10000 users") {
		t.Fatalf("import printed %q", out)
	}

	p := runParley(t, "serve", "--listen", "udp:127.0.0.1:0", "--http", "off", "--db", dsn, "--domain", "127.0.0.1")
	m := p.waitLog(t, 0, `msg=listening transport=UDP addr=(\S+)`, 10*time.Second)
	target, err := netip.ParseAddrPort(m[1])
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, target.String(), "-sf", scenario, "-inf", users,
		"-m", strconv.Itoa(sippUsers), "-r", "500", "-l", "200", "-buff_size", "4194304", "-timeout", "120s",
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)), "-nostdin", "-trace_stat", "-trace_screen")
	cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "sipp.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err = cmd.Run() // CommandContext kills SIPp by its PID when ctx ends
	elapsed := time.Since(start)
	stats := sippStats(t, dir)
	t.Logf("SIPp: %s successful, %s failed, %s retransmissions, call rate %s cps, elapsed %v (wall %v, %.0f registrations/s)",
		stats["SuccessfulCall(C)"], stats["FailedCall(C)"], stats["Retransmissions(C)"], stats["CallRate(C)"],
		stats["ElapsedTime(C)"], elapsed.Round(time.Millisecond), float64(sippUsers)/elapsed.Seconds())
	if err != nil {
		t.Errorf("sipp: %v (exit code 0 means every call succeeded)\n%s", err, screen(dir))
	}
	if stats["SuccessfulCall(C)"] != strconv.Itoa(sippUsers) || stats["FailedCall(C)"] != "0" {
		t.Fatalf("want %d successful and 0 failed registrations, got %s and %s\n%s",
			sippUsers, stats["SuccessfulCall(C)"], stats["FailedCall(C)"], screen(dir))
	}

	c := dialUDPTo(t, target)
	for _, n := range []int{0, 4242, sippUsers - 1} {
		user := "user" + strings.Repeat("0", 5-len(strconv.Itoa(n))) + strconv.Itoa(n)
		r := newRegisterer(c, user)
		r.domain, r.ruri, r.pw = "127.0.0.1", "sip:"+target.String(), "secret"
		if bs := r.list(t); len(bs) != 1 {
			t.Errorf("%s has bindings %v, want the one SIPp registered", user, bs)
		}
	}

	signal(t, p, syscall.SIGTERM)
	if code := p.wait(t, 40*time.Second); code != 0 {
		t.Fatalf("parley exited %d after SIGTERM", code)
	}
	if n := storedCount(t, openDB(t, dsn)); n != sippUsers {
		t.Errorf("location table holds %d bindings after a graceful stop, want %d", n, sippUsers)
	}
}

// freeUDPPort returns a loopback UDP port that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sippStats returns the last row of SIPp's -trace_stat file by column name.
func sippStats(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*_.csv"))
	if len(files) != 1 {
		out, _ := os.ReadFile(filepath.Join(dir, "sipp.out"))
		t.Fatalf("want one SIPp statistics file in %s, found %v; SIPp said:\n%s", dir, files, out)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 {
		t.Fatalf("SIPp statistics file has no data:\n%s", data)
	}
	names, values := strings.Split(lines[0], ";"), strings.Split(lines[len(lines)-1], ";")
	out := map[string]string{}
	for i, n := range names {
		if i < len(values) {
			out[n] = values[i]
		}
	}
	return out
}

// screen returns SIPp's final screens (-trace_screen), for failure messages.
func screen(dir string) string {
	files, _ := filepath.Glob(filepath.Join(dir, "*_screen.log"))
	if len(files) == 0 {
		return "(no SIPp screen file)"
	}
	b, _ := os.ReadFile(files[0])
	return string(b)
}
