package phones

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/db/dbtest"
	"github.com/parley-sip/parley/internal/proctest"
)

// Administrator of the management API for `parley calls`.
const (
	cdrAdmin   = "root"
	cdrAdminPw = "rootpass1"
)

// cdrServer is one `parley serve` of the CDR test. It listens on UDP only, on
// a port chosen once, so that a restart comes back at the same address and
// the phones' registrations (restored from the database) still lead to them.
type cdrServer struct {
	*parley
	name    string
	args    []string // serve arguments, reused by restart
	cdrFile string   // --cdr-file
	http    string   // management listener, "" when off
	starts  int
}

type cdrServerOpts struct {
	name   string
	dsn    string
	config string // YAML, may be empty
	http   bool   // --http 127.0.0.1:PORT and an administrator
	users  map[string]string
}

// startCDRServer adds the users (and the administrator) with the binary, then
// starts `parley serve` with --cdr-file and waits until it listens.
func startCDRServer(t *testing.T, bin, dir string, pp *portPlan, o cdrServerOpts) (*cdrServer, error) {
	sdir := filepath.Join(dir, o.name)
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return nil, err
	}
	base, err := pp.block(10, func(p int) bool { return proctest.PortsFree([]int{p}, []int{p, p + 1}) })
	if err != nil {
		return nil, err
	}
	s := &cdrServer{parley: &parley{bin: bin, dir: sdir, db: o.dsn, addr: map[string]string{}},
		name: o.name, cdrFile: filepath.Join(sdir, "cdr.jsonl")}
	for u, pw := range o.users {
		if err := userAdd(bin, o.dsn, u, pw); err != nil {
			return nil, err
		}
	}
	httpArg := "off"
	if o.http {
		out, err := runBounded(exec.Command(bin, "admin", "add", cdrAdmin, "--password", cdrAdminPw, "--db", o.dsn), 30*time.Second)
		if err != nil {
			return nil, fmt.Errorf("parley admin add: %v\n%s", err, out)
		}
		s.http = fmt.Sprintf("127.0.0.1:%d", base+1)
		httpArg = s.http
	}
	s.args = []string{"serve", "--listen", fmt.Sprintf("udp:127.0.0.1:%d", base), "--domain", domain,
		"--db", o.dsn, "--http", httpArg, "--cdr-file", s.cdrFile, "--log-level", "info"}
	if o.config != "" {
		cfg := filepath.Join(sdir, "parley.yaml")
		if err := os.WriteFile(cfg, []byte(o.config), 0o644); err != nil {
			return nil, err
		}
		s.args = append(s.args, "--config", cfg)
	}
	return s, s.start(t)
}

// start runs the binary with s.args and waits up to 15 s for the UDP
// listener (and the management API, if on).
func (s *cdrServer) start(t *testing.T) error {
	s.starts++
	p, err := startProc(t, fmt.Sprintf("parley-%s-%d", s.name, s.starts), nil, nil, s.bin, s.args...)
	if err != nil {
		return err
	}
	s.p = p
	s.addr = map[string]string{}
	ok := proctest.WaitFor(15*time.Second, func() bool {
		for _, m := range listeningRE.FindAllStringSubmatch(p.Log(), -1) {
			s.addr[strings.ToLower(m[1])] = m[2]
		}
		if s.addr["udp"] == "" {
			return !p.Running()
		}
		return s.http == "" || httpUp(s.http) || !p.Running()
	})
	if !ok || s.addr["udp"] == "" || !p.Running() {
		return fmt.Errorf("parley %s did not come up within 15 s (listeners %v):\n%s", s.name, s.addr, proctest.Tail(p.Log(), 3000))
	}
	return nil
}

func httpUp(addr string) bool {
	c := http.Client{Timeout: time.Second}
	res, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == 200
}

// stop sends SIGTERM and waits up to 40 s for exit status 0 (Parley drains,
// then flushes the call records; its writer gives up after 30 s).
func (s *cdrServer) stop() error {
	if !s.p.Running() {
		return fmt.Errorf("parley %s had already exited: %v", s.name, s.p.Err())
	}
	if err := s.p.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if !s.p.Wait(40 * time.Second) {
		s.p.Kill()
		return fmt.Errorf("parley %s did not exit within 40 s of SIGTERM", s.name)
	}
	if s.p.Err() != nil {
		return fmt.Errorf("parley %s exited with %v after SIGTERM:\n%s", s.name, s.p.Err(), proctest.Tail(s.p.Log(), 2000))
	}
	return nil
}

// log is Parley's output so far.
func (s *cdrServer) log() string { return s.p.Log() }

// parleyCalls runs `parley calls [args...] --http ADDR --admin root --password PW`.
func (s *cdrServer) parleyCalls(args ...string) (string, error) {
	args = append(append([]string{"calls"}, args...), "--http", s.http, "--admin", cdrAdmin, "--password", cdrAdminPw)
	out, err := runBounded(exec.Command(s.bin, args...), 15*time.Second)
	if err != nil {
		return string(out), fmt.Errorf("parley %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// activeCalls lists the calls in progress through `parley calls --json`.
func (s *cdrServer) activeCalls() ([]map[string]any, error) {
	out, err := s.parleyCalls("--json")
	if err != nil {
		return nil, err
	}
	var items []map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &items); err != nil {
		return nil, fmt.Errorf("parley calls --json: %v: %q", err, out)
	}
	return items, nil
}

// ---- PostgreSQL ----

// cdrPG makes throw-away databases on the server of PARLEY_TEST_POSTGRES and
// takes them away from (and gives them back to) Parley.
type cdrPG struct {
	t    *testing.T
	base string
}

// newDB returns the DSN and name of a new empty database, dropped when the
// test ends (with its connections allowed again first).
func (pg *cdrPG) newDB() (dsn, name string, err error) {
	dsn = dbtest.DSN(pg.t, "postgres")
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", err
	}
	name = strings.TrimPrefix(u.Path, "/")
	pg.t.Cleanup(func() { pg.allow(name, true) })
	return dsn, name, nil
}

func (pg *cdrPG) admin(f func(d *db.DB) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	d, err := db.Open(ctx, pg.base)
	if err != nil {
		return err
	}
	defer d.Close()
	return f(d)
}

// allow lets connections to database name in again, or refuses them and
// terminates the open ones (the database "stops" for its clients).
func (pg *cdrPG) allow(name string, allow bool) error {
	return pg.admin(func(d *db.DB) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := d.ExecContext(ctx, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %v", name, allow)); err != nil {
			return fmt.Errorf("ALTER DATABASE %s ALLOW_CONNECTIONS %v: %w", name, allow, err)
		}
		if allow {
			return nil
		}
		if _, err := d.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
			return fmt.Errorf("pg_terminate_backend: %w", err)
		}
		return nil
	})
}

// backends counts the connections open to database name.
func (pg *cdrPG) backends(name string) (int, error) {
	n := 0
	err := pg.admin(func(d *db.DB) error {
		return d.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name).Scan(&n)
	})
	return n, err
}
