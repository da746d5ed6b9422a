// Package proxy is Parley's stateful proxy and redirect server (RFC 3261 §16,
// §8.3), built on the transaction layer and the location service, like
// Kamailio's tm + rr + registrar lookup.
//
// A request that is not for Parley itself walks:
//   - loop detection (§16.3 step 4): our Via with the same loop hash → 482;
//   - Route processing (§16.4): a Request-URI that is one of our Record-Route
//     URIs means the previous hop was a strict router, and the last Route
//     becomes the Request-URI; Route values naming Parley are removed;
//   - target choice (§16.5): the next Route, else a static route (by the
//     Request-URI user, or the number of a tel: URI), else the location
//     service for a user of our domains (404 when nobody is registered, or
//     480 for a known user with proxy.unregistered_480), else a foreign domain
//     by RFC 3263 or the outbound proxy, refused with 403 when neither end is
//     ours (no open relay); in redirect mode (proxy.redirect, a route's
//     redirect, proxy.redirect_domains) the same targets are answered with 302;
//   - forking (§16.6): one client transaction per target, Record-Route (two
//     entries when the call changes transport), Path (RFC 3327) as Route,
//     parallel within a q-value, serial across q-values from highest; a next
//     hop found by RFC 3263 (a foreign domain, the outbound proxy, a Route)
//     keeps its other destinations, and a transport error, a timeout with no
//     response or a 503 sends the request to the next one (§4.3, resolve.go);
//   - responses (§16.7): 1xx other than 100 and every 2xx are forwarded at
//     once; the best final response is chosen when all branches end (6xx ends
//     the search at once, 503 becomes 500, 401/407 challenges are combined);
//     a 2xx cancels the other INVITE branches; Timer C (§16.8) cancels a
//     ringing branch (the caller then gets 408, the call is not answered) or
//     ends one with no provisional as a 408; a 2xx on a branch given up is
//     ACKed and hung up by Parley, never relayed after the final response;
//   - CANCEL (§16.10): the server core answers 200 and cancels the request's
//     context; the proxy cancels every pending branch and forwards the 487.
//
// In-dialog requests and the ACK for a 2xx follow the Route set. Each of our
// Record-Route URIs carries the flows of both ends (parameters pf and pt:
// transport, address, port and connection), so that a request inside the dialog
// reaches a phone behind NAT or on a TCP, TLS or WebSocket connection over the
// flow it opened, whichever side sends it. The flows are signed (parameter
// ps: HMAC-SHA256 over the Call-ID and both flows, keyed with a secret kept in
// the database, see token.go), as RFC 5626 §5.2 flow tokens are. Requests
// inside a dialog are never challenged, so one is relayed along its route set
// only when its top Route (or, after a strict router, its Request-URI) is a
// Record-Route of ours whose signature checks; otherwise it is routed as a
// request outside a dialog would be, except that its From is not believed: a
// user of our domains by location, anything else only from a trusted network,
// a foreign Route 403, any other target 404 "Not Here", an ACK dropped.
//
// Answered INVITEs are tracked as dialogs (calls.go) with both ends' flows,
// remote targets and route sets. When Parley ends a call itself
// (calls.max_duration, `parley calls end`, a graceful shutdown) it sends
// each end the BYE the other end would send, along that end's route set and
// over its flow (§12.2.1.1, hangup.go), with a signed Via branch, and has
// rtpengine delete the call if it relayed its media.
//
// Static routes with stateless: true forward without transaction state
// (§16.11): the branch is derived from the caller's, so the CANCEL (through
// StatelessCancel) and the ACK for a non-2xx follow the INVITE to the gateway,
// and responses go back by our Via (over the caller's connection, named by a
// signed flow in that Via, for TCP, TLS and WebSocket callers).
package proxy
