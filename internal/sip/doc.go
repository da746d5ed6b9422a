// Package sip parses and serializes SIP messages (RFC 3261 §7, §20, §25).
//
// It does no I/O and uses only the standard library. Parse fills a reusable
// Message with references into the caller's buffer: the start line and the
// headers a proxy routes on (top Via, From/To and their tags, Call-ID, CSeq,
// Max-Forwards, Expires, Content-Length, and the Route, Record-Route and Contact
// lines) are reachable without allocating; every other header stays raw bytes
// until asked for (Get, Values). Validate checks the remaining structured
// headers when a server needs them.
//
// Forwarding edits (PushVia, PopVia, DecrementMaxForwards, AddRecordRoute,
// RemoveTopRoute, SetRequestURI, SetReason, SetBody) are recorded as byte-range
// replacements and applied by AppendTo, so only what changed is rewritten.
//
// Robustness: Parse never panics, never reads outside its buffer, caps the
// number of header lines (Limits.MaxHeaders) and of values in list headers
// (Limits.MaxValues), and reports each malformed message with a ParseError whose
// Code and Reason are the response a server sends (400 with a reason phrase that
// names the problem, 505 for another SIP version). The RFC 4475 and RFC 5118
// torture messages are a table test; FuzzParse is the native fuzz target.
package sip
