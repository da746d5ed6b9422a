package acc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Writer is the Recorder the proxy hands finished calls to. Record only
// appends to an in-memory queue per sink and returns; one goroutine per sink
// writes the queue in batches (BatchSize records, or whatever waited
// FlushInterval), in the order Record was called.
//
// A failed write is retried with backoff (RetryMin doubling to RetryMax) until
// it succeeds; its records stay queued meanwhile, so nothing is lost and a
// failing sink delays no other sink. Each sink's queue is bounded by
// MaxPending: a record that would exceed it is dropped for that sink only,
// counted in SinkStats.Dropped, and reported by a warning at most once per
// DropLogInterval. Close writes everything still queued.
//
// Lock order: Writer.mu is never held while a Sink method runs, so it nests
// with no sink's lock; no I/O happens while it is held.
type Writer struct {
	cfg    WriterConfig
	log    *slog.Logger
	queues []*queue

	mu     sync.Mutex // guards every queue's mutable fields, and closed
	closed bool       // Record drops everything once set

	ctx       context.Context // cancelled when Close gives up
	cancel    context.CancelFunc
	stop      chan struct{} // closed by Close: write what is queued and exit
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

var _ Recorder = (*Writer)(nil)

// queue is one sink's share of a Writer: its records in batches of at most
// BatchSize, so that Record appends without growing (and copying) a big
// slice, and emptied batches are reused. Fields below kick are guarded by
// Writer.mu.
type queue struct {
	sink Sink
	name string        // sink.Name(), read once
	kick chan struct{} // a batch is full; capacity 1

	batches  [][]Record // not yet taken by the sink's goroutine, oldest first; only the last may be partial
	free     [][]Record // written batches for reuse (see trimFree)
	pending  int        // records queued or being written
	written  uint64
	retried  uint64
	dropped  uint64
	reported uint64 // dropped as of the last warning
	lastErr  error

	taken [][]Record // the goroutine's: batches it is writing
}

// SinkStats are one sink's counters since NewWriter.
type SinkStats struct {
	Name      string `json:"name"`
	Written   uint64 `json:"written"` // records the sink accepted
	Retried   uint64 `json:"retried"` // failed writes, each retried (or abandoned by Close)
	Dropped   uint64 `json:"dropped"` // records never given to the sink: queue full, or Record after Close
	Pending   int    `json:"pending"` // records queued or being written
	LastError string `json:"last_error,omitempty"`
}

// NewWriter starts a Writer feeding every sink. cfg's zero fields take their
// defaults; log may be nil. Close it to flush and stop.
func NewWriter(cfg WriterConfig, sinks []Sink, log *slog.Logger) *Writer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{cfg: cfg.withDefaults(), log: log, stop: make(chan struct{})}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	for _, s := range sinks {
		q := &queue{sink: s, name: s.Name(), kick: make(chan struct{}, 1)}
		w.queues = append(w.queues, q)
		w.wg.Add(1)
		go w.run(q)
	}
	w.wg.Add(1)
	go w.reportDrops()
	return w
}

// Record queues r for every sink, giving it an ID (NewID) if it has none. It
// never blocks on I/O; it takes one short lock. r.Targets must not be
// modified afterwards.
func (w *Writer) Record(r Record) {
	if r.ID == "" {
		r.ID = NewID()
	}
	w.mu.Lock()
	for _, q := range w.queues {
		if w.closed || q.pending >= w.cfg.MaxPending {
			q.dropped++
			continue
		}
		q.append(r, w.cfg.BatchSize)
	}
	w.mu.Unlock()
}

// append adds r to the last batch, or to a new one if that is full, and
// kicks the goroutine when a batch fills. Writer.mu must be held.
func (q *queue) append(r Record, batchSize int) {
	n := len(q.batches)
	if n == 0 || len(q.batches[n-1]) == cap(q.batches[n-1]) {
		var b []Record
		if f := len(q.free); f > 0 {
			b, q.free = q.free[f-1], q.free[:f-1]
		} else {
			b = make([]Record, 0, batchSize)
		}
		q.batches = append(q.batches, b)
		n++
	}
	last := &q.batches[n-1]
	*last = append(*last, r)
	q.pending++
	if len(*last) == cap(*last) {
		select {
		case q.kick <- struct{}{}:
		default:
		}
	}
}

// Stats returns each sink's counters, in the order the sinks were given.
func (w *Writer) Stats() []SinkStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]SinkStats, len(w.queues))
	for i, q := range w.queues {
		out[i] = SinkStats{Name: q.name, Written: q.written, Retried: q.retried,
			Dropped: q.dropped, Pending: q.pending}
		if q.lastErr != nil {
			out[i].LastError = q.lastErr.Error()
		}
	}
	return out
}

// Reopen reopens every sink that is a Reopener (the JSON-lines file, after
// the operator moved it away and sent SIGHUP).
func (w *Writer) Reopen() error {
	var errs []error
	for _, q := range w.queues {
		if r, ok := q.sink.(Reopener); ok {
			if err := r.Reopen(); err != nil {
				errs = append(errs, fmt.Errorf("acc: reopen %s: %w", q.name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Close stops accepting records (Record then drops and counts them), writes
// everything queued, retrying failed writes until ctx is done, and closes the
// sinks. If ctx ends first, the writes in progress are cancelled and the
// error says how many records were lost. Calling Close again returns the
// first call's result.
func (w *Writer) Close(ctx context.Context) error {
	w.closeOnce.Do(func() { w.closeErr = w.close(ctx) })
	return w.closeErr
}

func (w *Writer) close(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		w.cancel() // abandon the writes in progress
		<-done
	}
	w.cancel()
	w.logDrops()
	var errs []error
	for _, q := range w.queues {
		if err := q.sink.Close(); err != nil {
			errs = append(errs, fmt.Errorf("acc: close %s: %w", q.name, err))
		}
		w.mu.Lock()
		lost := q.pending
		w.mu.Unlock()
		if lost > 0 {
			errs = append(errs, fmt.Errorf("acc: %d call records lost for %s: %w", lost, q.name, context.Cause(ctx)))
		}
	}
	return errors.Join(errs...)
}
