package sip

import (
	"os"
	"testing"

	sipgo "github.com/emiago/sipgo/sip"
)

// The benchmarks put Parley's parser beside sipgo v1.7.2 on the same ~1 KB INVITE
// with SDP (testdata/invite1k.sip). sipgo is a test dependency only.
//
// Measured on the project's 2-core machine (2026-12-05, go1.26.8, benchstat of
// -count 6; docs/benchmarks.md has the full table):
//
//	                 Parley                  sipgo v1.7.2
//	ParseInvite      0.96 µs, 0 allocs       5.13 µs, 62 allocs (4.3 KiB)
//	ForwardInvite    1.19 µs, 0 allocs       11.8 µs, 100 allocs (9.1 KiB)

func loadInvite(b *testing.B) []byte {
	data, err := os.ReadFile("testdata/invite1k.sip")
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkParseInvite parses the INVITE into a reused Message.
func BenchmarkParseInvite(b *testing.B) {
	data := loadInvite(b)
	buf := make([]byte, len(data))
	var m Message
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, data)
		if err := Parse(buf, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForwardInvite is the proxy's per-branch work: parse, push a Via,
// decrement Max-Forwards, add Record-Route, remove the top Route, rewrite the
// Request-URI, and serialize.
func BenchmarkForwardInvite(b *testing.B) {
	data := loadInvite(b)
	buf := make([]byte, len(data))
	out := make([]byte, 0, 2048)
	via := []byte("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKparley0123456789")
	rr := []byte("<sip:127.0.0.1:5060;lr>")
	ruri := []byte("sip:bob@192.0.2.200:5062")
	var m Message
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, data)
		if err := Parse(buf, &m); err != nil {
			b.Fatal(err)
		}
		m.PushVia(via)
		m.DecrementMaxForwards()
		m.AddRecordRoute(rr)
		m.RemoveTopRoute()
		m.SetRequestURI(ruri)
		out = m.AppendTo(out[:0])
	}
}

// BenchmarkSipgoParseInvite is sipgo v1.7.2 parsing the same bytes.
func BenchmarkSipgoParseInvite(b *testing.B) {
	data := loadInvite(b)
	p := sipgo.NewParser()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.ParseSIP(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSipgoForwardInvite is sipgo doing the same forwarding edits.
func BenchmarkSipgoForwardInvite(b *testing.B) {
	data := loadInvite(b)
	p := sipgo.NewParser()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		msg, err := p.ParseSIP(data)
		if err != nil {
			b.Fatal(err)
		}
		req := msg.(*sipgo.Request)
		req.PrependHeader(&sipgo.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP",
			Host: "127.0.0.1", Port: 5060, Params: sipgo.HeaderParams{{K: "branch", V: "z9hG4bKparley0123456789"}}})
		if mf := req.MaxForwards(); mf != nil {
			mf.Dec()
		}
		req.PrependHeader(sipgo.NewHeader("Record-Route", "<sip:127.0.0.1:5060;lr>"))
		req.RemoveHeader("Route")
		req.Recipient = sipgo.Uri{Scheme: "sip", User: "bob", Host: "192.0.2.200", Port: 5062}
		_ = req.String()
	}
}
