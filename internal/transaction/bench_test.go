package transaction

import (
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transport"
)

// liveTransactions is how many transactions the lookup benchmarks keep in
// the table while they measure: a busy proxy's worth.
const liveTransactions = 10000

// BenchmarkServerRetransmission measures a retransmitted request arriving
// while liveTransactions server transactions wait for their handler: parse,
// key, shard lookup, absorbed (§17.2.2, Trying state).
func BenchmarkServerRetransmission(b *testing.B) {
	c := newCore(nil)
	c.gotRequest = make(chan *ServerTx, liveTransactions)
	l := New(Config{Timers: Timers{T1: time.Hour}}, discard{}, c, nil)
	local := netip.MustParseAddrPort("127.0.0.1:5060")
	msgs := make([][]byte, liveTransactions)
	for i := range msgs {
		msgs[i] = []byte(request("MESSAGE", fmt.Sprintf("z9hG4bK-%08d", i)))
		l.HandlePacket(&transport.Packet{Data: msgs[i], Source: client, Local: local, Proto: transport.UDP})
		<-c.gotRequest
	}
	if l.Count() != liveTransactions {
		b.Fatalf("%d live transactions, want %d", l.Count(), liveTransactions)
	}
	pkts := make([]transport.Packet, len(msgs))
	for i := range pkts {
		pkts[i] = transport.Packet{Data: msgs[i], Source: client, Local: local, Proto: transport.UDP}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l.HandlePacket(&pkts[i%len(pkts)])
	}
	b.StopTimer()
	if n := len(c.gotRequest); n != 0 {
		b.Fatalf("%d retransmissions reached the handler", n)
	}
}

// BenchmarkClientResponse measures a provisional response matched to one of
// liveTransactions client transactions (§17.1.3) and handed to its callback.
func BenchmarkClientResponse(b *testing.B) {
	l := New(Config{Timers: Timers{T1: time.Hour}}, discard{}, newCore(nil), nil)
	var seen atomic.Int64
	resps := make([]transport.Packet, liveTransactions)
	for i := range resps {
		branch := fmt.Sprintf("z9hG4bK-%08d", i)
		if _, err := l.Request(udpDest, []byte(request("MESSAGE", branch)), func(*ClientTx, *sip.Message) { seen.Add(1) }); err != nil {
			b.Fatal(err)
		}
		resps[i] = transport.Packet{Data: []byte(response(100, "Trying", branch, "MESSAGE", "b1")), Source: client, Proto: transport.UDP}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l.HandlePacket(&resps[i%len(resps)])
	}
	b.StopTimer()
	if seen.Load() == 0 {
		b.Fatal("no response reached its client transaction")
	}
}
