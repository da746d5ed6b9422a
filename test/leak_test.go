package test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestNoGoroutineLeak: after traffic on every transport and Shutdown, the
// App leaves no goroutine behind (STYLE.md 10, after miekg/dns leak_test.go).
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	s := startServer(t, serverOpts{http: "127.0.0.1:0"})
	for key := range s.addrs {
		c := dial(t, s, key)
		c.send(optionsSelf)
		c.expect(t, `^SIP/2.0 200 `)
		c.close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.app.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if !waitFor(3*time.Second, func() bool { return runtime.NumGoroutine() <= before }) {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var ours []string
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "parley-sip/parley/internal") {
				ours = append(ours, g)
			}
		}
		t.Errorf("%d goroutines before, %d after Shutdown; Parley's:\n%s",
			before, runtime.NumGoroutine(), strings.Join(ours, "\n\n"))
	}
}
