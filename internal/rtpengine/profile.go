package rtpengine

// Profile is the kind of media endpoint an SDP is written for.
type Profile int

const (
	// PlainRTP is a SIP phone or gateway: RTP/AVP, no ICE, no DTLS, RTP and
	// RTCP on separate ports.
	PlainRTP Profile = iota
	// WebRTC is a browser: UDP/TLS/RTP/SAVPF, ICE, DTLS-SRTP and RTP/RTCP
	// multiplexing, which browsers require (RFC 8829 §5.1.1, RFC 8834 §4.5).
	WebRTC
)

func (p Profile) String() string {
	if p == WebRTC {
		return "webrtc"
	}
	return "rtp"
}

// Params returns the ng keys that make rtpengine write an SDP offer for an
// endpoint of profile p (the callee's profile; see AnswerParams for answers).
//
//   - PlainRTP: ICE=remove, DTLS=off, transport-protocol RTP/AVP, and
//     rtcp-mux demux (a=rtcp with its own port instead of a=rtcp-mux).
//   - WebRTC: ICE=force (rtpengine becomes the only candidate), DTLS=passive
//     (the browser starts the handshake once ICE is done), transport-protocol
//     UDP/TLS/RTP/SAVPF, rtcp-mux offer and require, SDES off (DTLS only, RFC
//     8827 §6.5 forbids SDES) and generate-mid (browsers match m-lines by mid).
//
// Both trust the addresses in the SDP (trust-address) and rewrite the
// origin and session c= lines to rtpengine's.
func (p Profile) Params() map[string]any {
	if p == WebRTC {
		return map[string]any{
			"ICE": "force", "DTLS": "passive", "transport-protocol": "UDP/TLS/RTP/SAVPF",
			"rtcp-mux": []string{"offer", "require"}, "SDES": []string{"off"},
			"flags":   []string{"trust-address", "generate-mid"},
			"replace": []string{"origin", "session-connection"},
		}
	}
	return map[string]any{
		"ICE": "remove", "DTLS": "off", "transport-protocol": "RTP/AVP",
		"rtcp-mux": []string{"demux"},
		"flags":    []string{"trust-address"},
		"replace":  []string{"origin", "session-connection"},
	}
}

// AnswerParams returns the ng keys for an SDP answer going back to an
// offerer of profile p: Params without a DTLS role. A browser's offer says
// a=setup:actpass, so rtpengine takes the active role (the default) and may
// start the handshake as soon as ICE completes, which can be before the
// browser has the answer (RFC 5763 §5 has the offerer ready for that). Were
// rtpengine told to be passive here, an ICE check that completes before the
// answer would already have set it up as the client, and the handshake
// would never finish.
func (p Profile) AnswerParams() map[string]any {
	m := p.Params()
	delete(m, "DTLS")
	return m
}
