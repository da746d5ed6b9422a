package metrics

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transaction"
)

// numMethods bounds sip.Method values; index 0 (sip.MethodUnknown) is "other".
const numMethods = 16

// Status codes counted: 100 to 699 (RFC 3261 §7.2).
const (
	minCode  = 100
	numCodes = 600
)

// methodLabels are the method label values by sip.Method.
var methodLabels = func() (l [numMethods]string) {
	for i := range l {
		l[i] = sip.Method(i).String()
	}
	l[0] = "other"
	return l
}()

func methodIndex(m sip.Method) int {
	if int(m) >= numMethods || methodLabels[m] == "" {
		return 0
	}
	return int(m)
}

// sipCounters are the Middleware's counters, exported by a collector that
// adds the Server's own (ACKs for 2xx, CANCELs it answered).
type sipCounters struct {
	src              interface{ Stats() sipserver.Stats }
	requests         [numMethods]atomic.Uint64
	responses        [numMethods][numCodes]atomic.Uint64
	firstResponse    prometheus.Histogram
	reqDesc, resDesc *prometheus.Desc
}

func newSIPCounters(src interface{ Stats() sipserver.Stats }) *sipCounters {
	return &sipCounters{
		src: src,
		firstResponse: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "parley_sip_invite_first_response_seconds",
			Help: "Time from an INVITE entering the handler chain to the first response sent for it by the chain " +
				"(a relayed provisional or a final response; the immediate 100 Trying is not counted).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 180},
		}),
		reqDesc: prometheus.NewDesc("parley_sip_requests_total",
			"SIP requests received that started a server transaction, plus ACKs for 2xx, by method.", []string{"method"}, nil),
		resDesc: prometheus.NewDesc("parley_sip_responses_total",
			"SIP responses sent by server transactions, by request method and status code.", []string{"method", "code"}, nil),
	}
}

// response counts a response with code to a request of method index mi.
func (c *sipCounters) response(mi, code int) {
	if code >= minCode && code < minCode+numCodes {
		c.responses[mi][code-minCode].Add(1)
	}
}

// Describe implements prometheus.Collector.
func (c *sipCounters) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.reqDesc
	ch <- c.resDesc
}

// Collect implements prometheus.Collector: every method's request count
// (zeros included, a bounded set) and the response counts that are not zero.
func (c *sipCounters) Collect(ch chan<- prometheus.Metric) {
	var core sipserver.Stats
	if c.src != nil {
		core = c.src.Stats()
	}
	for mi := range numMethods {
		if methodLabels[mi] == "" {
			continue // not a method: methodIndex never returns it
		}
		n := c.requests[mi].Load()
		switch sip.Method(mi) {
		case sip.ACK:
			n += uint64(core.StatelessACKs)
		case sip.CANCEL:
			n += uint64(core.CancelsAnswered)
		}
		ch <- prometheus.MustNewConstMetric(c.reqDesc, prometheus.CounterValue, float64(n), methodLabels[mi])
		for i := range numCodes {
			n := c.responses[mi][i].Load()
			if sip.Method(mi) == sip.CANCEL && i+minCode == 200 {
				n += uint64(core.CancelsAnswered)
			}
			if n > 0 {
				ch <- prometheus.MustNewConstMetric(c.resDesc, prometheus.CounterValue, float64(n),
					methodLabels[mi], strconv.Itoa(i+minCode))
			}
		}
	}
}

// Middleware returns the middleware that counts requests and the responses
// sent for them, and times INVITEs to their first response. It goes first
// in the chain, so that it sees what the others reject. It wraps the
// ServerTx (one allocation per request) and counts with atomic adds.
func (m *Metrics) Middleware() sipserver.Middleware {
	return func(next sipserver.Handler) sipserver.Handler {
		return &instrumented{c: m.sip, next: next, autoTrying: m.opts.AutoTrying}
	}
}

// Screen returns next counting the requests it answers and their
// responses, as the Middleware counts those the chain answers.
func (m *Metrics) Screen(next sipserver.Screen) sipserver.Screen {
	return func(req *sip.Message, src transaction.Source) *sipserver.StatusError {
		st := next(req, src)
		if st != nil {
			mi := methodIndex(req.Method())
			m.sip.requests[mi].Add(1)
			m.sip.response(mi, st.Code)
		}
		return st
	}
}

type instrumented struct {
	c          *sipCounters
	next       sipserver.Handler
	autoTrying bool
}

// ServeSIP counts req, runs the chain with a counting ServerTx, and counts
// the response the Server will send if the chain sent no final response
// (sipserver.FallbackStatus), or 500 if it panicked.
func (h *instrumented) ServeSIP(ctx context.Context, tx sipserver.ServerTx, req *sip.Message) error {
	mi := methodIndex(req.Method())
	h.c.requests[mi].Add(1)
	w := &countingTx{ServerTx: tx, c: h.c, mi: mi}
	if req.Method() == sip.INVITE {
		w.start = time.Now()
		if h.autoTrying {
			h.c.response(mi, 100)
		}
	}
	returned := false
	defer func() {
		if !returned && !tx.Responded() {
			w.count(500) // the Server answers a panic with 500
		}
	}()
	err := h.next.ServeSIP(ctx, w, req)
	returned = true
	if !tx.Responded() {
		if code, ok := sipserver.FallbackStatus(req.Method(), err, cancelled(ctx, tx)); ok {
			w.count(code)
		}
	}
	return err
}

// cancelled reports whether a CANCEL matched the transaction, as the Server
// sees it (the transaction's Cancelled channel), else by ctx.
func cancelled(ctx context.Context, tx sipserver.ServerTx) bool {
	if c, ok := tx.(interface{ Cancelled() <-chan struct{} }); ok {
		select {
		case <-c.Cancelled():
			return true
		default:
			return false
		}
	}
	return ctx.Err() != nil
}

// countingTx counts the responses sent through a ServerTx.
type countingTx struct {
	sipserver.ServerTx
	c     *sipCounters
	mi    int
	start time.Time // INVITE only
	first atomic.Bool
}

func (w *countingTx) count(code int) {
	w.c.response(w.mi, code)
	if !w.start.IsZero() && w.first.CompareAndSwap(false, true) {
		w.c.firstResponse.Observe(time.Since(w.start).Seconds())
	}
}

// Reply implements sipserver.ServerTx.
func (w *countingTx) Reply(code int, reason string, extra []byte) error {
	err := w.ServerTx.Reply(code, reason, extra)
	if err == nil {
		w.count(code)
	}
	return err
}

// ReplyBody implements sipserver.ServerTx.
func (w *countingTx) ReplyBody(code int, reason string, extra []byte, ctype string, body []byte) error {
	err := w.ServerTx.ReplyBody(code, reason, extra, ctype, body)
	if err == nil {
		w.count(code)
	}
	return err
}

// Respond implements sipserver.ServerTx.
func (w *countingTx) Respond(res *sip.Message) error {
	code := res.StatusCode()
	err := w.ServerTx.Respond(res)
	if err == nil {
		w.count(code)
	}
	return err
}

var _ sipserver.ServerTx = (*countingTx)(nil)
