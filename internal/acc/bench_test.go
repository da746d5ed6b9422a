package acc_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/acc"
)

// discard accepts every batch at once.
type discard struct{}

func (discard) Name() string                              { return "discard" }
func (discard) Write(context.Context, []acc.Record) error { return nil }
func (discard) Close() error                              { return nil }

// BenchmarkRecord is the cost the proxy pays per call: Record of a record as
// the proxy builds it, with an ID or without one (the Writer then makes it),
// into one sink or two, from one goroutine or from all.
func BenchmarkRecord(b *testing.B) {
	r := acc.Record{CallID: "a84b4c76e66710@pc33.example.test", FromURI: "sip:alice@example.test",
		ToURI: "sip:bob@example.test", RequestURI: "sip:bob@example.test", Caller: "alice@example.test",
		Callee: "bob@example.test", Source: "192.0.2.4:5060", Transport: "udp", InviteAt: time.Now(),
		EndAt: time.Now(), Code: 486, Reason: "Busy Here", Disposition: acc.Busy,
		Targets: []string{"sip:bob@192.0.2.9:5060"}}
	for _, bc := range []struct {
		name     string
		id       string
		sinks    int
		parallel bool
	}{
		{"with_id", "0123456789abcdef0123456789abcdef", 1, false},
		{"new_id", "", 1, false},
		{"two_sinks", "0123456789abcdef0123456789abcdef", 2, false},
		{"parallel", "", 1, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sinks := make([]acc.Sink, bc.sinks)
			for i := range sinks {
				sinks[i] = discard{}
			}
			w := acc.NewWriter(acc.WriterConfig{}, sinks, nil)
			defer w.Close(context.Background())
			r := r
			r.ID = bc.id
			b.ReportAllocs()
			if bc.parallel {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						w.Record(r)
					}
				})
				return
			}
			for b.Loop() {
				w.Record(r)
			}
		})
	}
}
