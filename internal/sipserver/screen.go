package sipserver

import (
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/transaction"
)

// Screen is a check made on a new request (not INVITE, ACK or CANCEL) before
// a transaction exists for it. It returns the response to send statelessly
// (RFC 3261 §8.2.7), or nil to serve the request through the handler chain
// as usual. It runs on the transport's reader goroutine: it must be quick
// and must not block (no database or network), and must not keep req.
//
// It exists for answers that are cheaper to repeat than to remember: a
// digest challenge to a REGISTER without credentials (§26.3.2.4) costs no
// transaction, no copy of the request and no handler goroutine. A
// retransmission is screened again and gets the same answer with the same
// To tag (transaction.Layer.SendStateless).
type Screen func(req *sip.Message, src transaction.Source) *StatusError

type screenBox struct{ f Screen }

// SetScreen sets the screen of new requests; nil removes it.
func (s *Server) SetScreen(f Screen) { s.screen.Store(&screenBox{f}) }

// Screen implements transaction.Screener.
func (s *Server) Screen(req *sip.Message, src transaction.Source) bool {
	b := s.screen.Load()
	if b == nil || b.f == nil {
		return false
	}
	st := b.f(req, src)
	if st == nil {
		return false
	}
	s.txl.SendStateless(req, src, st.Code, st.Reason, st.Extra)
	return true
}

// SanityCheck returns the checks of the Sanity middleware as a function: nil
// for a request that passes them, else the error Sanity answers it with. A
// Screen calls it before answering a request, so that screening never
// changes which error a request gets: one that fails goes to the chain,
// whose Sanity answers it.
func SanityCheck(id *Identity, supported []string) func(*sip.Message) error {
	sup := optionSet(supported)
	return func(req *sip.Message) error { return sanityCheck(id, sup, req) }
}
