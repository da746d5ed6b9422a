package transaction

import (
	"time"

	"github.com/parley-sip/parley/internal/sip"
)

// Timers are the RFC 3261 §17 base timers. The zero value means the RFC defaults.
type Timers struct {
	T1 time.Duration // RTT estimate, default 500 ms
	T2 time.Duration // maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s
	T4 time.Duration // maximum time a message stays in the network, default 5 s
	// D is Timer D on unreliable transports: how long a client INVITE
	// transaction stays Completed to absorb retransmitted final responses.
	// Default max(64*T1, 32 s) (§17.1.1.2: "at least 32 seconds"; Table 4).
	// Lower it only where responses cannot linger that long (tests).
	D time.Duration
}

func (t Timers) withDefaults() Timers {
	if t.T1 <= 0 {
		t.T1 = 500 * time.Millisecond
	}
	if t.T2 <= 0 {
		t.T2 = 4 * time.Second
	}
	if t.T4 <= 0 {
		t.T4 = 5 * time.Second
	}
	return t
}

// Table 4 of RFC 3261 (§A), and RFC 6026 §8.
func (t Timers) timerB() time.Duration { return 64 * t.T1 } // INVITE transaction timeout
func (t Timers) timerF() time.Duration { return 64 * t.T1 } // non-INVITE transaction timeout
func (t Timers) timerH() time.Duration { return 64 * t.T1 } // wait time for ACK receipt
func (t Timers) timerL() time.Duration { return 64 * t.T1 } // Accepted state, server (RFC 6026)
func (t Timers) timerM() time.Duration { return 64 * t.T1 } // Accepted state, client (RFC 6026)

// timerD is the wait for response retransmissions: at least 32 s unreliable, 0 reliable.
func (t Timers) timerD(reliable bool) time.Duration {
	switch {
	case reliable:
		return 0
	case t.D > 0:
		return t.D
	}
	return max(64*t.T1, 32*time.Second)
}

// timerIK is Timer I (server INVITE, ACK retransmissions) and Timer K (client non-INVITE).
func (t Timers) timerIK(reliable bool) time.Duration {
	if reliable {
		return 0
	}
	return t.T4
}

// timerJ is the wait for non-INVITE request retransmissions.
func (t Timers) timerJ(reliable bool) time.Duration {
	if reliable {
		return 0
	}
	return 64 * t.T1
}

// Config configures a Layer.
type Config struct {
	Timers Timers
	Limits sip.Limits
	// MaxTransactions caps the transactions still at work: server
	// transactions that have not sent a final response, and client
	// transactions. Beyond it new requests get 503. Default 200000.
	MaxTransactions int
	// MaxAnswered caps the server transactions that have sent their final
	// response and only linger to absorb retransmissions (Timers J, L, H and
	// I; about 1.1 KB each, TestBytesPerTransaction). Beyond it a non-INVITE
	// server transaction ends as soon as it has answered, as one over a
	// reliable transport does (§17.2.2), instead of refusing new requests: a
	// retransmission then gets a fresh answer. Answered INVITE transactions
	// are not shed; new requests get 503 once MaxTransactions+MaxAnswered
	// transactions live in all. Default 500000.
	MaxAnswered  int
	ServerHeader string // value of the Server header on responses the layer writes itself; "" for none
	// NoTrying stops the server INVITE transaction from answering 100 Trying
	// at once (§16.2 lets a proxy do so; §17.2.1 requires it within 200 ms).
	NoTrying bool
	// BranchSecret keys the signatures of the branches Parley puts in its
	// Vias (see SignBranch). Empty means a random secret for this process,
	// so responses to requests sent before a restart are not relayed.
	BranchSecret []byte
}
