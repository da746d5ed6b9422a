package sipserver

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transaction"
)

// strayRecorder is the StatelessHandler of these tests: it records the
// responses the Server passes on for relaying.
type strayRecorder struct{ got chan string }

func (r *strayRecorder) ServeAck(*sip.Message, transaction.Source) {}
func (r *strayRecorder) ServeResponse(res *sip.Message, _ transaction.Source) {
	r.got <- string(res.Via.Branch)
}

// TestForgedResponseNotRelayed: with a listener on 0.0.0.0 (the default
// udp:0.0.0.0:5060), a response that matches no transaction is passed on for
// relaying to its second Via only when its top Via carries a branch Parley
// signed over that second Via (RFC 3261 §18.1.2: otherwise it is discarded).
// Naming Parley's port, or its address, in the top Via is not enough, and a
// genuine branch replayed above another Via is refused.
func TestForgedResponseNotRelayed(t *testing.T) {
	rec := &strayRecorder{got: make(chan string, 4)}
	s := New(Config{Secret: []byte("test secret")}, nil, nil)
	s.SetStateless(rec)
	ln, err := s.Listen("udp:0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(t.Context())
	port := ln.Addr().Port()
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	below := "SIP/2.0/UDP 192.0.2.2:5060;branch=z9hG4bK-victim"
	prev, err := sip.ParseVia([]byte(below))
	if err != nil {
		t.Fatal(err)
	}
	signed := s.Transactions().SignBranch(&prev, transaction.NewBranch())
	tests := []struct {
		name, top, below string
		relay            bool
	}{
		{"any host on our port", fmt.Sprintf("192.0.2.1:%d;branch=z9hG4bK-forged", port), below, false},
		{"our own address and port", fmt.Sprintf("127.0.0.1:%d;branch=z9hG4bK-forged", port), below, false},
		{"our branch above another Via", fmt.Sprintf("127.0.0.1:%d;branch=%s", port, signed), "SIP/2.0/UDP 198.51.100.9:5060;branch=z9hG4bK-victim", false},
		{"our branch above its own Via", fmt.Sprintf("127.0.0.1:%d;branch=%s", port, signed), below, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Stats().StrayDropped
			fmt.Fprintf(c, "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP %s\r\nVia: %s\r\n"+
				"From: <sip:a@example.test>;tag=1\r\nTo: <sip:b@example.test>;tag=2\r\n"+
				"Call-ID: stray-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", tt.top, tt.below, i)
			if tt.relay {
				select {
				case <-rec.got:
				case <-time.After(2 * time.Second):
					t.Fatal("Parley's own response was not passed on")
				}
				if d := s.Stats().StrayDropped - before; d != 0 {
					t.Errorf("StrayDropped grew by %d", d)
				}
				return
			}
			// Dropping and passing on happen on the same goroutine: once the
			// drop is counted, nothing else will come of this response.
			deadline := time.Now().Add(2 * time.Second)
			for s.Stats().StrayDropped == before && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if d := s.Stats().StrayDropped - before; d != 1 {
				t.Errorf("StrayDropped grew by %d, want 1", d)
			}
			select {
			case b := <-rec.got:
				t.Errorf("response with top branch %q passed on for relaying", b)
			default:
			}
		})
	}
}
