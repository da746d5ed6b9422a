package location

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// CachedOptions configures a Cached store. Zero values take the defaults.
type CachedOptions struct {
	// WriteThrough writes every change to the backend before Update returns,
	// and Update fails with the backend's error (Kamailio usrloc db_mode 1).
	// Otherwise changes are written behind, in batches (db_mode 2).
	WriteThrough bool
	// Interval is how often queued changes are written. Default 100ms.
	Interval time.Duration
	// BatchSize is the number of changed AORs written in one transaction, and
	// the queue length that starts a write before Interval. Default 500.
	BatchSize int
	// MaxPending bounds the AORs with changes not yet written. An Update that
	// would add one more waits up to PendingWait for the writer, then fails
	// with ErrBacklog and changes nothing. Changes to an AOR already queued
	// never wait. Default 100000.
	MaxPending int
	// PendingWait is how long Update waits for room in the queue. Default 2s.
	PendingWait time.Duration
	// RetryMax is the longest pause between attempts after a database error;
	// pauses start at 100ms and double. Default 10s.
	RetryMax time.Duration
	// Timeout bounds each backend call: the initial load, one batch, one
	// write-through change. Default 30s.
	Timeout time.Duration
	// CloseTimeout is how long Close keeps trying to write what is queued.
	// Default 30s.
	CloseTimeout time.Duration
}

func (o *CachedOptions) setDefaults() error {
	if o.Interval < 0 || o.BatchSize < 0 || o.MaxPending < 0 || o.PendingWait < 0 ||
		o.RetryMax < 0 || o.Timeout < 0 || o.CloseTimeout < 0 {
		return errors.New("location: negative CachedOptions value")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.Interval, 100*time.Millisecond)
	def(&o.PendingWait, 2*time.Second)
	def(&o.RetryMax, 10*time.Second)
	def(&o.Timeout, 30*time.Second)
	def(&o.CloseTimeout, 30*time.Second)
	if o.BatchSize == 0 {
		o.BatchSize = 500
	}
	if o.MaxPending == 0 {
		o.MaxPending = 100_000
	}
	return nil
}

// Cached is a Store that answers from memory and keeps a backend Store (SQL)
// up to date, written behind or through (see CachedOptions and the package
// documentation). It assumes it is the only writer of the backend.
//
// Lock order: a Memory shard lock, released, then mu; never mu then a shard.
type Cached struct {
	mem     *Memory
	backend Store
	opts    CachedOptions
	log     *slog.Logger

	mu       sync.Mutex
	closed   bool
	dirty    map[string]struct{} // AORs changed in memory and not yet given to the writer
	inflight int                 // AORs the writer holds and has not written yet
	seq      uint64              // number of changes marked so far
	done     uint64              // every change up to done is in the backend
	progress chan struct{}       // closed and replaced whenever the queue shrinks
	lastErr  error               // last write error, nil once a write succeeds

	active sync.WaitGroup  // mutating calls in progress; Close waits for them
	kick   chan struct{}   // buffered: ask the writer to write now
	stop   chan struct{}   // closed by Close: write what is left, then exit
	ctx    context.Context // cancelled when Close gives up
	cancel context.CancelFunc
	exited chan struct{} // closed when the writer has returned
}

var _ Store = (*Cached)(nil)

// NewCached loads every binding of backend into memory and returns a Store
// that serves reads from there and writes changes to backend. It takes
// ownership of backend: Close closes it (but NewCached does not, when it
// fails). A nil log discards.
func NewCached(backend Store, opts CachedOptions, log *slog.Logger) (*Cached, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cached{
		mem: NewMemory(), backend: backend, opts: opts, log: orDiscard(log),
		dirty: make(map[string]struct{}), progress: make(chan struct{}),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), ctx: ctx, cancel: cancel,
		exited: make(chan struct{}),
	}
	if err := c.load(); err != nil {
		cancel()
		return nil, fmt.Errorf("location: loading bindings: %w", err)
	}
	if opts.WriteThrough {
		close(c.exited)
	} else {
		go c.run()
	}
	return c, nil
}

// load copies the backend's bindings into memory.
func (c *Cached) load() error {
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.Timeout)
	defer cancel()
	all, _, err := c.backend.List(ctx, 0, 0) // ordered by AOR
	if err != nil {
		return err
	}
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].AOR == all[i].AOR {
			j++
		}
		set := all[i:j]
		if _, err := c.mem.update(set[0].AOR, func([]Binding) ([]Binding, error) { return set, nil }, nil); err != nil {
			return err
		}
		i = j
	}
	c.log.Info("location: bindings loaded", "count", len(all), "write_through", c.opts.WriteThrough)
	return nil
}

// Lookup answers from memory.
func (c *Cached) Lookup(ctx context.Context, aor string) ([]Binding, error) {
	return c.mem.Lookup(ctx, aor)
}

// List answers from memory.
func (c *Cached) List(ctx context.Context, offset, limit int) ([]Binding, int, error) {
	return c.mem.List(ctx, offset, limit)
}

// Count answers from memory.
func (c *Cached) Count(ctx context.Context) (int, error) { return c.mem.Count(ctx) }

// Update changes memory and queues the change (write-back) or writes it to
// the backend first and changes memory only if that worked (write-through).
func (c *Cached) Update(ctx context.Context, aor string, fn func(cur []Binding) ([]Binding, error)) ([]Binding, error) {
	if err := c.admit(ctx, aor); err != nil {
		return nil, err
	}
	defer c.active.Done()
	if c.opts.WriteThrough {
		return c.mem.update(aor, fn, func(next []Binding) error {
			return c.write(ctx, []Change{{AOR: aor, Bindings: next}})
		})
	}
	bs, err := c.mem.update(aor, fn, nil)
	if err == nil {
		c.markDirty(aor)
	}
	return bs, err
}

// DeleteConn removes the connection's bindings from memory and the backend.
func (c *Cached) DeleteConn(ctx context.Context, instance string, id uint64) (int, error) {
	if err := c.admit(ctx, ""); err != nil {
		return 0, err
	}
	defer c.active.Done()
	var err error
	if c.opts.WriteThrough {
		_, err = c.backend.DeleteConn(ctx, instance, id)
	}
	n, changed := c.mem.deleteConn(instance, id, nil)
	c.markDirty(changed...)
	return n, err
}

// Expire removes expired bindings from memory and the backend.
func (c *Cached) Expire(ctx context.Context, now time.Time) (int, error) {
	if err := c.admit(ctx, ""); err != nil {
		return 0, err
	}
	defer c.active.Done()
	var err error
	if c.opts.WriteThrough {
		_, err = c.backend.Expire(ctx, now)
	}
	n, changed := c.mem.expire(now, nil)
	c.markDirty(changed...)
	return n, err
}

// write applies changes to the backend in one transaction when it is a
// Replacer, else with one Update per AOR.
func (c *Cached) write(ctx context.Context, changes []Change) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if r, ok := c.backend.(Replacer); ok {
		return r.Replace(ctx, changes)
	}
	for _, ch := range changes {
		set := ch.Bindings
		if _, err := c.backend.Update(ctx, ch.AOR, func([]Binding) ([]Binding, error) { return set, nil }); err != nil {
			return err
		}
	}
	return nil
}
