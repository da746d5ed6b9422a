package config

import (
	"errors"
	"fmt"
	"time"
)

// Timers holds the transaction timer values of RFC 3261 §17.1.1.1 and the
// proxy's Timer C (§16.8). Every other §17 timer (A, B, D, E, F, G, H, I,
// J, K) is derived from these three bases.
type Timers struct {
	// T1 is the round-trip time estimate. Default 500ms.
	T1 Duration `yaml:"t1"`
	// T2 caps the retransmit interval of non-INVITE requests and INVITE
	// responses. Default 4s; must be at least T1.
	T2 Duration `yaml:"t2"`
	// T4 is the longest a message may stay in the network. Default 5s.
	T4 Duration `yaml:"t4"`
	// TimerC bounds how long a proxy waits for a final response to an
	// INVITE. Default 3m5s: RFC 3261 §16.8 says it MUST be greater than
	// 3 minutes; values down to 1s are accepted for tests and labs.
	TimerC Duration `yaml:"timer_c"`
}

// DefaultTimers returns the values recommended by RFC 3261.
func DefaultTimers() Timers {
	return Timers{
		T1:     Duration(500 * time.Millisecond),
		T2:     Duration(4 * time.Second),
		T4:     Duration(5 * time.Second),
		TimerC: Duration(185 * time.Second),
	}
}

// Validate checks T1 > 0, T2 >= T1, T4 > 0 and TimerC >= 1s.
func (t Timers) Validate() error {
	var errs []error
	if t.T1 <= 0 {
		errs = append(errs, fieldErr("t1", errors.New("must be greater than 0")))
	}
	if t.T2 < t.T1 {
		errs = append(errs, fieldErr("t2", fmt.Errorf("must be at least t1 (%s), got %s", t.T1, t.T2)))
	}
	if t.T4 <= 0 {
		errs = append(errs, fieldErr("t4", errors.New("must be greater than 0")))
	}
	if t.TimerC < Duration(time.Second) {
		errs = append(errs, fieldErr("timer_c", fmt.Errorf("must be at least 1s (RFC 3261 §16.8 asks for more than 3m), got %s", t.TimerC)))
	}
	return errors.Join(errs...)
}
