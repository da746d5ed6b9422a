package location

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// admit lets a mutating call in: it fails after Close, and in write-back mode
// a change to aor ("" for none) waits while the queue is full (MaxPending)
// and aor is not already in it. On success the caller must call c.active.Done.
func (c *Cached) admit(ctx context.Context, aor string) error {
	var timeout <-chan time.Time
	c.mu.Lock()
	for {
		if c.closed {
			c.mu.Unlock()
			return ErrClosed
		}
		_, queued := c.dirty[aor]
		if c.opts.WriteThrough || aor == "" || queued || len(c.dirty)+c.inflight < c.opts.MaxPending {
			c.active.Add(1)
			c.mu.Unlock()
			return nil
		}
		if timeout == nil {
			t := time.NewTimer(c.opts.PendingWait)
			defer t.Stop()
			timeout = t.C
		}
		progress := c.progress
		c.mu.Unlock()
		c.wake()
		select {
		case <-progress:
		case <-timeout:
			return ErrBacklog
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.Lock()
	}
}

// markDirty queues the AORs for the writer (write-back mode only).
func (c *Cached) markDirty(aors ...string) {
	if c.opts.WriteThrough || len(aors) == 0 {
		return
	}
	c.mu.Lock()
	for _, aor := range aors {
		if _, ok := c.dirty[aor]; !ok {
			c.dirty[aor] = struct{}{}
		}
	}
	c.seq++
	full := len(c.dirty) >= c.opts.BatchSize
	c.mu.Unlock()
	if full {
		c.wake()
	}
}

func (c *Cached) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// notifyLocked wakes everyone waiting for the queue to shrink. c.mu must be held.
func (c *Cached) notifyLocked() {
	close(c.progress)
	c.progress = make(chan struct{})
}

// Pending returns how many AORs have changes not yet in the backend.
func (c *Cached) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.dirty) + c.inflight
}

// run is the write-behind loop: every Interval, when kicked, and once more on
// Close, it writes what is queued, retrying with backoff while the backend
// fails. It returns after the final write on Close, or when Close gives up.
func (c *Cached) run() {
	defer close(c.exited)
	tick := time.NewTicker(c.opts.Interval)
	defer tick.Stop()
	for {
		stopping := false
		select {
		case <-c.stop:
			stopping = true
		case <-c.kick:
		case <-tick.C:
		}
		if !c.writeRetrying() || stopping {
			return
		}
	}
}

// writeRetrying writes the queue until that succeeds; false if Close gave up.
func (c *Cached) writeRetrying() bool {
	pause := time.Duration(0)
	for attempt := 1; ; attempt++ {
		err := c.writePending()
		if err == nil {
			if attempt > 1 {
				c.log.Info("location: database writes resumed", "attempts", attempt)
			}
			return true
		}
		pause = min(max(2*pause, 100*time.Millisecond), c.opts.RetryMax)
		c.log.Warn("location: writing bindings to the database failed; retrying",
			"err", err, "pending", c.Pending(), "attempt", attempt, "retry_in", pause)
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return false
		}
	}
}

// writePending writes every queued AOR's current bindings to the backend in
// transactions of BatchSize AORs. What fails goes back in the queue.
func (c *Cached) writePending() error {
	keys, target := c.takeQueue()
	for len(keys) > 0 {
		n := min(len(keys), c.opts.BatchSize)
		changes := make([]Change, n)
		for i, aor := range keys[:n] {
			changes[i] = Change{AOR: aor, Bindings: c.mem.snapshot(aor)}
		}
		err := c.write(c.ctx, changes)
		c.mu.Lock()
		if err != nil {
			for _, k := range keys {
				c.dirty[k] = struct{}{}
			}
			keys, c.lastErr = nil, err
		} else {
			keys = keys[n:]
		}
		c.inflight = len(keys)
		c.notifyLocked()
		c.mu.Unlock()
		if err != nil {
			return err
		}
	}
	c.mu.Lock()
	if c.lastErr = nil; c.done < target {
		c.done = target
		c.notifyLocked()
	}
	c.mu.Unlock()
	return nil
}

// takeQueue empties the queue into the writer's hands, sorted (the same lock
// order in every transaction), with the change count it covers.
func (c *Cached) takeQueue() ([]string, uint64) {
	c.mu.Lock()
	keys := make([]string, 0, len(c.dirty))
	for k := range c.dirty {
		keys = append(keys, k)
	}
	if len(keys) > 0 {
		c.dirty = make(map[string]struct{})
	}
	c.inflight = len(keys)
	target := c.seq
	c.mu.Unlock()
	slices.Sort(keys)
	return keys, target
}

// Flush waits until every change made before it was called is in the
// backend, or ctx ends. In write-through mode there is nothing to wait for.
func (c *Cached) Flush(ctx context.Context) error {
	c.mu.Lock()
	target := c.seq
	for c.done < target {
		progress := c.progress
		c.mu.Unlock()
		c.wake()
		select {
		case <-progress:
		case <-c.exited:
			if c.Pending() > 0 {
				return ErrClosed
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.Lock()
	}
	c.mu.Unlock()
	return nil
}

// Close stops accepting changes, writes what is queued (retrying for up to
// CloseTimeout while the backend fails), and closes the backend. It reports
// an error if changes could not be written.
func (c *Cached) Close() error { return c.CloseContext(context.Background()) }

// CloseContext is Close bounded also by ctx: it gives up writing when ctx
// is done or CloseTimeout has passed, whichever comes first, so that a
// shutdown with the database down keeps its deadline. Mutating calls still
// in progress are waited for within the same bound (a write-through Update
// stuck on the database is then left to fail). Calling it again returns nil.
func (c *Cached) CloseContext(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, c.opts.CloseTimeout)
	defer cancel()
	c.waitActive(ctx)
	var err error
	if !c.opts.WriteThrough {
		close(c.stop)
		select {
		case <-c.exited:
		case <-ctx.Done():
			c.cancel()
			<-c.exited
		}
		c.mu.Lock()
		if n := len(c.dirty) + c.inflight; n > 0 {
			err = fmt.Errorf("location: %d AORs not written to the database: %w", n, c.lastErr)
		}
		c.mu.Unlock()
	}
	c.cancel()
	return errors.Join(err, c.backend.Close())
}

// waitActive waits for the mutating calls in progress, or for ctx.
func (c *Cached) waitActive(ctx context.Context) {
	done := make(chan struct{})
	go func() { c.active.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
