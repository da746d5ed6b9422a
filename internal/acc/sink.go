package acc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"math"
	"time"
)

// Sink stores call records: the database's cdr table (NewDBSink), a JSON-lines
// file (NewFileSink), or anything else. A Writer calls Write from one
// goroutine per sink, never concurrently for the same sink.
type Sink interface {
	// Name identifies the sink in logs and Stats, as "db:DSN" or "file:PATH".
	Name() string
	// Write stores rs, in order. It returns an error only for a failure a
	// retry may cure (the database is down, the disk is full): the Writer
	// then writes the same records again, so Write must not store a record
	// twice when it is retried after failing part way. A record the sink can
	// never store must be adjusted or skipped, not failed, or it is retried
	// for ever. Write must return soon after ctx is done.
	Write(ctx context.Context, rs []Record) error
	// Close releases the sink. The Writer calls it once, after the last Write.
	Close() error
}

// Reopener is a Sink that reopens its output, for log rotation on SIGHUP
// (FileSink). Writer.Reopen calls it on every sink that has it.
type Reopener interface {
	Reopen() error
}

// NewID returns a random record ID: 16 bytes in lower-case hex.
func NewID() string {
	var raw [16]byte
	rand.Read(raw[:]) // never fails (crypto/rand crashes the program instead)
	var out [32]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

// storable returns r with the values no store can hold made harmless: a
// duration that is not finite becomes 0, and a time outside the years 1 to
// 9999 (which JSON cannot encode) becomes zero.
func storable(r Record) Record {
	if math.IsNaN(r.Duration) || math.IsInf(r.Duration, 0) {
		r.Duration = 0
	}
	for _, t := range []*time.Time{&r.InviteAt, &r.RingAt, &r.AnswerAt, &r.EndAt} {
		if y := t.Year(); y < 1 || y > 9999 {
			*t = time.Time{}
		}
	}
	return r
}
