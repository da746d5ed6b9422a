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
// A Core that implements Screener sees each new request other than INVITE,
// ACK and CANCEL before a transaction is made for it, and may answer it
// statelessly (SendStateless); Stats.Screened counts those.
//
// Two limits bound the transactions. Config.MaxTransactions caps those at
// work (server transactions that have not answered yet, client
// transactions): beyond it new requests get 503 with Retry-After. Server
// transactions that have answered and only absorb retransmissions are
// capped by Config.MaxAnswered: beyond it a non-INVITE server transaction
// ends as soon as it answers, as over a reliable transport (Stats.Shed), so a
// burst of registrations costs bounded memory without being refused.
// Answered INVITE transactions are not shed (their ACK must be absorbed);
// with MaxTransactions+MaxAnswered transactions alive in all, new requests
// get 503 too.
//
// Timers come from Timers (T1, T2, T4, and Timer D), passed in; nothing is
// package-level. The branches Parley writes are signed (SignBranch, OwnBranch)
// so that a response matching no transaction can be told to be ours.
//
// # Memory
//
// A transaction holds its struct, a parsed copy of its request (the message
// bytes plus the Message header index), its timers and the bytes of its last
// response. For a request of about 1 KB (971 bytes: an INVITE or MESSAGE with
// 700 bytes of body), one live transaction holds, in bytes of heap:
//
//	server INVITE, Proceeding (with its 100 Trying)   3400
//	server non-INVITE, Trying                         2900
//	client INVITE, Calling                            2800
//	client non-INVITE, Trying                         2800
//	server non-INVITE, Completed (a 200 sent)         1100
//
// so about 2 KB plus the size of the request; 100000 live transactions take
// about 300 MB. Measured by TestBytesPerTransaction (go1.26, linux/amd64):
// the growth of runtime.MemStats.HeapAlloc, after a GC, over 5000 live
// transactions of one kind, divided by 5000. The goroutine stack of the
// handler serving a server transaction is not heap and not counted. Once a
// final response is sent, the request copy is released (ServerTx.Release,
// and a client transaction drops its request), so a transaction lingering in
// Completed or Accepted holds its last response and its own state (1100
// bytes in all with a bare 200, as in the table): over UDP a REGISTER's transaction
// stays 32 s after its 200 (Timer J = 64*T1, §17.2.2), so 10,000
// registrations/s keep about 320,000 of them, some 350 MB of heap (the
// default MaxAnswered, 500,000, bounds this at about 550 MB). The test
// fails if a figure grows by more than 25%; change this table with it.
package transaction
