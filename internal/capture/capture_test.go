package capture

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/transport"
)

var (
	local  = netip.MustParseAddrPort("127.0.0.1:5060")
	remote = netip.MustParseAddrPort("192.0.2.7:5062")
)

func request(method, callID string) string {
	return method + " sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@example.test>;tag=a\r\nTo: <sip:bob@example.test>\r\nCall-ID: " + callID +
		"\r\nCSeq: 1 " + method + "\r\nContent-Length: 0\r\n\r\n"
}

func response(code, method, callID string) string {
	return "SIP/2.0 " + code + "\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK1\r\nCall-ID: " + callID +
		"\r\nCSeq: 1 " + method + "\r\nContent-Length: 0\r\n\r\n"
}

func TestFindCallID(t *testing.T) {
	tests := []struct {
		name, msg, want string
	}{
		{"long form", request("INVITE", "abc@host"), "abc@host"},
		{"compact form", "BYE sip:a SIP/2.0\r\ni: xyz\r\n\r\n", "xyz"},
		{"case and blanks", "BYE sip:a SIP/2.0\r\ncall-id \t:  q1 \t\r\n\r\n", "q1"},
		{"LF only", "BYE sip:a SIP/2.0\ni:lf\n\n", "lf"},
		{"not in the body", "MESSAGE sip:a SIP/2.0\r\nContent-Length: 11\r\n\r\nCall-ID: no", ""},
		{"similar names", "BYE sip:a SIP/2.0\r\nCall-Info: <x>\r\nIn-Reply-To: y\r\nCall-ID: yes\r\n\r\n", "yes"},
		{"missing", "OPTIONS sip:a SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n", ""},
		{"start line only", "OPTIONS sip:a SIP/2.0", ""},
		{"no colon", "OPTIONS sip:a SIP/2.0\r\nCall-ID\r\n\r\n", ""},
		{"last line unterminated", "OPTIONS sip:a SIP/2.0\r\nCall-ID: end", "end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.msg)
			if got := string(findCallID(b).of(b)); got != tt.want {
				t.Errorf("Call-ID %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMethodAndFirstLine(t *testing.T) {
	tests := []struct {
		msg, method, first string
	}{
		{request("INVITE", "c"), "INVITE", "INVITE sip:bob@example.test SIP/2.0"},
		{response("180 Ringing", "INVITE", "c"), "INVITE", "SIP/2.0 180 Ringing"},
		{"SIP/2.0 200 OK\r\n\r\n", "", "SIP/2.0 200 OK"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := Method([]byte(tt.msg)); got != tt.method {
			t.Errorf("Method(%q) = %q, want %q", tt.first, got, tt.method)
		}
		if got := string(FirstLine([]byte(tt.msg))); got != tt.first {
			t.Errorf("FirstLine = %q, want %q", got, tt.first)
		}
	}
}

func TestNilRing(t *testing.T) {
	r := New(0)
	if r != nil {
		t.Fatal("New(0) is not nil")
	}
	r.Tap(true, transport.UDP, local, remote, []byte(request("OPTIONS", "x")))
	if r.Len() != 0 || r.Messages("x") != nil || r.Calls(10) != nil || r.Recent(10) != nil {
		t.Error("a nil ring holds something")
	}
}

// TestRing: messages are kept in time order with their metadata and a
// private copy of the bytes; the oldest go when the ring is full.
func TestRing(t *testing.T) {
	r := New(3)
	clock := time.Unix(1000, 0)
	r.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	buf := []byte(request("INVITE", "call-1"))
	r.Tap(true, transport.UDP, local, remote, buf)
	copy(buf, "XXXXXX") // the caller reuses its buffer
	r.Tap(false, transport.TCP, local, remote, []byte(response("180 Ringing", "INVITE", "call-1")))
	r.Tap(true, transport.UDP, local, remote, []byte(request("OPTIONS", "other")))
	msgs := r.Messages("call-1")
	if len(msgs) != 2 {
		t.Fatalf("%d messages for call-1, want 2", len(msgs))
	}
	m := msgs[0]
	if !m.In || m.Transport != transport.UDP || m.Local != local || m.Remote != remote || m.CallID() != "call-1" ||
		!strings.HasPrefix(string(m.Data), "INVITE ") || !m.Time.Equal(time.Unix(1001, 0)) {
		t.Errorf("first message %+v", m)
	}
	if msgs[1].In || msgs[1].Transport != transport.TCP || !msgs[1].Time.After(m.Time) {
		t.Errorf("second message %+v", msgs[1])
	}
	r.Tap(true, transport.UDP, local, remote, []byte(request("BYE", "call-1"))) // evicts the INVITE
	msgs = r.Messages("call-1")
	if r.Len() != 3 || len(msgs) != 2 || !strings.HasPrefix(string(msgs[0].Data), "SIP/2.0 180") ||
		!strings.HasPrefix(string(msgs[1].Data), "BYE ") {
		t.Errorf("after wrapping: len %d, call-1 %d messages", r.Len(), len(msgs))
	}
	if got := r.Recent(2); len(got) != 2 || got[0].CallID() != "other" || got[1].CallID() != "call-1" {
		t.Errorf("Recent(2) = %v", got)
	}
	if got := r.Recent(10); len(got) != 3 {
		t.Errorf("Recent(10) returned %d", len(got))
	}
}

// TestRingByteBound: a ring holds at most maxBytes of messages, dropping
// the oldest to make room, and ignores a message larger than the bound.
func TestRingByteBound(t *testing.T) {
	r := New(100)
	r.maxBytes = 1000
	msg := []byte(request("OPTIONS", "b") + strings.Repeat("x", 300-len(request("OPTIONS", "b"))))
	for range 10 {
		r.Tap(true, transport.UDP, local, remote, msg)
	}
	if r.Len() != 3 || r.bytes != 900 {
		t.Errorf("holds %d messages, %d bytes; want 3 and 900", r.Len(), r.bytes)
	}
	r.Tap(true, transport.UDP, local, remote, make([]byte, 1001))
	if r.Len() != 3 {
		t.Errorf("an oversized message changed the ring: %d messages", r.Len())
	}
}

func TestCalls(t *testing.T) {
	r := New(100)
	clock := time.Unix(0, 0)
	r.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	tap := func(s string) { r.Tap(true, transport.UDP, local, remote, []byte(s)) }
	tap(response("200 OK", "REGISTER", "reg")) // the request fell out of the ring
	tap(request("INVITE", "call"))
	tap(response("100 Trying", "INVITE", "call"))
	tap("OPTIONS sip:x SIP/2.0\r\n\r\n") // no Call-ID
	tap(request("MESSAGE", "im"))
	tap(request("BYE", "call"))
	got := r.Calls(0)
	if len(got) != 3 {
		t.Fatalf("Calls = %+v", got)
	}
	c := got[0]
	if c.CallID != "call" || c.Count != 3 || c.Method != "INVITE" || !c.First.Equal(time.Unix(2, 0)) ||
		!c.Last.Equal(time.Unix(6, 0)) || c.From != "<sip:alice@example.test>;tag=a" || c.To != "<sip:bob@example.test>" {
		t.Errorf("first call %+v", c)
	}
	if got[1].CallID != "im" || got[2].CallID != "reg" || got[2].Method != "REGISTER" {
		t.Errorf("order or methods: %+v", got)
	}
	if got := r.Calls(1); len(got) != 1 || got[0].CallID != "call" {
		t.Errorf("Calls(1) = %+v", got)
	}
}

// TestRingConcurrent is for the race detector.
func TestRingConcurrent(t *testing.T) {
	r := New(50)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				r.Tap(i%2 == 0, transport.UDP, local, remote, []byte(request("OPTIONS", fmt.Sprint("c", g, i%5))))
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			r.Calls(10)
			r.Messages("c01")
			r.Recent(5)
		}
	})
	wg.Wait()
	if r.Len() != 50 {
		t.Errorf("Len = %d", r.Len())
	}
}

// TestTapAllocs: recording a message costs one allocation, its copy.
func TestTapAllocs(t *testing.T) {
	r := New(100)
	msg := []byte(request("INVITE", "alloc"))
	if n := testing.AllocsPerRun(1000, func() { r.Tap(true, transport.UDP, local, remote, msg) }); n > 1 {
		t.Errorf("Tap allocates %v times per message, want 1", n)
	}
}

func BenchmarkTap(b *testing.B) {
	r := New(10000)
	msg := []byte(request("INVITE", "bench@192.0.2.7"))
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		r.Tap(true, transport.UDP, local, remote, msg)
	}
}

// TestTapReusesBuffers: once the ring has wrapped, Tap allocates nothing;
// what Messages returned earlier is a copy that later Taps do not change.
func TestTapReusesBuffers(t *testing.T) {
	r := New(4)
	msg := func(i int) []byte {
		return []byte(fmt.Sprintf("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: c%d\r\nContent-Length: 0\r\n\r\n", i%10))
	}
	for i := range 8 {
		r.Tap(true, transport.UDP, netip.AddrPort{}, netip.AddrPort{}, msg(i))
	}
	kept := r.Messages("c7")
	if len(kept) != 1 {
		t.Fatalf("Messages(c7) = %d messages, want 1", len(kept))
	}
	before := string(kept[0].Data)
	data := msg(9)
	if n := testing.AllocsPerRun(100, func() {
		r.Tap(true, transport.UDP, netip.AddrPort{}, netip.AddrPort{}, data)
	}); n != 0 {
		t.Errorf("Tap on a wrapped ring: %v allocations, want 0", n)
	}
	if string(kept[0].Data) != before {
		t.Errorf("a message returned by Messages changed after later Taps: %q", kept[0].Data)
	}
}
