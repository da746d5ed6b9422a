// Package transaction implements the RFC 3261 §17 transaction layer: INVITE and
// non-INVITE client and server transactions with timers A to K, as amended by
// RFC 6026 (the Accepted state: a 2xx to an INVITE ends retransmission handling
// in the transaction, and 2xx retransmissions and their ACKs pass through to the
// core, which forwards them statelessly).
//
// The Layer sits between the transport layer and the core (sipserver): it parses
// each packet, answers a malformed request that still has a usable Via with a
// stateless 400 whose reason phrase names the problem (or 505), absorbs request
// retransmissions, sends the ACK for a non-2xx final response itself, matches
// responses to client transactions (§17.1.3) and requests to server transactions
// (§17.2.3, and §9.2 for CANCEL), and hands everything else to the Core.
//
// Timers come from Timers (T1, T2, T4), passed in; nothing is package-level.
//
// Memory: a transaction holds its struct, a parsed copy of its request (the
// message bytes plus the Message header index) and the bytes of its last
// response. TestBytesPerTransaction measures the total; see its log line.
package transaction
