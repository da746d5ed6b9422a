package proxy

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-sip/parley/internal/rtpengine"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transport"
)

// Media relay for calls that cross between WebRTC and plain RTP.
//
// A browser sends media as DTLS-SRTP with ICE and RTP/RTCP multiplexing
// (UDP/TLS/RTP/SAVPF, RFC 8827, RFC 8834); a SIP phone such as baresip sends
// plain RTP (RTP/AVP) and speaks none of that, so the two cannot talk
// directly. For such a call only, the proxy has rtpengine relay the media and
// rewrite each SDP into the profile its receiver speaks (Kamailio does the
// same with rtpengine_offer and rtpengine_answer):
//
//   - a request carrying an SDP offer (INVITE, re-INVITE, UPDATE) whose
//     sender's profile (read from the SDP) differs from a target's (WebRTC
//     when the target is reached over WS or WSS, RFC 7118) → offer, and that
//     target's branch carries rtpengine's SDP instead (Content-Length fixed);
//   - a 18x or 2xx with SDP on such a branch → answer, and the caller gets
//     rtpengine's SDP;
//   - an initial INVITE that ends without a 2xx from a relayed branch (busy,
//     declined, CANCEL, another branch answered) → delete; a BYE of a relayed
//     call → delete; a call Parley hangs up itself (calls.max_duration,
//     parley calls end, a graceful shutdown; hangup.go) → delete.
//
// Calls that do not cross (browser to browser, phone to phone) never reach
// rtpengine. When a call needs the relay and none is configured, the
// crossing targets are dropped and, if none is left, the caller gets
// 488 Media Relay Not Configured; when rtpengine does not answer, 503 Media
// Relay Unavailable with Retry-After (§21.5.4: the server is temporarily
// unable to process the request); when rtpengine refuses the SDP, 488.
//
// Limits: an INVITE without SDP (the offer in the 2xx, answered in the ACK)
// is passed unchanged; the list of relayed calls is per Proxy, so after a
// reload the BYE a phone sends for an older relayed call does not delete it
// (rtpengine's own --timeout then ends it); a BYE Parley sends itself does,
// since the call keeps its own mark.

// mediaRetryAfter is the Retry-After, in seconds, of the 503 sent when
// rtpengine does not answer.
const mediaRetryAfter = "30"

// mediaRelay is the rtpengine a Proxy drives; see SetMedia.
type mediaRelay struct {
	c   *rtpengine.Client
	log *slog.Logger

	mu      sync.Mutex
	relayed map[string]time.Time // Call-IDs of answered relayed calls → when, for BYE → delete
}

// relayedMax bounds the list of relayed calls; beyond it, calls older than
// relayedAge are forgotten (rtpengine's timeout ends them).
const (
	relayedMax = 4096
	relayedAge = 48 * time.Hour
)

// SetMedia makes the proxy relay media of calls between WebRTC and plain
// RTP through rtpengine; nil (the default) means no relay is configured,
// and such calls get 488.
func (p *Proxy) SetMedia(c *rtpengine.Client) {
	if c == nil {
		p.media = nil
		return
	}
	p.media = &mediaRelay{c: c, log: p.log, relayed: make(map[string]time.Time)}
}

// mediaLeg is what the relay knows about one request's offer.
type mediaLeg struct {
	callID, fromTag string
	initial         bool              // an initial INVITE (no To tag)
	caller, callee  rtpengine.Profile // the offerer's profile, and the relayed targets'
	sdp             []byte            // rtpengine's offer, for the relayed branches
	answered        atomic.Bool       // a relayed branch sent a 2xx
}

// profileOf is the media profile of a target: WebRTC over WS and WSS.
func profileOf(p transport.Proto) rtpengine.Profile {
	if p == transport.WS || p == transport.WSS {
		return rtpengine.WebRTC
	}
	return rtpengine.PlainRTP
}

func other(p rtpengine.Profile) rtpengine.Profile {
	if p == rtpengine.WebRTC {
		return rtpengine.PlainRTP
	}
	return rtpengine.WebRTC
}

// sdpProfile reads the profile of an SDP: WebRTC when a media line uses
// UDP/TLS/RTP/SAVP or SAVPF (RFC 5764 §8), or when the SDP has both a DTLS
// fingerprint (RFC 8122) and ICE credentials (RFC 8839); else plain RTP.
func sdpProfile(body []byte) rtpengine.Profile {
	var fp, ice bool
	for line := range bytes.Lines(body) {
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case bytes.HasPrefix(line, []byte("m=")):
			f := bytes.Fields(line)
			if len(f) >= 3 && bytes.HasPrefix(bytes.ToUpper(f[2]), []byte("UDP/TLS/RTP/SAVP")) {
				return rtpengine.WebRTC
			}
		case bytes.HasPrefix(line, []byte("a=fingerprint:")):
			fp = true
		case bytes.HasPrefix(line, []byte("a=ice-ufrag:")):
			ice = true
		}
	}
	if fp && ice {
		return rtpengine.WebRTC
	}
	return rtpengine.PlainRTP
}

// hasSDP reports whether a message carries an SDP body.
func hasSDP(m *sip.Message) bool {
	ct := strings.ToLower(strings.TrimSpace(string(m.Get(sip.HdrContentType))))
	return len(m.Body()) > 0 && strings.HasPrefix(ct, "application/sdp")
}

// crossing reports whether a target needs the relay for an offer of profile from.
func crossing(t target, from rtpengine.Profile) bool { return profileOf(t.dest.Proto) != from }

// mediaOffer runs before the branches start: when some targets cannot take
// the request's SDP offer as it is, it asks rtpengine for an offer in their
// profile. Without a relay, or when rtpengine fails, those targets are
// dropped; with none left the request is answered with the error (488, 503)
// returned here.
func (f *forker) mediaOffer(ctx context.Context, groups [][]target) ([][]target, error) {
	req := f.req
	if m := req.Method(); m != sip.INVITE && m != sip.UPDATE || !hasSDP(req) {
		return groups, nil
	}
	from := sdpProfile(req.Body())
	var kept [][]target
	n := 0
	for _, g := range groups {
		var k []target
		for _, t := range g {
			if crossing(t, from) {
				n++
			} else {
				k = append(k, t)
			}
		}
		if len(k) > 0 {
			kept = append(kept, k)
		}
	}
	if n == 0 {
		return groups, nil
	}
	leg := &mediaLeg{callID: string(req.CallID), fromTag: string(req.FromTag), initial: len(req.ToTag) == 0,
		caller: from, callee: other(from)}
	err := errMediaNotConfigured
	if r := f.p.media; r != nil {
		leg.sdp, err = r.c.Offer(ctx, rtpengine.Request{CallID: leg.callID, FromTag: leg.fromTag,
			ToTag: string(req.ToTag), SDP: req.Body(), Params: leg.callee.Params()})
	}
	if err == nil {
		f.media = leg
		return groups, nil
	}
	f.p.log.Warn("media relay offer failed", "call_id", leg.callID, "to", leg.callee.String(), "err", err)
	if len(kept) > 0 {
		return kept, nil // the targets that need no relay still ring
	}
	se := mediaReject(ctx, err)
	f.p.calls.failed(f.call, se.Code, se.Reason)
	return nil, se
}

var errMediaNotConfigured = errors.New("no media relay configured (media.rtpengine)")

// mediaReject is the response for a call the relay could not take.
func mediaReject(ctx context.Context, err error) *sipserver.StatusError {
	var re *rtpengine.Error
	switch {
	case errors.Is(err, errMediaNotConfigured):
		return reject(488, "Media Relay Not Configured",
			`Warning: 399 parley "A call between WebRTC and plain RTP needs a media relay (media.rtpengine)"`+"\r\n")
	case ctx.Err() != nil:
		return reject(487, "", "") // CANCEL arrived during the offer (§9.2)
	case errors.Is(err, rtpengine.ErrUnreachable):
		return reject(503, "Media Relay Unavailable", "Retry-After: "+mediaRetryAfter+"\r\n")
	case errors.As(err, &re):
		return reject(488, "Media Relay Rejected SDP", `Warning: 399 parley "`+warnText(re.Reason)+`"`+"\r\n")
	}
	return reject(500, "Media Relay Error", "")
}

func reject(code int, reason, extra string) *sipserver.StatusError {
	return sipserver.Reject(code, reason, extra).(*sipserver.StatusError)
}

// warnText makes text safe inside a quoted Warning (§20.43): no quotes,
// backslashes or control characters, at most 100 bytes.
func warnText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '"' || r == '\\' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// relays reports whether the branch to dest carries the relay's SDP.
func (l *mediaLeg) relays(dest transport.Dest) bool {
	return l != nil && profileOf(dest.Proto) == l.callee
}

// mediaBody puts rtpengine's offer into the request prepared for t, when t
// is a relayed target. data is reparsed: prepare drops edits it did not make.
func (f *forker) mediaBody(t target, data []byte) []byte {
	if !f.media.relays(t.dest) {
		return data
	}
	var m sip.Message
	if err := sip.Parse(data, &m); err != nil {
		f.p.log.Error("media relay: prepared request does not parse", "err", err)
		return data
	}
	m.SetBody(nil, f.media.sdp)
	return m.AppendTo(make([]byte, 0, len(data)+len(f.media.sdp)))
}

// mediaAnswer hands the SDP answer of a relayed branch (18x or 2xx) to
// rtpengine and puts rtpengine's answer, in the caller's profile, into res.
// It runs before f.mu is taken: it waits for rtpengine.
func (f *forker) mediaAnswer(b *branch, res *sip.Message) {
	leg := f.media
	if res == nil || !leg.relays(b.dest) {
		return
	}
	code := res.StatusCode()
	if code < 180 || code >= 300 || !hasSDP(res) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sdp, err := f.p.media.c.Answer(ctx, rtpengine.Request{CallID: leg.callID, FromTag: leg.fromTag,
		ToTag: string(res.ToTag), SDP: res.Body(), Params: leg.caller.AnswerParams()})
	if err != nil {
		// The response goes on unchanged: a proxy cannot take back a 2xx
		// (§16.7 step 5); the call then has no media, and the log says why.
		f.p.log.Error("media relay answer failed", "call_id", leg.callID, "code", code, "err", err)
		return
	}
	res.SetBody(nil, sdp)
	if code >= 200 {
		leg.answered.Store(true)
	}
}

// mediaDone runs when the request's branches have all ended and the final
// response is sent (run defers it): an offer no relayed branch answered is
// deleted (an initial INVITE only: a failed re-INVITE leaves the call as it
// was), an answered one is remembered for its BYE, and a BYE of a relayed
// call deletes it. method and callID are the request's (f.req is gone by then).
func (f *forker) mediaDone(method sip.Method, callID string) {
	r := f.p.media
	if r == nil {
		return
	}
	if leg := f.media; leg != nil {
		switch {
		case leg.answered.Load():
			r.remember(leg.callID)
			f.p.calls.mediaRelayed(f.call) // for a BYE of Parley's own (hangup.go), also after a reload
		case leg.initial:
			r.delete(rtpengine.Request{CallID: leg.callID, FromTag: leg.fromTag})
		}
	}
	if method == sip.BYE && r.forget(callID) {
		r.delete(rtpengine.Request{CallID: callID})
	}
}

func (r *mediaRelay) remember(callID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if len(r.relayed) >= relayedMax {
		for id, at := range r.relayed {
			if now.Sub(at) > relayedAge {
				delete(r.relayed, id)
			}
		}
	}
	if len(r.relayed) < relayedMax {
		r.relayed[callID] = now
	}
}

// forget removes a call from the relayed list and reports whether it was there.
func (r *mediaRelay) forget(callID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.relayed[callID]
	delete(r.relayed, callID)
	return ok
}

func (r *mediaRelay) delete(req rtpengine.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.c.Delete(ctx, req); err != nil {
		r.log.Warn("media relay delete failed", "call_id", req.CallID, "err", err)
	}
}
