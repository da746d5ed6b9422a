// Package rtpenginetest runs a real rtpengine daemon (Debian package
// rtpengine-daemon) for tests: userspace only (no kernel module, --table=-1),
// media and control on 127.0.0.1, stopped when the test ends.
//
// Without the rtpengine binary the test is skipped, unless the CI environment
// variable is set, when it fails: a broken install must not pass silently.
package rtpenginetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/proctest"
	"github.com/parley-sip/parley/internal/rtpengine"
)

// Daemon is one running rtpengine.
type Daemon struct {
	// Addr is its ng control address, "udp:127.0.0.1:PORT".
	Addr string
	// PortMin and PortMax bound the media ports it uses.
	PortMin, PortMax int

	p *proctest.Proc
}

// Binary returns the rtpengine binary ($RTPENGINE, else rtpengine on PATH),
// skipping the test (failing it under CI) when there is none.
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("RTPENGINE")
	if bin == "" {
		bin, _ = exec.LookPath("rtpengine")
	}
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("rtpengine is needed in CI: apt-get install rtpengine-daemon")
		}
		t.Skip("rtpengine not installed (apt-get install rtpengine-daemon); skipping")
	}
	return bin
}

// Start runs rtpengine on a free control port and a random block of 200
// media ports, and waits until it answers ping (at most 10 s).
func Start(t testing.TB) *Daemon {
	t.Helper()
	bin := Binary(t)
	var last error
	for range 3 { // the free port may be taken between the probe and the bind
		d, err := start(bin)
		if err == nil {
			t.Cleanup(func() {
				d.Stop()
				if t.Failed() || os.Getenv("RTPENGINE_LOG") != "" {
					t.Logf("rtpengine log:\n%s", d.Log())
				}
			})
			return d
		}
		last = err
	}
	t.Fatalf("rtpengine did not start: %v", last)
	return nil
}

func start(bin string) (*Daemon, error) {
	port, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	lo := 20000 + 200*rand.IntN(150) // 20000-49999
	d := &Daemon{Addr: fmt.Sprintf("udp:127.0.0.1:%d", port), PortMin: lo, PortMax: lo + 199}
	d.p, err = proctest.Start("rtpengine", exec.Command(bin, "--config-file=none", "--foreground", "--log-stderr", "--table=-1",
		"--interface=127.0.0.1", fmt.Sprintf("--listen-ng=127.0.0.1:%d", port),
		fmt.Sprintf("--port-min=%d", d.PortMin), fmt.Sprintf("--port-max=%d", d.PortMax),
		"--num-threads=2", "--delete-delay=0", "--timeout=60", "--log-level=6"))
	if err != nil {
		return nil, err
	}
	c, err := rtpengine.New(d.Addr, rtpengine.Options{Timeout: 200 * time.Millisecond, Tries: 1})
	if err != nil {
		d.Stop()
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !d.p.Running() {
			return nil, fmt.Errorf("rtpengine exited: %s", d.Log())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err = c.Ping(ctx)
		cancel()
		if err == nil {
			return d, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.Stop()
	return nil, fmt.Errorf("no pong within 10 s (%v): %s", err, d.Log())
}

// freeUDPPort returns a UDP port of 127.0.0.1 that was free a moment ago.
func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// Stop ends the daemon (SIGTERM, then SIGKILL after 5 s) and waits for it.
// It may be called more than once, to simulate an outage mid-test.
func (d *Daemon) Stop() { d.p.Stop(5 * time.Second) }

// Log returns what rtpengine printed (its last 200 lines).
func (d *Daemon) Log() string { return proctest.TailLines(d.p.Log(), 200) }
