package sipserver

import (
	"context"
	"net/netip"

	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// Handler serves one request. It either sends a final response through tx and
// returns nil, or returns an error; an error made with Error carries the status
// the server answers with, any other error becomes 500. ctx is cancelled when a
// CANCEL matches the request (§9.2) or the transaction ends.
type Handler interface {
	ServeSIP(ctx context.Context, tx ServerTx, req *sip.Message) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, tx ServerTx, req *sip.Message) error

// ServeSIP calls f.
func (f HandlerFunc) ServeSIP(ctx context.Context, tx ServerTx, req *sip.Message) error {
	return f(ctx, tx, req)
}

// Middleware wraps a Handler. Middlewares that must see the final response wrap tx.
type Middleware func(next Handler) Handler

// Chain builds h wrapped by mws, the first middleware outermost. It is built
// once when the configuration loads, never per request.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// ServerTx is what a handler answers through. *transaction.ServerTx implements it.
type ServerTx interface {
	// Reply sends a response built from the request with this transaction's To
	// tag; extra holds complete header lines. Provisional responses may be sent
	// many times, a final one once.
	Reply(code int, reason string, extra []byte) error
	// ReplyBody is Reply with a body.
	ReplyBody(code int, reason string, extra []byte, ctype string, body []byte) error
	// Respond sends a response message, for example one relayed by a proxy.
	Respond(res *sip.Message) error
	// Responded reports whether a final response was sent.
	Responded() bool
	// Remote is the source address of the request, Transport its transport.
	Remote() netip.AddrPort
	Transport() transport.Proto
	// ToTag is the To tag of this transaction's responses.
	ToTag() []byte
	// Origin says where the request came from: address, local socket,
	// transport and connection.
	Origin() transaction.Source
}

var _ ServerTx = (*transaction.ServerTx)(nil)
