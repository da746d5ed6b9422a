// Package capture keeps the most recent SIP messages Parley received and
// sent, like sngrep does, so that the web console can draw the ladder
// diagram of a call. A Ring is fed by the transport layer's tap
// (transport.Config.Tap) and read by the management API:
//
//	GET /api/v1/capture?call_id=X   the messages of one call, in time order
//	GET /api/v1/capture/calls       the recent Call-IDs, to pick one
//
// The ring is bounded twice: by a number of messages (config
// limits.capture_messages, default 10000; 0 disables capture) and by the
// bytes they hold (MaxBytes), so large messages cannot make it grow without
// bound. When full, the oldest message goes. The tap copies each message
// (one allocation) and finds its Call-ID by scanning the header lines, without
// a parse; summaries are computed when the API asks.
//
// Config:
//
//	limits:
//	  capture_messages: 10000   # 0 turns capture off; changing it needs a restart
package capture
