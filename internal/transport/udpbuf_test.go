//go:build linux

package transport

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// rcvbuf returns the SO_RCVBUF the kernel reports for ln's UDP socket
// (Linux reports twice the size asked for, its bookkeeping included).
func rcvbuf(t *testing.T, ln *Listener) int {
	t.Helper()
	rc, err := ln.udp.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var serr error
	if err := rc.Control(func(fd uintptr) { n, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return n
}

// TestUDPRecvBuffer checks that a UDP listener asks the kernel for
// Config.UDPRecvBuffer, and keeps the system default when it is negative.
func TestUDPRecvBuffer(t *testing.T) {
	raw, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Skip("no /proc/sys/net/core/rmem_max")
	}
	rmemMax, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	const want = 1 << 20
	if rmemMax < want {
		t.Skipf("net.core.rmem_max is %d, below the %d this test asks for", rmemMax, want)
	}
	big := listen(t, newLayer(t, Config{UDPRecvBuffer: want}, nil), "udp:127.0.0.1:0")
	if got := rcvbuf(t, big); got < want {
		t.Errorf("SO_RCVBUF = %d, want at least %d", got, want)
	}
	sys := listen(t, newLayer(t, Config{UDPRecvBuffer: -1}, nil), "udp:127.0.0.1:0")
	if got := rcvbuf(t, sys); got >= want {
		t.Errorf("SO_RCVBUF = %d with UDPRecvBuffer -1, want the system default (below %d)", got, want)
	}
}
