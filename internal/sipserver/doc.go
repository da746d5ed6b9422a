// Package sipserver is the core between the transaction layer and Parley's
// features: one Handler shape, one Middleware shape, errors that carry the SIP
// status, and exactly one place (Server.ServeRequest) that writes the fallback
// response when a handler returns an error, panics, or forgets to answer.
//
// A request walks: transport → transaction.Layer (parse, stateless 400/505,
// retransmissions) → Server.ServeRequest (context cancelled on CANCEL, panic
// recovery) → the compiled chain (sanity checks of RFC 3261 §8.2 and §16.3,
// then the features) → a final response through the ServerTx.
//
// One shortcut exists, for answers cheaper to repeat than to remember: a
// Screen (SetScreen) sees each new request other than INVITE, ACK and CANCEL
// on the transport's goroutine, before the transaction layer makes a
// transaction for it, and may answer it statelessly (RFC 3261 §8.2.7). Parley
// screens only digest challenges to requests without credentials
// (auth.Digest.Screen, with SanityCheck, behind metrics.Metrics.Screen). A
// handler may also end its transaction with its answer by returning a
// StatusError with Forget set.
package sipserver
