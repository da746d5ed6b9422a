package location

import (
	"context"
	"log/slog"
	"time"
)

// Store keeps bindings. Implementations are safe for concurrent use, and all
// of them pass storetest.Run.
type Store interface {
	// Lookup returns the unexpired bindings of aor, highest q first, then most
	// recently updated first (see [Less]).
	Lookup(ctx context.Context, aor string) ([]Binding, error)
	// Update runs fn with the current unexpired bindings of aor and replaces
	// them with what fn returns, atomically for that AOR: two REGISTERs for
	// one AOR never interleave. fn may return an error to abort without change
	// (the registrar uses this for §10.3 step 7 Call-ID/CSeq ordering); Update
	// then returns that error unchanged. The returned set goes through
	// [Prepare] (an invalid one aborts with an error wrapping ErrInvalid), and
	// Update returns it. fn must not call the Store.
	Update(ctx context.Context, aor string, fn func(cur []Binding) ([]Binding, error)) ([]Binding, error)
	// DeleteConn removes every binding that was registered over connection id
	// on instance (a WebSocket or TCP connection closed: the RFC 5626 / RFC
	// 7118 flow is gone) and returns how many. id 0 (UDP) removes nothing.
	DeleteConn(ctx context.Context, instance string, id uint64) (int, error)
	// Expire removes the bindings that expired at or before now and returns how many.
	Expire(ctx context.Context, now time.Time) (int, error)
	// List returns unexpired bindings for management, ordered by AOR then
	// contact (byte order), from offset, at most limit (0 = all), with the
	// total. Pages are not one snapshot.
	List(ctx context.Context, offset, limit int) ([]Binding, int, error)
	// Count returns the number of unexpired bindings.
	Count(ctx context.Context) (int, error)
	// Close releases the store. A Cached store first writes what is queued.
	Close() error
}

// Change is the complete new binding set of one AOR; an empty Bindings
// removes the AOR.
type Change struct {
	AOR      string
	Bindings []Binding
}

// Replacer is implemented by backends that can replace the bindings of many
// AORs in one transaction. Cached writes its batches with it, and falls back
// to one Update per AOR for a backend without it. Replace assumes it is the
// only writer of those AORs (it takes no per-AOR lock).
type Replacer interface {
	Replace(ctx context.Context, changes []Change) error
}

// Sweep calls store.Expire every interval until ctx ends, logging what it
// removes and any error. Run it in its own goroutine.
func Sweep(ctx context.Context, store Store, interval time.Duration, log *slog.Logger) {
	log = orDiscard(log)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n, err := store.Expire(ctx, now)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("location: expiring bindings failed", "err", err)
			case n > 0:
				log.Debug("location: expired bindings", "count", n)
			}
		}
	}
}

func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}
