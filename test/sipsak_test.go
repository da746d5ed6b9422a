package test

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSipsakOptions: Debian's sipsak sends OPTIONS (its default "shoot" mode)
// to Parley over UDP and gets 200.
//
// sipsak 0.9.8 truncates a 5-digit port in the Request-URI it writes (15070
// becomes 1507), so the listener needs a 4-digit port: the test tries ports
// of 5070-9999 from a random start until one binds. This is the only fixed
// port in the package.
func TestSipsakOptions(t *testing.T) {
	bin, err := exec.LookPath("sipsak")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("sipsak not installed (apt-get install sipsak): %v", err)
		}
		t.Skipf("sipsak not installed (apt-get install sipsak): %v", err)
	}
	s := startFourDigitUDP(t)
	a := s.addr(t, "udp")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-vv", "-s", "sip:"+a.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("sipsak -s sip:%s: %v\n%s", a, err, out)
	}
	if !strings.Contains(string(out), "SIP/2.0 200 OK") {
		t.Fatalf("sipsak did not report 200 OK:\n%s", out)
	}
}

// startFourDigitUDP starts a server with one UDP listener on a free port
// between 5070 and 9999.
func startFourDigitUDP(t *testing.T) *server {
	t.Helper()
	const lo, hi = 5070, 9999
	start := lo + rand.IntN(hi-lo+1)
	for i := range 64 {
		port := lo + (start-lo+i*37)%(hi-lo+1)
		s, err := tryStartServer(t, serverOpts{listen: []string{"udp:127.0.0.1:" + strconv.Itoa(port)}})
		if err == nil {
			return s
		}
	}
	t.Fatalf("no free UDP port in %d-%d after 64 tries", lo, hi)
	return nil
}
