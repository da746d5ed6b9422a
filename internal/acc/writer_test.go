package acc_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/proctest"
)

// memSink keeps what it was given. It fails while failN > 0 (counting down),
// or always when down is set, and waits on gate (if not nil) before each write.
type memSink struct {
	name string

	mu      sync.Mutex
	got     []acc.Record
	batches []int
	failN   int
	down    bool
	gate    chan struct{}
	closed  bool
	calls   int
}

func (s *memSink) Name() string { return s.name }

func (s *memSink) Write(ctx context.Context, rs []acc.Record) error {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.down || s.failN > 0 {
		s.failN--
		return errors.New("sink down")
	}
	s.got = append(s.got, rs...)
	s.batches = append(s.batches, len(rs))
	return nil
}

func (s *memSink) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

func (s *memSink) records() []acc.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]acc.Record(nil), s.got...)
}

func (s *memSink) set(f func(*memSink)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

// fast is a config for tests: short intervals and backoff.
func fast() acc.WriterConfig {
	return acc.WriterConfig{BatchSize: 10, FlushInterval: 5 * time.Millisecond,
		RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond, DropLogInterval: 5 * time.Millisecond}
}

func recs(n int) []acc.Record {
	out := make([]acc.Record, n)
	for i := range out {
		out[i] = acc.Record{ID: fmt.Sprintf("r%05d", i), Caller: "alice@example.test", Code: 200}
	}
	return out
}

func recordAll(w *acc.Writer, rs []acc.Record) {
	for _, r := range rs {
		w.Record(r)
	}
}

// exactlyOnce fails unless got holds want's IDs once each, in order.
func exactlyOnce(t *testing.T, got, want []acc.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("sink has %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Fatalf("record %d is %s, want %s", i, got[i].ID, want[i].ID)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func closeWriter(t *testing.T, w *acc.Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestWriterOrderAndBatches(t *testing.T) {
	s := &memSink{name: "mem"}
	cfg := fast()
	cfg.FlushInterval = time.Hour // only full batches are written before Close
	w := acc.NewWriter(cfg, []acc.Sink{s}, nil)
	want := recs(35)
	recordAll(w, want)
	// Each time BatchSize records wait, the sink's goroutine takes all that
	// wait; what is left is less than a batch and waits for FlushInterval.
	waitFor(t, "full batches", func() bool { return w.Stats()[0].Pending < cfg.BatchSize })
	before := w.Stats()[0]
	time.Sleep(20 * time.Millisecond)
	if st := w.Stats()[0]; st != before || st.Written+uint64(st.Pending) != 35 || st.Written < 26 {
		t.Errorf("before Close: %+v then %+v, want a partial batch left pending", before, st)
	}
	closeWriter(t, w)
	exactlyOnce(t, s.records(), want)
	for _, n := range s.batches {
		if n > cfg.BatchSize {
			t.Errorf("batch of %d records, BatchSize is %d", n, cfg.BatchSize)
		}
	}
	if !s.closed {
		t.Error("Close did not close the sink")
	}
	if st := w.Stats()[0]; st != (acc.SinkStats{Name: "mem", Written: 35}) {
		t.Errorf("Stats = %+v", st)
	}
}

func TestWriterFlushInterval(t *testing.T) {
	s := &memSink{name: "mem"}
	w := acc.NewWriter(fast(), []acc.Sink{s}, nil)
	defer closeWriter(t, w)
	w.Record(acc.Record{ID: "one"}) // far less than a batch
	waitFor(t, "the flush", func() bool { return len(s.records()) == 1 })
}

func TestWriterRetriesUntilSuccess(t *testing.T) {
	s := &memSink{name: "flaky", failN: 3}
	w := acc.NewWriter(fast(), []acc.Sink{s}, nil)
	want := recs(100)
	recordAll(w, want)
	waitFor(t, "all records", func() bool { return len(s.records()) == len(want) })
	closeWriter(t, w)
	exactlyOnce(t, s.records(), want)
	if st := w.Stats()[0]; st.Retried != 3 || st.Written != 100 || st.Pending != 0 || st.LastError != "" {
		t.Errorf("Stats = %+v, want 3 retried, 100 written", st)
	}
}

func TestWriterSlowSinkDoesNotBlockRecord(t *testing.T) {
	gate := make(chan struct{})
	s := &memSink{name: "slow", gate: gate}
	w := acc.NewWriter(fast(), []acc.Sink{s}, nil)
	want := recs(10000)
	start := time.Now()
	recordAll(w, want)
	if d := time.Since(start); d > 2*time.Second { // about 5 ms without -race
		t.Errorf("10,000 Records took %v while the sink was stuck", d)
	}
	if st := w.Stats()[0]; st.Pending != len(want) || st.Written != 0 {
		t.Errorf("Stats = %+v, want all pending", st)
	}
	close(gate)
	closeWriter(t, w)
	exactlyOnce(t, s.records(), want)
}

func TestWriterFailingSinkDoesNotHoldBackOthers(t *testing.T) {
	bad := &memSink{name: "bad", down: true}
	good := &memSink{name: "good"}
	w := acc.NewWriter(fast(), []acc.Sink{bad, good}, nil)
	want := recs(50)
	recordAll(w, want)
	waitFor(t, "the good sink", func() bool { return len(good.records()) == len(want) })
	waitFor(t, "a retry", func() bool { return w.Stats()[0].Retried > 1 })
	st := w.Stats()
	if st[0].Pending != 50 || st[0].Written != 0 || !strings.Contains(st[0].LastError, "sink down") {
		t.Errorf("bad sink: %+v", st[0])
	}
	if st[1].Pending != 0 || st[1].Written != 50 || st[1].Retried != 0 {
		t.Errorf("good sink: %+v", st[1])
	}
	bad.set(func(s *memSink) { s.down = false })
	waitFor(t, "the bad sink to recover", func() bool { return len(bad.records()) == len(want) })
	closeWriter(t, w)
	exactlyOnce(t, bad.records(), want)
	exactlyOnce(t, good.records(), want)
}

func TestWriterCloseFlushes(t *testing.T) {
	s := &memSink{name: "mem"}
	cfg := fast()
	cfg.FlushInterval, cfg.BatchSize = time.Hour, 1000
	w := acc.NewWriter(cfg, []acc.Sink{s}, nil)
	want := recs(10)
	recordAll(w, want)
	closeWriter(t, w)
	exactlyOnce(t, s.records(), want)
	w.Record(acc.Record{ID: "late"})
	if st := w.Stats()[0]; st.Dropped != 1 || st.Pending != 0 {
		t.Errorf("Record after Close: %+v, want it dropped", st)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestWriterCloseDuringBackoff(t *testing.T) {
	// A failing write pauses up to RetryMax; Close must not wait that long to
	// try again once the sink is back.
	s := &memSink{name: "mem", failN: 1}
	cfg := fast()
	cfg.RetryMin, cfg.RetryMax = time.Hour, time.Hour
	w := acc.NewWriter(cfg, []acc.Sink{s}, nil)
	want := recs(3)
	recordAll(w, want)
	waitFor(t, "the failure", func() bool { return w.Stats()[0].Retried == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	exactlyOnce(t, s.records(), want)
}

func TestWriterCloseGivesUp(t *testing.T) {
	s := &memSink{name: "down", down: true}
	w := acc.NewWriter(fast(), []acc.Sink{s}, nil)
	recordAll(w, recs(10))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := w.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "10 call records lost for down") {
		t.Fatalf("Close = %v, want 10 records lost", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close error %v does not wrap the deadline", err)
	}
	if !s.closed {
		t.Error("the sink was not closed")
	}
}

func TestWriterCloseCancelsStuckWrite(t *testing.T) {
	s := &memSink{name: "stuck", gate: make(chan struct{})} // never opens
	w := acc.NewWriter(fast(), []acc.Sink{s}, nil)
	recordAll(w, recs(3))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); err == nil || !strings.Contains(err.Error(), "3 call records lost") {
		t.Fatalf("Close = %v, want 3 records lost", err)
	}
}

func TestWriterOverflow(t *testing.T) {
	var logs proctest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	gate := make(chan struct{})
	stuck := &memSink{name: "stuck", gate: gate}
	good := &memSink{name: "good"}
	cfg := fast()
	cfg.MaxPending = 100
	w := acc.NewWriter(cfg, []acc.Sink{stuck, good}, log)
	all := recs(150)
	recordAll(w, all[:100])
	waitFor(t, "the good sink", func() bool { return len(good.records()) == 100 })
	recordAll(w, all[100:])
	st := w.Stats()
	if st[0].Dropped != 50 || st[0].Pending != 100 {
		t.Errorf("stuck sink: %+v, want 50 dropped and 100 pending", st[0])
	}
	waitFor(t, "the drop warning", func() bool { return strings.Contains(logs.String(), "dropped=50") })
	if n := strings.Count(logs.String(), "call records dropped"); n != 1 {
		t.Errorf("%d drop warnings, want 1:\n%s", n, logs.String())
	}
	close(gate)
	closeWriter(t, w)
	exactlyOnce(t, stuck.records(), recs(100))
	exactlyOnce(t, good.records(), all)
}

func TestWriterAssignsIDs(t *testing.T) {
	s := &memSink{name: "mem"}
	w := acc.NewWriter(fast(), []acc.Sink{s}, nil)
	w.Record(acc.Record{})
	w.Record(acc.Record{})
	w.Record(acc.Record{ID: "mine"})
	closeWriter(t, w)
	got := s.records()
	if len(got[0].ID) != 32 || strings.Trim(got[0].ID, "0123456789abcdef") != "" || got[0].ID == got[1].ID {
		t.Errorf("generated IDs %q and %q, want distinct 32-digit hex", got[0].ID, got[1].ID)
	}
	if got[2].ID != "mine" {
		t.Errorf("ID %q was replaced by %q", "mine", got[2].ID)
	}
}

func TestWriterPanickingSink(t *testing.T) {
	w := acc.NewWriter(fast(), []acc.Sink{panicSink{}}, nil)
	w.Record(acc.Record{})
	waitFor(t, "the failed write", func() bool { return w.Stats()[0].Retried > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); err == nil || !strings.Contains(w.Stats()[0].LastError, "panicked") {
		t.Errorf("Close = %v, stats %+v", err, w.Stats()[0])
	}
}

type panicSink struct{}

func (panicSink) Name() string                              { return "panic" }
func (panicSink) Write(context.Context, []acc.Record) error { panic("boom") }
func (panicSink) Close() error                              { return nil }

func TestWriterConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     acc.WriterConfig
		wantErr string
	}{
		{"zero", acc.WriterConfig{}, ""},
		{"negative", acc.WriterConfig{BatchSize: -1}, "batch_size"},
		{"retry order", acc.WriterConfig{RetryMin: time.Second, RetryMax: time.Millisecond}, "retry_min"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestWriterCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	w := acc.NewWriter(fast(), []acc.Sink{&memSink{name: "a"}, &memSink{name: "b"}}, nil)
	recordAll(w, recs(25))
	closeWriter(t, w)
	waitFor(t, "the writer's goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}
