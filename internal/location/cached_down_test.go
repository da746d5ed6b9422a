package location_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/db/dbtest"
	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/proctest"
)

// TestCachedDatabaseDown: while the database fails, write-back Updates
// neither block nor get lost; they reach the database when it is back. A
// full queue makes Updates of new AORs fail with ErrBacklog, changing nothing.
func TestCachedDatabaseDown(t *testing.T) {
	d := dbtest.Open(t, "sqlite")
	f := &flaky{Store: backend(t, d)}
	var logs proctest.Buffer
	c := newCached(t, f, location.CachedOptions{
		Interval: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond, MaxPending: 50, PendingWait: 100 * time.Millisecond,
	}, slog.New(slog.NewTextHandler(&logs, nil)))
	defer c.Close()
	f.down.Store(true)
	now := time.Now()
	for i := range 50 {
		start := time.Now()
		update(t, c, realistic(i, now))
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Fatalf("Update %d took %v with the database down", i, d)
		}
	}
	time.Sleep(50 * time.Millisecond) // several failed attempts
	if n, err := c.Count(bg); n != 50 || err != nil {
		t.Fatalf("Count = %d, %v; want 50 in memory", n, err)
	}
	if n := dbCount(t, f.Store); n != 0 || c.Pending() != 50 {
		t.Fatalf("database has %d, pending %d; want 0, 50", n, c.Pending())
	}
	ctx, cancel := context.WithTimeout(bg, 30*time.Millisecond)
	defer cancel()
	if err := c.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush with the database down = %v", err)
	}
	// The queue is full: a refresh of a queued AOR passes at once, a new AOR waits, then fails.
	update(t, c, realistic(7, time.Now()))
	extra := realistic(99, now)
	start := time.Now()
	if _, err := c.Update(bg, extra.AOR, func([]location.Binding) ([]location.Binding, error) {
		return []location.Binding{extra}, nil
	}); !errors.Is(err, location.ErrBacklog) || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("Update with a full queue = %v after %v; want ErrBacklog after PendingWait", err, time.Since(start))
	}
	if bs, _ := c.Lookup(bg, extra.AOR); len(bs) != 0 {
		t.Fatal("a refused Update changed memory")
	}
	f.down.Store(false)
	ctx, cancel = context.WithTimeout(bg, 5*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := dbCount(t, f.Store); n != 50 || c.Pending() != 0 {
		t.Fatalf("after recovery: database has %d, pending %d; want 50, 0", n, c.Pending())
	}
	for deadline := time.Now().Add(time.Second); !strings.Contains(logs.String(), "resumed") && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // the writer logs after Flush has seen the write
	}
	for _, want := range []string{"writing bindings to the database failed", "database unreachable", "database writes resumed"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// TestCachedClosedDatabase: with the *sql.DB closed under it, Updates still
// work in memory at once, and Close gives up after CloseTimeout with an error.
func TestCachedClosedDatabase(t *testing.T) {
	d := dbtest.Open(t, "sqlite")
	c := newCached(t, backend(t, d), location.CachedOptions{
		Interval: 5 * time.Millisecond, RetryMax: 10 * time.Millisecond, CloseTimeout: 100 * time.Millisecond,
	}, nil)
	d.Close()
	start := time.Now()
	fill(t, c, 100)
	if el := time.Since(start); el > time.Second {
		t.Fatalf("100 Updates took %v with the database closed", el)
	}
	if n, _ := c.Count(bg); n != 100 {
		t.Fatalf("Count = %d, want 100", n)
	}
	err := c.Close()
	if err == nil || !strings.Contains(err.Error(), "100 AORs not written") {
		t.Fatalf("Close = %v; want an error saying 100 AORs were not written", err)
	}
}

// TestCachedWriteThroughError: in write-through mode a database error comes
// back from Update and memory is unchanged.
func TestCachedWriteThroughError(t *testing.T) {
	d := dbtest.Open(t, "sqlite")
	f := &flaky{Store: backend(t, d)}
	c := newCached(t, f, location.CachedOptions{WriteThrough: true}, nil)
	defer c.Close()
	b := realistic(1, time.Now())
	f.down.Store(true)
	if _, err := c.Update(bg, b.AOR, func([]location.Binding) ([]location.Binding, error) {
		return []location.Binding{b}, nil
	}); !errors.Is(err, errDown) {
		t.Fatalf("Update = %v, want the database error", err)
	}
	if bs, _ := c.Lookup(bg, b.AOR); len(bs) != 0 {
		t.Fatal("memory changed although the database write failed")
	}
	f.down.Store(false)
	update(t, c, b)
	if n := dbCount(t, f.Store); n != 1 {
		t.Fatalf("database has %d bindings, want 1", n)
	}
}

// TestCachedOptions: negative options are refused.
func TestCachedOptions(t *testing.T) {
	if _, err := location.NewCached(location.NewMemory(), location.CachedOptions{Interval: -1}, nil); err == nil {
		t.Fatal("negative Interval accepted")
	}
}

// expireCounter counts what Expire removes.
type expireCounter struct {
	location.Store
	removed atomic.Int64
}

func (e *expireCounter) Expire(ctx context.Context, now time.Time) (int, error) {
	n, err := e.Store.Expire(ctx, now)
	e.removed.Add(int64(n))
	return n, err
}

// TestSweep: Sweep expires bindings periodically and stops with its context.
func TestSweep(t *testing.T) {
	s := &expireCounter{Store: location.NewMemory()}
	b := realistic(1, time.Now())
	b.Expires = time.Now().Add(20 * time.Millisecond)
	update(t, s, b)
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() { location.Sweep(ctx, s, 5*time.Millisecond, nil); close(done) }()
	for deadline := time.Now().Add(2 * time.Second); s.removed.Load() != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Sweep did not remove the expired binding")
		}
	}
	cancel()
	<-done
}
