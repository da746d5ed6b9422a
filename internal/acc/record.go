// Package acc writes call records (CDRs): one Record per INVITE the proxy
// routes, handed to a Writer that buffers, retries and counts, and writes to
// Sinks (the database's cdr table, a JSON-lines file). A slow or failing sink
// never delays call routing.
package acc

import "time"

// Disposition says how a call ended.
type Disposition string

// Dispositions of a call (issue #5): a 2xx is answered; 486 and 600 busy; 603
// declined; a CANCEL followed by 487 cancelled; 408, 480 or Timer C no answer;
// any other final code failed.
const (
	Answered  Disposition = "answered"
	Busy      Disposition = "busy"
	Declined  Disposition = "declined"
	Cancelled Disposition = "cancelled"
	NoAnswer  Disposition = "no_answer"
	Failed    Disposition = "failed"
)

// HangupBy says who ended an answered call.
type HangupBy string

// Who ended a call.
const (
	ByCaller  HangupBy = "caller"
	ByCallee  HangupBy = "callee"
	ByTimeout HangupBy = "timeout" // Parley's maximum call duration
	BySystem  HangupBy = "system"  // Parley shut down or an operator ended it
)

// Record is one call: who called whom, when it rang, was answered and ended,
// and how. Times are zero when the event did not happen.
type Record struct {
	ID          string      `json:"id"`      // unique per record
	CallID      string      `json:"call_id"` // of the INVITE
	FromURI     string      `json:"from_uri"`
	FromName    string      `json:"from_name,omitempty"` // display name, unquoted
	ToURI       string      `json:"to_uri"`
	RequestURI  string      `json:"request_uri"`
	Caller      string      `json:"caller"` // user@domain of From
	Callee      string      `json:"callee"` // user@domain of the Request-URI
	Source      string      `json:"source"` // address the INVITE came from
	Transport   string      `json:"transport"`
	InviteAt    time.Time   `json:"invite_at"`
	RingAt      time.Time   `json:"ring_at,omitzero"`
	AnswerAt    time.Time   `json:"answer_at,omitzero"`
	EndAt       time.Time   `json:"end_at"`
	Duration    float64     `json:"duration"` // seconds from answer to end, 0 if not answered
	Code        int         `json:"code"`     // final response code
	Reason      string      `json:"reason"`
	Disposition Disposition `json:"disposition"`
	Missed      bool        `json:"missed"`              // a call to a local user that nobody answered
	HangupBy    HangupBy    `json:"hangup_by,omitempty"` // for answered calls
	Targets     []string    `json:"targets,omitempty"`   // contacts tried
	ReferredBy  string      `json:"referred_by,omitempty"`
	TransferTo  string      `json:"transfer_to,omitempty"` // Refer-To of a REFER inside this call
}

// DispositionOf classifies a final response code (and whether the caller
// cancelled) as the issue defines it.
func DispositionOf(code int, cancelled bool) Disposition {
	switch {
	case code >= 200 && code < 300:
		return Answered
	case cancelled && code == 487:
		return Cancelled
	case code == 486 || code == 600:
		return Busy
	case code == 603:
		return Declined
	case code == 408 || code == 480:
		return NoAnswer
	}
	return Failed
}

// Recorder receives finished records. Record must not block.
type Recorder interface {
	Record(r Record)
}
