package transaction

import (
	"sync"
	"sync/atomic"
	"time"
)

// Worker pool defaults.
const (
	maxWorkers = 1024             // goroutines kept for handlers
	workerIdle = 10 * time.Second // an idle worker exits after this long
)

// workers runs Core.ServeRequest for new server transactions on long-lived
// goroutines. A fresh goroutine per request starts with a small stack and
// grows it (copying) on the deep handler call chain of every request; that
// was 8% of the CPU at 10,000 REGISTERs/s. A worker keeps its grown stack.
// When every worker is busy and there are maxWorkers of them (long-running
// INVITE handlers), the request gets a goroutine of its own as before: the
// pool never makes a request wait.
type workers struct {
	core  Core
	queue chan *ServerTx // unbuffered: a send succeeds only when a worker waits
	quit  chan struct{}  // closed by stop: idle workers exit
	once  sync.Once
	n     atomic.Int32
	max   int32
	idle  time.Duration
}

func newWorkers(core Core, max int32, idle time.Duration) *workers {
	return &workers{core: core, queue: make(chan *ServerTx), quit: make(chan struct{}), max: max, idle: idle}
}

// stop makes idle workers exit, and busy ones when their request is done.
// Requests still handed to serve afterwards get goroutines of their own.
func (w *workers) stop() { w.once.Do(func() { close(w.quit) }) }

// serve hands tx to an idle worker, a new worker, or a goroutine of its own.
func (w *workers) serve(tx *ServerTx) {
	select {
	case w.queue <- tx:
		return
	default:
	}
	stopped := false
	select {
	case <-w.quit:
		stopped = true
	default:
	}
	if !stopped && w.n.Add(1) <= w.max {
		go w.loop(tx)
		return
	}
	if !stopped {
		w.n.Add(-1)
	}
	go w.core.ServeRequest(tx)
}

// loop serves tx, then whatever comes, until idle for w.idle.
func (w *workers) loop(tx *ServerTx) {
	defer w.n.Add(-1)
	t := time.NewTimer(w.idle)
	defer t.Stop()
	for {
		w.core.ServeRequest(tx)
		t.Reset(w.idle)
		select {
		case tx = <-w.queue:
		case <-t.C:
			return
		case <-w.quit:
			return
		}
	}
}
