package test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestSipgoOptions: an independent implementation, emiago/sipgo, sends
// OPTIONS to Parley over UDP and TCP and gets 200 (RFC 3261 §11).
func TestSipgoOptions(t *testing.T) {
	s := startServer(t, serverOpts{listen: []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}})
	sip.SetDefaultLogger(slog.New(slog.DiscardHandler))
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("e2e"), sipgo.WithUserAgentHostname("example.test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	cl, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientNAT())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"udp", "tcp"} {
		t.Run(key, func(t *testing.T) {
			a := s.addr(t, key)
			uri := sip.Uri{Scheme: "sip", Host: a.Addr().String(), Port: int(a.Port())}
			req := sip.NewRequest(sip.OPTIONS, uri)
			req.SetTransport(map[string]string{"udp": "UDP", "tcp": "TCP"}[key])
			ctx, cancel := context.WithTimeout(context.Background(), replyTimeout)
			defer cancel()
			res, err := cl.Do(ctx, req)
			if err != nil {
				t.Fatalf("sipgo Do: %v", err)
			}
			if res.StatusCode != 200 {
				t.Fatalf("got %d %s, want 200\n%s", res.StatusCode, res.Reason, res)
			}
			for _, h := range []string{"Allow", "Accept", "Supported"} {
				if res.GetHeader(h) == nil {
					t.Errorf("no %s header in\n%s", h, res)
				}
			}
			if to := res.To(); to == nil || !to.Params.Has("tag") {
				t.Errorf("no To tag in\n%s", res)
			}
		})
	}
}
