package sipserver

import (
	"errors"
	"fmt"
)

// StatusError is an error that carries the SIP response to send.
type StatusError struct {
	Code   int
	Reason string // "" for the RFC reason phrase
	Extra  []byte // complete header lines to add, e.g. "Unsupported: foo\r\n"
	Err    error
	// Forget ends the transaction of a non-INVITE request as soon as the
	// response is sent, as a stateless UAS would (RFC 3261 §8.2.7): nothing
	// lingers for Timer J, and a retransmitted request is served anew. For
	// answers that are as cheap to repeat as to remember, such as digest
	// challenges (§26.3.2.4: challenge statelessly, so that a flood of
	// unauthenticated requests keeps no state). An INVITE's transaction is
	// kept: it must absorb the ACK of its non-2xx answer (§17.2.1).
	Forget bool
}

func (e *StatusError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Code, e.Reason, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Code, e.Reason)
}

func (e *StatusError) Unwrap() error { return e.Err }

// Error returns an error that makes the server answer with code; err is kept
// for logs and its text is not sent.
func Error(code int, err error) error { return &StatusError{Code: code, Err: err} }

// Reject returns an error that makes the server answer with code and reason,
// plus the header lines in extra.
func Reject(code int, reason string, extra string) error {
	return &StatusError{Code: code, Reason: reason, Extra: []byte(extra)}
}

// ErrNoResponse is returned by a handler that forwarded a request statelessly
// (§16.11): the server sends nothing and forgets the transaction at once, so a
// retransmission is forwarded again.
var ErrNoResponse = errors.New("forwarded statelessly")

// statusOf returns the response an error stands for: its StatusError, or 500.
func statusOf(err error) *StatusError {
	var se *StatusError
	if errors.As(err, &se) {
		return se
	}
	return &StatusError{Code: 500, Reason: "Server Internal Error", Err: err}
}
