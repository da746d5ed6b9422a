// Package rtpengine is a client of rtpengine's ng control protocol (Sipwise
// rtpengine, Debian package rtpengine-daemon), the media relay Parley drives
// for calls between browsers (WebRTC: DTLS-SRTP, ICE, RTP/RTCP multiplexing)
// and plain SIP phones (RTP/AVP), which cannot send media to each other.
//
// # Protocol
//
// Each command is one UDP datagram: a cookie, a space, and a bencoded
// dictionary holding at least "command" (ping, offer, answer, delete, ...).
// The reply carries the same cookie and a dictionary whose "result" is "ok",
// "pong" or "error" (then "error-reason" says why). A command without a reply
// is sent again with the same cookie, so that rtpengine answers the
// retransmission from its cache instead of running it twice.
//
// For a call, offer hands rtpengine the SDP offer with the call's Call-ID and
// From tag and returns the SDP to forward, which points at rtpengine's ports
// and is written in the profile the callee speaks (see Profile.Params);
// answer does the same for the SDP answer, adding the To tag; delete ends
// the call. rtpengine's own --timeout ends a call whose delete was lost.
//
// # Use
//
//	c, err := rtpengine.New("udp:127.0.0.1:2223", rtpengine.Options{})
//	out, err := c.Offer(ctx, rtpengine.Request{CallID: id, FromTag: ft, SDP: body,
//		Params: rtpengine.PlainRTP.Params()})
//
// A Client holds no socket and no goroutine between commands, and there is
// no package-level state. Errors: ErrUnreachable (no reply, or nothing
// listening) and *Error (rtpengine refused the command).
//
// rtpengine runs without its kernel module in userspace, for example:
//
//	rtpengine --interface=203.0.113.5 --listen-ng=127.0.0.1:2223 --table=-1 \
//	    --port-min=30000 --port-max=40000 --foreground --log-stderr
package rtpengine
