package transaction

import (
	"testing"
	"time"
)

// TestWorkersReuse: requests served one after another run on one worker.
func TestWorkersReuse(t *testing.T) {
	c := newCore(nil)
	w := newWorkers(c, 4, time.Minute)
	for range 5 {
		w.serve(&ServerTx{})
		<-c.gotRequest
		waitFor(t, "the worker to be idle again", func() bool { return len(w.queue) == 0 })
		time.Sleep(time.Millisecond) // let the worker reach its receive
	}
	if n := w.n.Load(); n != 1 {
		t.Fatalf("%d workers for sequential requests, want 1", n)
	}
}

// TestWorkersNeverWait: with every worker busy and the pool full, a request
// still runs at once on a goroutine of its own; idle workers then exit.
func TestWorkersNeverWait(t *testing.T) {
	release := make(chan struct{})
	c := newCore(func(*ServerTx) { <-release })
	w := newWorkers(c, 2, 50*time.Millisecond)
	for range 3 {
		w.serve(&ServerTx{})
	}
	for i := range 3 {
		select {
		case <-c.gotRequest:
			t.Fatalf("request %d finished before its release", i)
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.mu.Lock()
	started := len(c.requests)
	c.mu.Unlock()
	if started != 3 {
		t.Fatalf("%d of 3 handlers running, want all 3 (the third on its own goroutine)", started)
	}
	if n := w.n.Load(); n != 2 {
		t.Fatalf("%d workers, want the maximum 2", n)
	}
	close(release)
	for range 3 {
		<-c.gotRequest
	}
	waitFor(t, "idle workers to exit", func() bool { return w.n.Load() == 0 })
}

// TestWorkersStop: stop ends idle workers at once (Layer.Close).
func TestWorkersStop(t *testing.T) {
	c := newCore(nil)
	w := newWorkers(c, 4, time.Hour)
	w.serve(&ServerTx{})
	<-c.gotRequest
	w.stop()
	waitFor(t, "the idle worker to exit", func() bool { return w.n.Load() == 0 })
	w.serve(&ServerTx{}) // still served, on a goroutine of its own
	<-c.gotRequest
	if n := w.n.Load(); n != 0 {
		t.Fatalf("%d workers after stop, want 0", n)
	}
}
