package transaction

import "sync/atomic"

type counters struct {
	malformed, dropped, rejected atomic.Int64
	serverTx, clientTx, retrans  atomic.Int64
	retransSent, timeouts        atomic.Int64
	sendErrors, shed, screened   atomic.Int64
}

// Stats are the layer's counters since it started.
type Stats struct {
	Malformed          int64 // messages that failed to parse
	Dropped            int64 // malformed messages that could not be answered
	Rejected           int64 // requests refused with 503 at MaxTransactions
	ServerTransactions int64 // server transactions created
	ClientTransactions int64 // client transactions created
	Retransmissions    int64 // retransmitted requests absorbed
	RetransmitsSent    int64 // retransmissions sent by timers A, E and G
	Timeouts           int64 // transactions ended by Timer B, F or H
	Live               int64 // transactions alive now
	SendErrors         int64 // messages the transport queued but could not write (see Layer.SendFailed)
	Answered           int64 // of Live, server transactions past their final response
	Shed               int64 // non-INVITE server transactions ended at once at MaxAnswered
	Screened           int64 // new requests answered statelessly by the Core's Screen
}

// Stats returns a snapshot of the counters.
func (l *Layer) Stats() Stats {
	c := &l.stats
	return Stats{c.malformed.Load(), c.dropped.Load(), c.rejected.Load(), c.serverTx.Load(),
		c.clientTx.Load(), c.retrans.Load(), c.retransSent.Load(), c.timeouts.Load(), l.count.Load(), c.sendErrors.Load(),
		l.answered.Load(), c.shed.Load(), c.screened.Load()}
}
