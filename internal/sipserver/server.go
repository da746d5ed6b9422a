package sipserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// Config configures a Server.
type Config struct {
	Transport   transport.Config
	Transaction transaction.Config
	// Secret keys the signatures of the branches Parley puts in its Vias,
	// by which a response that matches no transaction is recognised as
	// Parley's to relay (see transaction.Layer.SignBranch). Keep it across
	// restarts (and share it between instances behind one address) so that
	// late responses are still relayed; empty means random for this process.
	Secret []byte
}

// StatelessHandler receives what has no transaction: the ACK for a 2xx and
// responses that match no client transaction (a proxy relays both, §16.7, §16.11).
type StatelessHandler interface {
	ServeAck(req *sip.Message, src transaction.Source)
	ServeResponse(res *sip.Message, src transaction.Source)
}

type handlerBox struct{ h Handler }

// Server ties a transport layer and a transaction layer to a Handler. It
// implements transaction.Core.
type Server struct {
	tl        *transport.Layer
	txl       *transaction.Layer
	handler   atomic.Pointer[handlerBox]
	stateless atomic.Pointer[StatelessHandler]
	screen    atomic.Pointer[screenBox]
	log       *slog.Logger
	running   atomic.Int64
	panics    atomic.Int64
	strays    atomic.Int64
	acks      atomic.Int64 // ACKs with no server transaction (for a 2xx), passed on
	cancels   atomic.Int64 // CANCELs matched to an INVITE and answered 200 here
}

var (
	_ transaction.Core     = (*Server)(nil)
	_ transaction.Screener = (*Server)(nil)
)

// New returns a Server that serves h. Listen adds listeners.
func New(cfg Config, h Handler, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{log: log}
	s.SetHandler(h)
	if len(cfg.Secret) > 0 {
		cfg.Transaction.BranchSecret = cfg.Secret
	}
	s.txl = transaction.New(cfg.Transaction, nil, s, log)
	cfg.Transport.OnSendError = s.sendFailed(cfg.Transport.OnSendError)
	s.tl = transport.New(cfg.Transport, s.txl, log)
	s.txl.SetSender(s.tl)
	return s
}

// SetHandler swaps the handler chain; requests already running keep the old one.
func (s *Server) SetHandler(h Handler) { s.handler.Store(&handlerBox{h}) }

// SetStateless sets the receiver of ACKs for 2xx and stray responses.
func (s *Server) SetStateless(h StatelessHandler) { s.stateless.Store(&h) }

// Listen adds a listener ("udp:HOST:PORT", ..., see transport.ParseListenSpec).
func (s *Server) Listen(spec string) (*transport.Listener, error) { return s.tl.Listen(spec) }

// Transport returns the transport layer.
func (s *Server) Transport() *transport.Layer { return s.tl }

// Transactions returns the transaction layer.
func (s *Server) Transactions() *transaction.Layer { return s.txl }

// ServeRequest runs the handler for a new server transaction (transaction.Core).
// It is the one place that writes the fallback response.
func (s *Server) ServeRequest(tx *transaction.ServerTx) {
	s.running.Add(1)
	defer s.running.Add(-1)
	defer tx.Release()
	// cancelled by a CANCEL or the transaction's end, and when the handler returns
	ctx, cancel := context.WithCancel(tx.Context())
	defer cancel()
	if tx.Request.Method() == sip.CANCEL && s.txl.MatchCancel(tx.Request) != nil {
		s.cancels.Add(1)
		tx.Reply(200, "", nil) // §9.2: the INVITE's handler sees its context cancelled
		return
	}
	method := tx.Request.Method()
	err := s.serve(ctx, tx)
	if errors.Is(err, ErrNoResponse) {
		tx.Drop()
		return
	}
	if tx.Responded() {
		return
	}
	st := fallback(method, err, isCancelled(tx))
	if st.Code >= 500 {
		s.log.Warn("request failed", "method", string(tx.Request.MethodName()), "code", st.Code, "err", st)
	}
	if st.Forget {
		tx.ReplyStateless(st.Code, st.Reason, st.Extra)
		return
	}
	tx.Reply(st.Code, st.Reason, st.Extra)
}

// fallback is the response the Server sends when the handler of a request
// of method returned err without a final response; cancelled says whether a
// CANCEL matched the request (or its transaction ended).
func fallback(method sip.Method, err error, cancelled bool) *StatusError {
	if err == nil && method == sip.INVITE && cancelled {
		err = Reject(487, "", "") // §9.2: the UAS answers a cancelled INVITE with 487
	}
	if err == nil {
		err = Error(500, fmt.Errorf("handler returned without a final response"))
	}
	return statusOf(err)
}

// FallbackStatus returns the status code the Server answers a request of
// method with when its handler returned err without sending a final
// response, or false when it answers nothing (ErrNoResponse). cancelled says
// whether a CANCEL matched the request. A handler that panicked gets 500.
// Middlewares that count responses (metrics) use it, so that the rule lives
// in one place.
func FallbackStatus(method sip.Method, err error, cancelled bool) (int, bool) {
	if errors.Is(err, ErrNoResponse) {
		return 0, false
	}
	return fallback(method, err, cancelled).Code, true
}

func (s *Server) serve(ctx context.Context, tx *transaction.ServerTx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.panics.Add(1)
			s.log.Error("handler panic", "panic", p, "stack", string(debug.Stack()))
			err = Error(500, fmt.Errorf("panic: %v", p))
		}
	}()
	return s.handler.Load().h.ServeSIP(ctx, tx, tx.Request)
}

// ServeStateless passes an ACK for a 2xx on (transaction.Core).
func (s *Server) ServeStateless(req *sip.Message, src transaction.Source) {
	s.acks.Add(1)
	if h := s.stateless.Load(); h != nil {
		(*h).ServeAck(req, src)
	}
}

// sendFailed returns the transport's OnSendError: the transaction layer
// learns of the failure (a client transaction ends as a 503, RFC 3261
// §17.1.4), then next, if any, is called.
func (s *Server) sendFailed(next func(transport.Dest, []byte, error)) func(transport.Dest, []byte, error) {
	return func(dst transport.Dest, data []byte, err error) {
		s.txl.SendFailed(dst, data, err)
		if next != nil {
			next(dst, data, err)
		}
	}
}

// ServeStrayResponse passes a response with no client transaction on, when its
// top Via is Parley's; others are dropped and counted (§18.1.2).
func (s *Server) ServeStrayResponse(res *sip.Message, src transaction.Source) {
	h := s.stateless.Load()
	if h == nil || !s.isOurVia(res) {
		s.strays.Add(1)
		return
	}
	(*h).ServeResponse(res, src)
}

// isOurVia reports whether the top Via of res is one Parley wrote: its
// branch carries Parley's signature over the Via below it, where the response
// would be relayed (transaction.Layer.OwnBranch). The sent-by is not trusted:
// with a listener on an unspecified address any host would pass, and any
// sender can name Parley's own address.
func (s *Server) isOurVia(res *sip.Message) bool {
	it := res.Values(sip.HdrVia)
	it.Next()
	var prev *sip.Via
	if v, ok := it.Next(); ok {
		pv, err := sip.ParseVia(v)
		if err != nil {
			return false
		}
		prev = &pv
	}
	return s.txl.OwnBranch(res.Via.Branch, prev)
}

// Stats are the server's own counters.
type Stats struct {
	Panics       int64 // handler panics, answered 500
	StrayDropped int64 // responses matching no client transaction and not ours to relay
	// StatelessACKs counts ACKs that matched no server transaction (the ACK
	// for a 2xx, §13.2.2.4) and went to the StatelessHandler.
	StatelessACKs int64
	// CancelsAnswered counts CANCELs matched to an INVITE server transaction
	// and answered 200 by the Server itself (§9.2), without the handler.
	CancelsAnswered int64
	Transactions    transaction.Stats
	Transport       transport.Stats
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	return Stats{Panics: s.panics.Load(), StrayDropped: s.strays.Load(), StatelessACKs: s.acks.Load(),
		CancelsAnswered: s.cancels.Load(), Transactions: s.txl.Stats(), Transport: s.tl.Stats()}
}

// Drain stops taking new work and waits for the work in progress: new
// requests get 503 (RFC 3261 §21.5.4), requests being handled run until
// they have their final response, or until ctx is done (its error is then
// returned). Listeners and connections stay open, so that the caller may
// still send (Parley's own BYEs at shutdown) before Shutdown closes them.
// Transactions that only wait to absorb retransmissions are not waited for.
func (s *Server) Drain(ctx context.Context) error {
	s.txl.Close()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for s.running.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// Shutdown drains (see Drain), then closes listeners and connections, also
// when ctx expired first.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.Drain(ctx)
	return errors.Join(err, s.tl.Close())
}

func isCancelled(tx *transaction.ServerTx) bool {
	select {
	case <-tx.Cancelled():
		return true
	default:
		return false
	}
}
