package rtpengine_test

import (
	"context"
	"errors"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/rtpengine"
	"github.com/parley-sip/parley/internal/rtpengine/rtpenginetest"
)

// sdp reads a testdata SDP with CRLF line ends.
func sdp(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n", "\r\n")
	return []byte(s)
}

func client(t *testing.T, addr string) *rtpengine.Client {
	t.Helper()
	c, err := rtpengine.New(addr, rtpengine.Options{Timeout: 300 * time.Millisecond, Tries: 2})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

// has reports whether an SDP has a line matching the regexp.
func has(sdp []byte, re string) bool {
	return regexp.MustCompile("(?m)" + re).Match(sdp)
}

// mediaPort returns the port of the first m= line.
func mediaPort(t *testing.T, sdp []byte) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^m=audio (\d+) `).FindSubmatch(sdp)
	if m == nil {
		t.Fatalf("no m=audio line in\n%s", sdp)
	}
	return string(m[1])
}

func TestPing(t *testing.T) {
	d := rtpenginetest.Start(t)
	if err := client(t, d.Addr).Ping(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserCallsPhone: a browser's offer (UDP/TLS/RTP/SAVPF, ICE, DTLS)
// toward a plain phone comes out as RTP/AVP without ICE or DTLS on one of
// rtpengine's ports; the phone's answer goes back to the browser as WebRTC.
func TestBrowserCallsPhone(t *testing.T) {
	d := rtpenginetest.Start(t)
	c := client(t, d.Addr)
	leg := rtpengine.Request{CallID: "call-b2p@test", FromTag: "browser-tag", SDP: sdp(t, "chrome-offer.sdp"),
		Params: rtpengine.PlainRTP.Params()}
	offer, err := c.Offer(ctx(t), leg)
	if err != nil {
		t.Fatal(err)
	}
	for re, want := range map[string]bool{
		`^m=audio \d+ RTP/AVP `: true, `^a=rtcp:\d+`: true, `^a=ice-ufrag:`: false, `^a=candidate:`: false,
		`^a=fingerprint:`: false, `^a=setup:`: false, `^a=rtcp-mux`: false, `^c=IN IP4 127\.0\.0\.1`: true,
	} {
		if has(offer, re) != want {
			t.Errorf("offer to the phone: %s present=%v, want %v\n%s", re, !want, want, offer)
		}
	}
	if p := mediaPort(t, offer); p == "55320" {
		t.Errorf("the offer kept the browser's port %s instead of rtpengine's", p)
	}
	answer, err := c.Answer(ctx(t), rtpengine.Request{CallID: leg.CallID, FromTag: leg.FromTag, ToTag: "phone-tag",
		SDP: phoneAnswer(), Params: rtpengine.WebRTC.AnswerParams()})
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`^m=audio \d+ UDP/TLS/RTP/SAVPF 0`, `^a=ice-ufrag:`, `^a=candidate:.* 127\.0\.0\.1 \d+ typ host`,
		`^a=fingerprint:sha-256 `, `^a=setup:active`, `^a=rtcp-mux`} {
		if !has(answer, re) {
			t.Errorf("answer to the browser lacks %s\n%s", re, answer)
		}
	}
	if err := c.Delete(ctx(t), rtpengine.Request{CallID: leg.CallID, FromTag: leg.FromTag}); err != nil {
		t.Fatal(err)
	}
	var re *rtpengine.Error
	if _, err := c.Do(ctx(t), map[string]any{"command": "query", "call-id": leg.CallID}); !errors.As(err, &re) {
		t.Fatalf("query after delete: %v, want an *Error (the call is gone)", err)
	}
	if err := c.Delete(ctx(t), rtpengine.Request{CallID: leg.CallID}); err != nil {
		t.Fatalf("a second delete: %v, want no error", err)
	}
}

// phoneAnswer is a baresip-like answer (PCMU on 127.0.0.1).
func phoneAnswer() []byte {
	return []byte("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 30020 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:30021\r\na=sendrecv\r\n")
}

// TestPhoneCallsBrowser: a phone's RTP/AVP offer toward a browser gets ICE,
// DTLS (passive), rtcp-mux and a mid, and no SDES crypto; the browser's
// answer goes back to the phone as plain RTP.
func TestPhoneCallsBrowser(t *testing.T) {
	d := rtpenginetest.Start(t)
	c := client(t, d.Addr)
	leg := rtpengine.Request{CallID: "call-p2b@test", FromTag: "phone-tag", SDP: sdp(t, "baresip-offer.sdp"),
		Params: rtpengine.WebRTC.Params()}
	offer, err := c.Offer(ctx(t), leg)
	if err != nil {
		t.Fatal(err)
	}
	for re, want := range map[string]bool{
		`^m=audio \d+ UDP/TLS/RTP/SAVPF 0 8 101`: true, `^a=ice-ufrag:`: true, `^a=fingerprint:sha-256 `: true,
		`^a=setup:(actpass|passive)`: true, `^a=rtcp-mux`: true, `^a=mid:`: true, `^a=crypto:`: false,
	} {
		if has(offer, re) != want {
			t.Errorf("offer to the browser: %s present=%v, want %v\n%s", re, !want, want, offer)
		}
	}
	answer, err := c.Answer(ctx(t), rtpengine.Request{CallID: leg.CallID, FromTag: leg.FromTag, ToTag: "browser-tag",
		SDP: sdp(t, "chrome-answer.sdp"), Params: rtpengine.PlainRTP.AnswerParams()})
	if err != nil {
		t.Fatal(err)
	}
	for re, want := range map[string]bool{
		`^m=audio \d+ RTP/AVP 0`: true, `^a=ice-`: false, `^a=fingerprint:`: false, `^a=rtcp-mux`: false,
	} {
		if has(answer, re) != want {
			t.Errorf("answer to the phone: %s present=%v, want %v\n%s", re, !want, want, answer)
		}
	}
	if err := c.Delete(ctx(t), rtpengine.Request{CallID: leg.CallID}); err != nil {
		t.Fatal(err)
	}
}

// TestErrorReply: rtpengine's result "error" comes back as *Error with its reason.
func TestErrorReply(t *testing.T) {
	d := rtpenginetest.Start(t)
	c := client(t, d.Addr)
	_, err := c.Answer(ctx(t), rtpengine.Request{CallID: "no-such-call", FromTag: "a", ToTag: "b", SDP: sdp(t, "baresip-offer.sdp")})
	var re *rtpengine.Error
	if !errors.As(err, &re) || re.Command != "answer" || !strings.Contains(strings.ToLower(re.Reason), "call") {
		t.Fatalf("got %v, want *Error for answer about an unknown call", err)
	}
	if errors.Is(err, rtpengine.ErrUnreachable) {
		t.Fatal("an error reply is not unreachability")
	}
	if _, err := c.Offer(ctx(t), rtpengine.Request{CallID: "x", FromTag: "y"}); err == nil {
		t.Fatal("offer without SDP was sent")
	}
}

// TestStopped: once rtpengine has stopped, a command fails with
// ErrUnreachable at once (the ICMP port unreachable), not after the timeouts.
func TestStopped(t *testing.T) {
	d := rtpenginetest.Start(t)
	c, err := rtpengine.New(d.Addr, rtpengine.Options{Timeout: 2 * time.Second, Tries: 3})
	if err != nil {
		t.Fatal(err)
	}
	d.Stop()
	start := time.Now()
	err = c.Ping(ctx(t))
	if !errors.Is(err, rtpengine.ErrUnreachable) {
		t.Fatalf("got %v, want ErrUnreachable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %s to notice", d)
	}
}

// TestSilentPeer: a UDP socket that reads but never answers (a hung
// rtpengine) gets the same datagram, same cookie, once per try, and the
// command fails with ErrUnreachable after Tries*Timeout.
func TestSilentPeer(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var mu sync.Mutex
	var got []string
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			mu.Lock()
			got = append(got, string(buf[:n]))
			mu.Unlock()
		}
	}()
	c, err := rtpengine.New("udp:"+pc.LocalAddr().String(), rtpengine.Options{Timeout: 150 * time.Millisecond, Tries: 3})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.Ping(ctx(t))
	elapsed := time.Since(start)
	if !errors.Is(err, rtpengine.ErrUnreachable) || !strings.Contains(err.Error(), "3 tries") {
		t.Fatalf("got %v, want ErrUnreachable after 3 tries", err)
	}
	if elapsed < 400*time.Millisecond || elapsed > 2*time.Second {
		t.Fatalf("gave up after %s, want about 450ms", elapsed)
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || got[0] != got[1] || got[1] != got[2] || !strings.HasSuffix(got[0], " d7:command4:pinge") {
		t.Fatalf("datagrams %q, want the same ping three times", got)
	}
	// A context shorter than the tries ends the command early.
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := c.Ping(short); !errors.Is(err, rtpengine.ErrUnreachable) || time.Since(start) > 400*time.Millisecond {
		t.Fatalf("with a 100ms context: %v after %s", err, time.Since(start))
	}
}

func TestParseAddr(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"udp:127.0.0.1:2223", "127.0.0.1:2223", ""},
		{"127.0.0.1:2223", "127.0.0.1:2223", ""},
		{"UDP:[::1]:2223", "[::1]:2223", ""},
		{"udp:rtpengine.example.net:22222", "rtpengine.example.net:22222", ""},
		{"localhost:2223", "localhost:2223", ""},
		{"tcp:127.0.0.1:2223", "", "only udp"},
		{"ws:[::1]:2223", "", "only udp"},
		{"udp:127.0.0.1", "", "want udp:HOST:PORT"},
		{"udp:127.0.0.1:0", "", "not 1-65535"},
		{"udp:127.0.0.1:http", "", "not 1-65535"},
		{"udp::2223", "", "no host"},
		{"", "", "want udp:HOST:PORT"},
	}
	for _, tt := range tests {
		got, err := rtpengine.ParseAddr(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseAddr(%q) = %q, %v; want error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
