package resolve

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/parley-sip/parley/internal/transport"
	"github.com/parley-sip/parley/internal/transport/resolve/resolvetest"
)

func srvRR(prio, weight uint16, target string) dns.RR {
	return &dns.SRV{Hdr: dns.RR_Header{Rrtype: dns.TypeSRV}, Priority: prio, Weight: weight, Port: 5060, Target: target}
}

// firstCounts orders rrs n times and counts which target comes first.
func firstCounts(r *Resolver, rrs []dns.RR, n int) map[string]int {
	got := map[string]int{}
	for range n {
		got[r.orderSRV(rrs)[0].Target]++
	}
	return got
}

// TestRFC2782_WeightedSelection: within a priority, a record is chosen first
// in proportion to its weight; weight 0 records are chosen first only
// rarely when others have weight; a lower priority always wins.
func TestRFC2782_WeightedSelection(t *testing.T) {
	r := New(Config{Servers: []string{"127.0.0.1:53"}})
	r.rnd = rand.New(rand.NewPCG(1, 2)) // reproducible draws
	const n = 4000
	t.Run("90/10", func(t *testing.T) {
		got := firstCounts(r, []dns.RR{srvRR(10, 10, "light."), srvRR(10, 90, "heavy.")}, n)
		if h := got["heavy."]; h < n*85/100 || h > n*95/100 {
			t.Errorf("heavy first %d of %d times, want about 90%%", h, n)
		}
	})
	t.Run("weight 0 beside weight 100", func(t *testing.T) {
		got := firstCounts(r, []dns.RR{srvRR(10, 0, "zero."), srvRR(10, 100, "hundred.")}, n)
		if z := got["zero."]; z > n*3/100 {
			t.Errorf("weight 0 first %d of %d times, want about 1%%", z, n)
		}
	})
	t.Run("all weight 0: first listed first", func(t *testing.T) {
		got := firstCounts(r, []dns.RR{srvRR(10, 0, "a."), srvRR(10, 0, "b.")}, n)
		if got["a."] != n {
			t.Errorf("with all weights 0 the first listed comes first: got %v", got)
		}
	})
	t.Run("priority before weight", func(t *testing.T) {
		got := firstCounts(r, []dns.RR{srvRR(20, 1000, "backup."), srvRR(10, 1, "primary.")}, n)
		if got["primary."] != n {
			t.Errorf("got %v, want primary always first", got)
		}
	})
	t.Run("every record kept once", func(t *testing.T) {
		rrs := []dns.RR{srvRR(10, 5, "a."), srvRR(10, 0, "b."), srvRR(20, 3, "c."), srvRR(10, 7, "d."), srvRR(20, 0, "e.")}
		for range 100 {
			out := r.orderSRV(rrs)
			seen := map[string]bool{}
			for i, s := range out {
				seen[s.Target] = true
				if i > 0 && s.Priority < out[i-1].Priority {
					t.Fatalf("priority order broken: %v", out)
				}
			}
			if len(out) != 5 || len(seen) != 5 {
				t.Fatalf("got %d records (%d distinct), want 5", len(out), len(seen))
			}
		}
	})
}

// TestRFC2782_WeightsOverDNS: the weighted choice applies to records served
// by a DNS server, through Resolve.
func TestRFC2782_WeightsOverDNS(t *testing.T) {
	srv := resolvetest.Start(t,
		`_sip._udp.w.test. 60 IN SRV 10 80 5060 a.w.test.`,
		`_sip._udp.w.test. 60 IN SRV 10 20 5060 b.w.test.`,
		`a.w.test. 60 IN A 127.0.0.31`,
		`b.w.test. 60 IN A 127.0.0.32`)
	r := New(Config{Servers: []string{srv.Addr}, Timeout: time.Second})
	first := map[string]int{}
	const n = 500
	for range n {
		ds, err := r.Resolve(context.Background(), transport.Target{Host: "w.test", Proto: transport.UDP})
		if err != nil || len(ds) != 2 {
			t.Fatalf("got %v, %v", dests(ds), err)
		}
		first[ds[0].Addr.Addr().String()]++
	}
	if a := first["127.0.0.31"]; a < n*65/100 || a > n*93/100 {
		t.Errorf("weight 80 first %d of %d times, want about 80%%", a, n)
	}
	if q := srv.Queries("_sip._udp.w.test", dns.TypeSRV); q != 1 {
		t.Errorf("SRV asked %d times in %d resolutions, want 1 (cached)", q, n)
	}
}
