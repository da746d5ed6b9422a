package acc

import (
	"errors"
	"fmt"
	"time"
)

// WriterConfig tunes a Writer. The zero value is valid: each zero field takes
// the default named in its comment.
type WriterConfig struct {
	// MaxPending is how many records each sink may have waiting (buffered or
	// being written) before further records are dropped for that sink, and
	// counted, and logged. Default 100,000 (about 40 MB per sink when full).
	MaxPending int
	// BatchSize is the most records handed to one Sink.Write. A sink is
	// written as soon as this many wait. Default 500.
	BatchSize int
	// FlushInterval is how long a record may wait for a batch to fill before
	// it is written anyway. Default 1s.
	FlushInterval time.Duration
	// RetryMin and RetryMax bound the pause after a failed write; it doubles
	// from RetryMin at each consecutive failure. Defaults 100ms and 30s.
	RetryMin, RetryMax time.Duration
	// WriteTimeout bounds one Sink.Write. Default 30s.
	WriteTimeout time.Duration
	// DropLogInterval is how often drops are logged: at most one warning per
	// sink per interval, with the count since the previous one. Default 1m.
	DropLogInterval time.Duration
}

// Validate reports negative values and RetryMin above RetryMax.
func (c WriterConfig) Validate() error {
	var errs []error
	neg := func(name string, v int64) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("acc: %s must not be negative", name))
		}
	}
	neg("max_pending", int64(c.MaxPending))
	neg("batch_size", int64(c.BatchSize))
	neg("flush_interval", int64(c.FlushInterval))
	neg("retry_min", int64(c.RetryMin))
	neg("retry_max", int64(c.RetryMax))
	neg("write_timeout", int64(c.WriteTimeout))
	neg("drop_log_interval", int64(c.DropLogInterval))
	if c.RetryMin > 0 && c.RetryMax > 0 && c.RetryMin > c.RetryMax {
		errs = append(errs, errors.New("acc: retry_min must not exceed retry_max"))
	}
	return errors.Join(errs...)
}

// withDefaults fills in the zero (or negative) fields.
func (c WriterConfig) withDefaults() WriterConfig {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 100_000
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	def(&c.FlushInterval, time.Second)
	def(&c.RetryMin, 100*time.Millisecond)
	def(&c.RetryMax, 30*time.Second)
	def(&c.WriteTimeout, 30*time.Second)
	def(&c.DropLogInterval, time.Minute)
	c.RetryMax = max(c.RetryMax, c.RetryMin)
	return c
}
