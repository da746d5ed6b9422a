package sipserver

import (
	"context"
	"strings"

	"github.com/parley-sip/parley/internal/sip"
)

// Sanity returns the middleware that applies the checks every request gets
// before any feature sees it (RFC 3261 §8.2.1-§8.2.2 and §16.3):
//   - a Request-URI scheme other than sip, sips or tel gets 416 (§8.2.2.1, §16.3 step 2);
//   - Max-Forwards 0 on a request to be forwarded gets 483 (§16.3 step 3); a
//     request addressed to Parley itself is processed (RFC 4475 §3.3.11);
//   - a Proxy-Require option we do not support gets 420 with Unsupported (§16.3
//     step 5), and so does a Require option on a request addressed to Parley (§8.2.2.3),
//     except on ACK and CANCEL;
//   - the syntax of Via, Contact, Route and Record-Route is checked (400).
func Sanity(id *Identity, supported []string) Middleware {
	check := SanityCheck(id, supported)
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, tx ServerTx, req *sip.Message) error {
			if err := check(req); err != nil {
				return err
			}
			return next.ServeSIP(ctx, tx, req)
		})
	}
}

// optionSet returns the option tags, lowercased, as a set.
func optionSet(tags []string) map[string]bool {
	sup := make(map[string]bool, len(tags))
	for _, s := range tags {
		sup[strings.ToLower(s)] = true
	}
	return sup
}

func sanityCheck(id *Identity, sup map[string]bool, req *sip.Message) error {
	u, err := sip.ParseURI(req.RequestURI())
	if err != nil {
		return Reject(400, "Bad Request-URI", "")
	}
	if !u.IsSIP() && !equalFold(u.Scheme, "tel") {
		return Reject(416, "", "")
	}
	if err := req.Validate(); err != nil {
		if pe, ok := err.(*sip.ParseError); ok {
			return Reject(pe.Code(), pe.Reason(), "")
		}
		return Error(400, err)
	}
	forUs := id.IsForUs(req)
	if req.MaxForwards == 0 && !forUs { // §16.3 step 3; RFC 4475 §3.3.11: an endpoint processes it
		return Reject(483, "", "")
	}
	if req.Method() == sip.ACK || req.Method() == sip.CANCEL {
		return nil
	}
	if bad := unsupported(req, sip.HdrProxyRequire, sup); bad != "" {
		return Reject(420, "", "Unsupported: "+bad+"\r\n")
	}
	if forUs {
		if bad := unsupported(req, sip.HdrRequire, sup); bad != "" {
			return Reject(420, "", "Unsupported: "+bad+"\r\n")
		}
	}
	return nil
}

// unsupported lists the option tags of header k that are not in sup.
func unsupported(req *sip.Message, k sip.HeaderKind, sup map[string]bool) string {
	var bad []string
	it := req.Values(k)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		if !sup[strings.ToLower(string(v))] {
			bad = append(bad, string(v))
		}
	}
	return strings.Join(bad, ", ")
}

func equalFold(b []byte, s string) bool { return strings.EqualFold(string(b), s) }
