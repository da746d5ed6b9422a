package location_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/db/dbtest"
	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/location/sqlstore"
	"github.com/parley-sip/parley/internal/location/storetest"
)

var bg = context.Background()

var modes = []struct {
	name         string
	writeThrough bool
}{{"write-back", false}, {"write-through", true}}

func backend(t testing.TB, d *db.DB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(d, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newCached(t *testing.T, b location.Store, opts location.CachedOptions, log *slog.Logger) *location.Cached {
	t.Helper()
	c, err := location.NewCached(b, opts, log)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCachedConformance runs the suite on Cached over the SQL store of each
// dialect, in both modes, and after each test checks that the database holds
// exactly what memory holds.
func TestCachedConformance(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		for _, m := range modes {
			t.Run(dialect+"/"+m.name, func(t *testing.T) {
				storetest.Run(t, func(t *testing.T) location.Store {
					d := dbtest.Open(t, dialect)
					c := newCached(t, backend(t, d), location.CachedOptions{WriteThrough: m.writeThrough, Interval: 5 * time.Millisecond}, nil)
					t.Cleanup(func() {
						if err := c.Flush(bg); err != nil {
							t.Error(err)
						}
						mem, _, err1 := c.List(bg, 0, 0)
						inDB, _, err2 := backend(t, d).List(bg, 0, 0)
						if err := errors.Join(err1, err2); err != nil {
							t.Fatal(err)
						}
						storetest.Same(t, "database after Flush", inDB, mem)
						if err := c.Close(); err != nil {
							t.Error(err)
						}
					})
					return c
				})
			})
		}
	}
}

// TestCachedOverMemory covers a backend that is not a Replacer (one Update per AOR).
func TestCachedOverMemory(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) location.Store {
				c := newCached(t, location.NewMemory(), location.CachedOptions{WriteThrough: m.writeThrough}, nil)
				t.Cleanup(func() { c.Close() })
				return c
			})
		})
	}
}

// TestCachedRestart: what was registered is back after Close and a new
// Cached over the same database.
func TestCachedRestart(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		for _, m := range modes {
			t.Run(dialect+"/"+m.name, func(t *testing.T) {
				d := dbtest.Open(t, dialect)
				opts := location.CachedOptions{WriteThrough: m.writeThrough}
				c := newCached(t, backend(t, d), opts, nil)
				var want [][]location.Binding
				now := time.Now()
				for i := range 20 {
					b := realistic(i, now)
					b.Path = []string{"<sip:p1;lr>", "<sip:p2;lr>"}
					b2 := b
					b2.Contact, b2.Q = b.Contact+";x", 500
					want = append(want, update(t, c, b, b2))
				}
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				c = newCached(t, backend(t, d), opts, nil)
				defer c.Close()
				for i, w := range want {
					got, err := c.Lookup(bg, w[0].AOR)
					if err != nil {
						t.Fatal(err)
					}
					storetest.Same(t, fmt.Sprintf("AOR %d after restart", i), got, w)
				}
			})
		}
	}
}

func update(t *testing.T, s location.Store, bs ...location.Binding) []location.Binding {
	t.Helper()
	out, err := s.Update(bg, bs[0].AOR, func([]location.Binding) ([]location.Binding, error) { return bs, nil })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dbCount(t *testing.T, s location.Store) int {
	t.Helper()
	n, err := s.Count(bg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCachedFlushOnClose: Close writes everything still queued.
func TestCachedFlushOnClose(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			d := dbtest.Open(t, dialect)
			db := backend(t, d)
			c := newCached(t, backend(t, d), location.CachedOptions{Interval: time.Hour, BatchSize: 2000}, nil)
			fill(t, c, 1000)
			if n := c.Pending(); n != 1000 {
				t.Fatalf("Pending = %d before Close, want 1000", n)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if n := dbCount(t, db); n != 1000 {
				t.Fatalf("%d bindings in the database after Close, want 1000", n)
			}
			if _, err := c.Update(bg, "x@example.test", nil); !errors.Is(err, location.ErrClosed) {
				t.Fatalf("Update after Close: %v", err)
			}
		})
	}
}

// flaky is a backend that fails while down is set.
type flaky struct {
	*sqlstore.Store
	down atomic.Bool
}

var errDown = errors.New("database unreachable")

func (f *flaky) Replace(ctx context.Context, ch []location.Change) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.Replace(ctx, ch)
}
