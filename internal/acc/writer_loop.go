package acc

import (
	"context"
	"fmt"
	"time"
)

// maxFree is how many written batches a queue keeps for reuse when idle.
// After a backlog it keeps more, and halves them every FlushInterval.
const maxFree = 4

// run is one sink's goroutine: it writes the full batches when one fills,
// everything every FlushInterval, and everything a last time on Close.
func (w *Writer) run(q *queue) {
	defer w.wg.Done()
	tick := time.NewTicker(w.cfg.FlushInterval)
	defer tick.Stop()
	for {
		all := true
		select {
		case <-w.stop:
			w.drain(q, true)
			return
		case <-q.kick:
			all = false
		case <-tick.C:
			w.trimFree(q)
		}
		if !w.drain(q, all) {
			return
		}
	}
}

// drain writes q's full batches, and the partial last one if all is set,
// until none are left. It returns false when Close gave up (w.ctx is
// cancelled).
func (w *Writer) drain(q *queue, all bool) bool {
	for {
		batches := w.take(q, all)
		if len(batches) == 0 {
			return true
		}
		for _, b := range batches {
			if !w.writeRetrying(q, b) {
				return false
			}
			w.recycle(q, b)
		}
	}
}

// take hands q's batches to its goroutine: the full ones, and the partial
// last one if all is set.
func (w *Writer) take(q *queue, all bool) [][]Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := len(q.batches)
	if k > 0 && !all && len(q.batches[k-1]) < cap(q.batches[k-1]) {
		k--
	}
	clear(q.taken)
	q.taken = append(q.taken[:0], q.batches[:k]...)
	rest := copy(q.batches, q.batches[k:])
	clear(q.batches[rest:])
	q.batches = q.batches[:rest]
	return q.taken
}

// recycle keeps a written batch for reuse. It is not cleared: the records
// it still holds are overwritten by the next ones, or released by trimFree,
// and clearing costs more than the memory they keep alive meanwhile.
func (w *Writer) recycle(q *queue, b []Record) {
	w.mu.Lock()
	q.free = append(q.free, b[:0])
	w.mu.Unlock()
}

// trimFree halves the reusable batches left by a backlog, down to maxFree.
func (w *Writer) trimFree(q *queue) {
	w.mu.Lock()
	if n := len(q.free); n > maxFree {
		keep := max(maxFree, n/2)
		clear(q.free[keep:])
		q.free = q.free[:keep]
	}
	w.mu.Unlock()
}

// writeRetrying writes rs until that succeeds, pausing between attempts. It
// returns false when Close gave up. On Close the pause in progress is cut
// short and the backoff starts again from RetryMin.
func (w *Writer) writeRetrying(q *queue, rs []Record) bool {
	stop := w.stop
	var pause time.Duration
	for attempt := 1; ; attempt++ {
		err := w.write(q, rs)
		if err == nil {
			if attempt > 1 {
				w.log.Info("acc: sink writes resumed", "sink", q.name, "attempts", attempt)
			}
			return true
		}
		if w.ctx.Err() != nil {
			return false
		}
		pause = min(max(2*pause, w.cfg.RetryMin), w.cfg.RetryMax)
		w.mu.Lock()
		q.retried++
		q.lastErr = err
		pending := q.pending
		w.mu.Unlock()
		w.log.Warn("acc: writing call records failed; retrying", "sink", q.name,
			"err", err, "records", len(rs), "pending", pending, "attempt", attempt, "retry_in", pause)
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-stop:
			t.Stop()
			stop, pause = nil, 0
		case <-w.ctx.Done():
			t.Stop()
			return false
		}
	}
}

// write makes one attempt, bounded by WriteTimeout, and counts its success.
// A panicking sink counts as a failed write.
func (w *Writer) write(q *queue, rs []Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sink panicked: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(w.ctx, w.cfg.WriteTimeout)
	defer cancel()
	if err := q.sink.Write(ctx, rs); err != nil {
		return err
	}
	w.mu.Lock()
	q.pending -= len(rs)
	q.written += uint64(len(rs))
	q.lastErr = nil
	w.mu.Unlock()
	return nil
}

// reportDrops logs each sink's new drops once per DropLogInterval until Close.
func (w *Writer) reportDrops() {
	defer w.wg.Done()
	tick := time.NewTicker(w.cfg.DropLogInterval)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
			w.logDrops()
		}
	}
}

// logDrops warns about the records dropped since the previous warning.
func (w *Writer) logDrops() {
	type drop struct {
		name       string
		n, total   uint64
		maxPending int
	}
	var drops []drop
	w.mu.Lock()
	for _, q := range w.queues {
		if q.dropped > q.reported {
			drops = append(drops, drop{q.name, q.dropped - q.reported, q.dropped, w.cfg.MaxPending})
			q.reported = q.dropped
		}
	}
	w.mu.Unlock()
	for _, d := range drops {
		w.log.Warn("acc: call records dropped: the sink's queue is full or the writer is closed",
			"sink", d.name, "dropped", d.n, "dropped_total", d.total, "max_pending", d.maxPending)
	}
}
