package test

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/rtpengine"
	"github.com/parley-sip/parley/internal/rtpengine/rtpenginetest"
)

// The media relay (internal/proxy/media.go): a call whose offer is WebRTC
// (UDP/TLS/RTP/SAVPF, ICE, DTLS) to a phone reached over UDP crosses between
// WebRTC and plain RTP and goes through rtpengine; other calls never do.
// Here both ends are scripted UDP phones; the caller's SDP is a browser's.

// webrtcOffer is Chromium's audio offer, with its loopback candidate only.
const webrtcOffer = "v=0\r\no=- 3995792827231115106 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"a=group:BUNDLE 0\r\na=msid-semantic: WMS s\r\n" +
	"m=audio 55320 UDP/TLS/RTP/SAVPF 111 0 8\r\nc=IN IP4 127.0.0.1\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
	"a=candidate:356788498 1 udp 2122194687 127.0.0.1 55320 typ host generation 0\r\n" +
	"a=ice-ufrag:P3Mu\r\na=ice-pwd:f9dEakGMos0o+7EtTkTrQvRO\r\na=ice-options:trickle\r\n" +
	"a=fingerprint:sha-256 69:4B:74:9C:B5:C2:9C:DE:50:70:79:0A:02:B0:4A:FB:65:76:1C:33:87:FD:C7:2A:0F:78:2C:42:55:B3:89:C5\r\n" +
	"a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n" +
	"a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"

func webrtcSDP() msgOpts { return msgOpts{ctype: "application/sdp", body: webrtcOffer} }

// phoneAnswer is a plain RTP answer (baresip-like).
func phoneAnswer() msgOpts {
	return msgOpts{ctype: "application/sdp", body: "v=0\r\no=- 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n" +
		"t=0 0\r\nm=audio 30020 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp:30021\r\na=sendrecv\r\n"}
}

func sdpHas(body, re string) bool { return regexp.MustCompile("(?m)" + re).MatchString(body) }

// TestMediaRelayNotConfigured: without media.rtpengine a browser's call to a
// plain phone gets 488 with a Warning that names the setting, and the phone
// never rings; a plain call still goes through.
func TestMediaRelayNotConfigured(t *testing.T) {
	s := proxyServer(t, nil)
	alice, bob := pair(t, s, "udp", "udp")
	call := alice.call(bob.aor())
	call.send(t, "INVITE", webrtcSDP())
	res := alice.final(t, "INVITE")
	if res.code() != 488 || res.reason() != "Media Relay Not Configured" {
		t.Fatalf("got %d %q, want 488 Media Relay Not Configured", res.code(), res.reason())
	}
	if w := res.get("Warning"); !strings.HasPrefix(w, "399 ") || !strings.Contains(w, "media.rtpengine") {
		t.Errorf("Warning %q, want a 399 naming media.rtpengine", w)
	}
	call.ackFinal(t, res)
	bob.none(t, quietPeriod, "an INVITE", isRequest("INVITE"))
	establish(t, s, alice, bob) // RTP/AVP to RTP/AVP needs no relay
}

// TestMediaRelayUnreachable: with media.rtpengine set but nothing answering
// (a port nobody listens on, then a socket that never replies), the call
// gets 503 Media Relay Unavailable with Retry-After, in bounded time.
func TestMediaRelayUnreachable(t *testing.T) {
	closed := freeUDP(t)
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	for name, addr := range map[string]string{"refused": closed, "silent": silent.LocalAddr().String()} {
		t.Run(name, func(t *testing.T) {
			s := proxyServer(t, func(c *config.Config) {
				c.Media.RTPEngine = "udp:" + addr
				c.Media.Timeout = config.Duration(100 * time.Millisecond)
				c.Media.Tries = 2
			})
			alice, bob := pair(t, s, "udp", "udp")
			call := alice.call(bob.aor())
			start := time.Now()
			call.send(t, "INVITE", webrtcSDP())
			res := alice.final(t, "INVITE")
			if res.code() != 503 || res.reason() != "Media Relay Unavailable" {
				t.Fatalf("got %d %q, want 503 Media Relay Unavailable", res.code(), res.reason())
			}
			if ra, err := strconv.Atoi(res.get("Retry-After")); err != nil || ra <= 0 {
				t.Errorf("Retry-After %q, want seconds", res.get("Retry-After"))
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("503 after %s", d)
			}
			call.ackFinal(t, res)
			bob.none(t, quietPeriod, "an INVITE", isRequest("INVITE"))
		})
	}
}

func freeUDP(t *testing.T) string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// TestMediaRelayCall: with a real rtpengine, the phone gets the browser's
// offer as RTP/AVP on rtpengine's port (Content-Length right), the browser
// gets the phone's answer as WebRTC, and the BYE deletes the rtpengine call.
// A rejected call is deleted too, and so is a call Parley hangs up itself; a
// call that does not cross is untouched.
func TestMediaRelayCall(t *testing.T) {
	d := rtpenginetest.Start(t)
	ng, err := rtpengine.New(d.Addr, rtpengine.Options{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := proxyServer(t, func(c *config.Config) { c.Media.RTPEngine = d.Addr })
	alice, bob := pair(t, s, "udp", "udp")

	t.Run("answered", func(t *testing.T) {
		call := alice.call(bob.aor())
		call.send(t, "INVITE", webrtcSDP())
		in := bob.request(t, "INVITE")
		checkPlainOffer(t, in, d)
		bob.reply(t, in, 180, "Ringing", msgOpts{})
		alice.response(t, 180, "INVITE")
		bob.reply(t, in, 200, "OK", phoneAnswer())
		ok := alice.response(t, 200, "INVITE")
		for _, re := range []string{`^m=audio \d+ UDP/TLS/RTP/SAVPF 0`, `^a=ice-ufrag:`, `^a=fingerprint:sha-256 `,
			`^a=candidate:.* 127\.0\.0\.1 \d+ typ host`, `^a=rtcp-mux`} {
			if !sdpHas(ok.body, re) {
				t.Errorf("the browser's 200 lacks %s:\n%s", re, ok.body)
			}
		}
		if !known(t, ng, call.callID) {
			t.Fatal("rtpengine does not know the answered call")
		}
		call.confirm(ok)
		call.ack(t)
		bob.request(t, "ACK")
		call.send(t, "BYE", msgOpts{})
		bye := bob.request(t, "BYE")
		bob.reply(t, bye, 200, "OK", msgOpts{})
		alice.response(t, 200, "BYE")
		gone(t, ng, call.callID, "after the BYE")
	})
	t.Run("busy", func(t *testing.T) {
		call := alice.call(bob.aor())
		call.send(t, "INVITE", webrtcSDP())
		in := bob.request(t, "INVITE")
		checkPlainOffer(t, in, d)
		bob.reply(t, in, 486, "Busy Here", msgOpts{})
		res := alice.final(t, "INVITE")
		if res.code() != 486 {
			t.Fatalf("got %d, want 486", res.code())
		}
		call.ackFinal(t, res)
		gone(t, ng, call.callID, "after the 486")
	})
	t.Run("ended-by-parley", func(t *testing.T) {
		// calls.max_duration hangs up (as `parley calls end` and a shutdown
		// do): both ends get Parley's BYE, and rtpengine is told to delete.
		s := proxyServer(t, func(c *config.Config) {
			c.Media.RTPEngine = d.Addr
			c.Calls.MaxDuration = config.Duration(time.Second)
		})
		alice, bob := pair(t, s, "udp", "udp")
		call := alice.call(bob.aor())
		call.send(t, "INVITE", webrtcSDP())
		in := bob.request(t, "INVITE")
		bob.reply(t, in, 200, "OK", phoneAnswer())
		call.confirm(alice.response(t, 200, "INVITE"))
		call.ack(t)
		bob.request(t, "ACK")
		if !known(t, ng, call.callID) {
			t.Fatal("rtpengine does not know the answered call")
		}
		for _, p := range []*phone{alice, bob} {
			bye := p.waitUpTo(t, 3*time.Second, p.user+": Parley's BYE", isRequest("BYE"))
			p.reply(t, bye, 200, "OK", msgOpts{})
		}
		gone(t, ng, call.callID, "after Parley hung up")
	})
	t.Run("plain-call-untouched", func(t *testing.T) {
		call := alice.call(bob.aor())
		sent := call.send(t, "INVITE", sdp(false))
		in := bob.request(t, "INVITE")
		if in.body != sent.body {
			t.Fatalf("a plain call's SDP was rewritten:\n%s", in.body)
		}
		bob.reply(t, in, 603, "Decline", msgOpts{})
		call.ackFinal(t, alice.final(t, "INVITE"))
		if known(t, ng, call.callID) {
			t.Fatal("rtpengine got a call that needs no relay")
		}
	})
}

// checkPlainOffer: the phone's INVITE carries rtpengine's plain RTP offer.
func checkPlainOffer(t *testing.T, in *sipMsg, d *rtpenginetest.Daemon) {
	t.Helper()
	if cl, _ := strconv.Atoi(in.get("Content-Length")); cl != len(in.body) {
		t.Errorf("Content-Length %d, body %d bytes", cl, len(in.body))
	}
	m := regexp.MustCompile(`(?m)^m=audio (\d+) RTP/AVP `).FindStringSubmatch(in.body)
	if m == nil {
		t.Fatalf("the phone's INVITE is not RTP/AVP:\n%s", in.body)
	}
	if port, _ := strconv.Atoi(m[1]); port < d.PortMin || port > d.PortMax {
		t.Errorf("media port %d is not rtpengine's (%d-%d)", port, d.PortMin, d.PortMax)
	}
	for _, re := range []string{`^a=ice-`, `^a=candidate`, `^a=fingerprint`, `^a=setup`, `^a=rtcp-mux`} {
		if sdpHas(in.body, re) {
			t.Errorf("the phone's offer still has %s:\n%s", re, in.body)
		}
	}
}

// known asks rtpengine whether it holds a call.
func known(t *testing.T, ng *rtpengine.Client, callID string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := ng.Do(ctx, map[string]any{"command": "query", "call-id": callID})
	var re *rtpengine.Error
	if err != nil && !errors.As(err, &re) {
		t.Fatalf("query: %v", err)
	}
	return err == nil
}

// gone waits (up to 2 s: the delete follows the final response) until
// rtpengine has forgotten the call.
func gone(t *testing.T, ng *rtpengine.Client, callID, when string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !known(t, ng, callID) {
			return
		}
	}
	t.Fatalf("rtpengine still holds the call %s", when)
}
