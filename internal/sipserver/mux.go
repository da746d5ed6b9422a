package sipserver

import (
	"context"
	"sort"
	"strings"

	"github.com/parley-sip/parley/internal/sip"
)

// Mux sends requests addressed to Parley itself to a handler per method, and
// every other request to the forwarding handler (the proxy).
type Mux struct {
	id      *Identity
	local   map[string]Handler
	forward Handler
}

// NewMux returns a Mux for the identity id.
func NewMux(id *Identity) *Mux { return &Mux{id: id, local: make(map[string]Handler)} }

// Handle serves requests of method addressed to Parley with h.
func (m *Mux) Handle(method string, h Handler) { m.local[method] = h }

// Forward serves requests addressed to users (or other hosts) with h.
func (m *Mux) Forward(h Handler) { m.forward = h }

// Allow lists the methods Parley answers itself, for the Allow header (§20.5).
func (m *Mux) Allow() string {
	ms := make([]string, 0, len(m.local)+2)
	for k := range m.local {
		ms = append(ms, k)
	}
	ms = append(ms, "ACK", "CANCEL")
	sort.Strings(ms)
	return strings.Join(ms, ", ")
}

// ServeSIP dispatches req. A method with no handler addressed to Parley gets
// 501 (§8.2.1 for unknown methods; 405 with Allow when the method is known).
// Without a forwarding handler, requests for users get 404.
func (m *Mux) ServeSIP(ctx context.Context, tx ServerTx, req *sip.Message) error {
	if req.Method() == sip.CANCEL {
		return Reject(481, "", "") // a CANCEL that matched no INVITE (§9.2)
	}
	if m.id.IsForUs(req) {
		if h := m.local[string(req.MethodName())]; h != nil {
			return h.ServeSIP(ctx, tx, req)
		}
		if req.Method() == sip.MethodUnknown {
			return Reject(501, "", "")
		}
		return Reject(405, "", "Allow: "+m.Allow()+"\r\n")
	}
	if m.forward != nil {
		return m.forward.ServeSIP(ctx, tx, req)
	}
	return Reject(404, "", "")
}

// Options answers OPTIONS addressed to Parley (§11.2) with 200, Allow, Accept
// and Supported. supported lists the option tags Parley implements (the
// configuration's sip.supported, by default "path" for RFC 3327); §11.2 says
// Supported SHOULD be in the answer, so it is sent even when the list is
// empty, which §20.37's grammar allows ("Supported:" with no value).
func Options(mux *Mux, supported []string) Handler {
	return HandlerFunc(func(_ context.Context, tx ServerTx, _ *sip.Message) error {
		return tx.Reply(200, "", []byte(optionsHeaders(mux.Allow(), supported)))
	})
}

// optionsHeaders returns the header lines of the answer to OPTIONS.
func optionsHeaders(allow string, supported []string) string {
	sup := "Supported:"
	if len(supported) > 0 {
		sup += " " + strings.Join(supported, ", ")
	}
	return "Allow: " + allow + "\r\nAccept: application/sdp\r\n" + sup + "\r\n"
}
