package location_test

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/location/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) location.Store { return location.NewMemory() })
}

// realistic returns the i-th of many typical bindings: contact ~60 bytes,
// Call-ID ~40, User-Agent ~25, no Path.
func realistic(i int, now time.Time) location.Binding {
	return location.Binding{
		AOR:       fmt.Sprintf("user%06d@example.test", i),
		Contact:   fmt.Sprintf("sip:user%06d@198.51.%d.%d:5060;transport=udp;ob;line=a1", i, i>>8&255, i&255),
		Q:         1000,
		Expires:   now.Add(time.Hour),
		CallID:    fmt.Sprintf("%016x-%08x@198.51.100.7", i*7919, i),
		CSeq:      uint32(i),
		Transport: "UDP",
		Received:  fmt.Sprintf("sip:203.0.113.%d:%d;transport=udp", i&255, 1024+i%60000),
		Source:    netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}), uint16(1024+i%60000)),
		Local:     netip.MustParseAddrPort("192.0.2.1:5060"),
		Instance:  "parley-1",
		UserAgent: "Yealink SIP-T46U 108.86.0",
		Updated:   now,
	}
}

func fill(tb testing.TB, s location.Store, n int) {
	now := time.Now()
	for i := range n {
		b := realistic(i, now)
		if _, err := s.Update(context.Background(), b.AOR, func([]location.Binding) ([]location.Binding, error) {
			return []location.Binding{b}, nil
		}); err != nil {
			tb.Fatal(err)
		}
	}
}

func heap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryFootprint: 100,000 typical bindings take at most 1 KiB each.
func TestMemoryFootprint(t *testing.T) {
	const n = 100_000
	before := heap()
	m := location.NewMemory()
	fill(t, m, n)
	per := float64(heap()-before) / n
	runtime.KeepAlive(m)
	t.Logf("memory store: %.0f bytes per binding with %d bindings", per, n)
	if per > 1024 {
		t.Fatalf("%.0f bytes per binding, want at most 1024", per)
	}
	if c, _ := m.Count(context.Background()); c != n {
		t.Fatalf("Count = %d", c)
	}
}
