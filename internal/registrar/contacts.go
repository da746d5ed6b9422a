package registrar

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
)

// contact is one parsed Contact value of a REGISTER.
type contact struct {
	uri      string
	expires  int // -1: not given
	q        int
	instance string
	regID    int
}

// parseContacts reads every Contact value; star reports "Contact: *", which is
// valid only alone and with Expires: 0 (§10.3 step 6).
func parseContacts(req *sip.Message) (cs []contact, star bool, err error) {
	it := req.Values(sip.HdrContact)
	n := 0
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		n++
		if len(v) == 1 && v[0] == '*' {
			star = true
			continue
		}
		c, err := parseContact(v)
		if err != nil {
			return nil, false, err
		}
		cs = append(cs, c)
	}
	if star && (n != 1 || req.Expires != 0) {
		return nil, false, sipserver.Reject(400, "Invalid Use Of Contact *", "")
	}
	return cs, star, nil
}

func parseContact(v []byte) (contact, error) {
	na, err := sip.ParseNameAddr(v)
	if err != nil {
		return contact{}, sipserver.Reject(400, "Bad Contact Header", "")
	}
	c := contact{uri: string(na.URI), expires: -1, q: 1000}
	if e, ok := na.Param("expires"); ok {
		n, err := strconv.ParseUint(string(e), 10, 32)
		if err != nil {
			return c, sipserver.Reject(400, "Bad Contact Expires Parameter", "")
		}
		c.expires = int(n)
	}
	if q, ok := na.Param("q"); ok {
		f, err := strconv.ParseFloat(string(q), 64)
		if err != nil || f < 0 || f > 1 || len(q) > 5 {
			return c, sipserver.Reject(400, "Bad Contact q-value", "")
		}
		c.q = int(f*1000 + 0.5)
	}
	if inst, ok := na.Param("+sip.instance"); ok {
		c.instance = strings.Trim(string(inst), `"`)
	}
	if rid, ok := na.Param("reg-id"); ok {
		n, err := strconv.Atoi(string(rid))
		if err != nil || n < 0 {
			return c, sipserver.Reject(400, "Bad Contact reg-id", "")
		}
		c.regID = n
	}
	return c, nil
}

// apply computes the new binding set of one AOR from the current one (§10.3
// steps 6-7). It returns a StatusError, and so changes nothing, when the request
// must fail.
func (r *Registrar) apply(cur []location.Binding, req *sip.Message, tx sipserver.ServerTx, aor string,
	cs []contact, star bool, now time.Time) ([]location.Binding, error) {
	callID, cseq := string(req.CallID), req.CSeq
	if star {
		for i := range cur {
			if cur[i].CallID == callID && cseq <= cur[i].CSeq {
				return nil, outOfOrder()
			}
		}
		return nil, nil
	}
	out := append([]location.Binding(nil), cur...)
	for n, c := range cs {
		exp, err := r.expiry(c, req)
		if err != nil {
			return nil, err
		}
		i := find(out, c.uri)
		// A contact given twice in this REGISTER (equal under §19.1.4): the last one counts.
		if i >= 0 && out[i].CallID == callID && cseq <= out[i].CSeq && !listed(cs[:n], c.uri) {
			return nil, outOfOrder()
		}
		if exp == 0 {
			if i >= 0 {
				out = append(out[:i], out[i+1:]...)
			}
			continue
		}
		b := r.binding(req, tx, aor, c, now.Add(time.Duration(exp)*time.Second), now)
		if i >= 0 {
			out[i] = b
		} else {
			out = append(out, b)
		}
	}
	if r.cfg.MaxContacts > 0 && len(out) > r.cfg.MaxContacts && len(out) > len(cur) {
		return nil, tooManyContacts(cur, now)
	}
	return out, nil
}

// tooManyContacts is the 503 for a REGISTER over registrar.max_contacts. Its
// Retry-After (RFC 3261 §20.33, §21.5.4) is the time until the first current
// binding expires and frees a place, at least 1 s: retrying sooner cannot
// succeed unless the user removes a binding.
func tooManyContacts(cur []location.Binding, now time.Time) error {
	wait := time.Duration(0)
	for i := range cur {
		if d := cur[i].Remaining(now); wait == 0 || d < wait {
			wait = d
		}
	}
	secs := max(int64((wait+time.Second-1)/time.Second), 1)
	return sipserver.Reject(503, "Too Many Registered Contacts", fmt.Sprintf("Retry-After: %d\r\n", secs))
}

func outOfOrder() error { return sipserver.Reject(400, "CSeq Out Of Order", "") }

// expiry picks and checks the lifetime asked for one contact (§10.2.1, §10.3 step 7).
func (r *Registrar) expiry(c contact, req *sip.Message) (int, error) {
	exp := c.expires
	if exp < 0 {
		exp = req.Expires
	}
	if exp < 0 {
		exp = r.cfg.DefaultExpires
	}
	if exp == 0 {
		return 0, nil
	}
	if exp < r.cfg.MinExpires {
		return 0, sipserver.Reject(423, "Interval Too Brief", fmt.Sprintf("Min-Expires: %d\r\n", r.cfg.MinExpires))
	}
	return min(exp, r.cfg.MaxExpires), nil
}

// listed reports whether a contact of cs equals uri under §19.1.4.
func listed(cs []contact, uri string) bool {
	for _, c := range cs {
		if URIEqual(c.uri, uri) {
			return true
		}
	}
	return false
}

// find returns the index of the binding whose Contact equals uri under RFC
// 3261 §19.1.4 (§10.3 step 7 compares contacts that way), or -1.
func find(bs []location.Binding, uri string) int {
	for i := range bs {
		if URIEqual(bs[i].Contact, uri) {
			return i
		}
	}
	return -1
}

// binding records one contact with where the REGISTER came from.
func (r *Registrar) binding(req *sip.Message, tx sipserver.ServerTx, aor string, c contact, exp, now time.Time) location.Binding {
	src := tx.Origin()
	b := location.Binding{
		AOR: aor, Contact: c.uri, Q: c.q, Expires: exp, CallID: string(req.CallID), CSeq: req.CSeq,
		Transport: src.Proto.String(), Source: src.Addr, Local: src.Local, ConnID: uint64(src.Conn),
		Instance: r.cfg.Instance, UserAgent: string(req.Get(sip.HdrUserAgent)),
		SIPInstance: c.instance, RegID: c.regID, Updated: now,
	}
	it := req.Values(sip.HdrPath)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		b.Path = append(b.Path, string(v))
	}
	b.Received = receivedURI(&req.Via, src.Addr, b.Transport)
	return b
}

// receivedURI returns where to send requests for the contact when the
// REGISTER crossed a NAT, else "". A NAT is seen when the Via sent-by is not
// the address the request came from (like Kamailio's nat_uac_test with Via
// checks, RFC 3581): then the Contact's address is unreachable and the source is used.
func receivedURI(via *sip.Via, src netip.AddrPort, proto string) string {
	port := via.Port
	if port == 0 {
		port = 5060
		if proto == "TLS" {
			port = 5061
		}
	}
	if a, err := netip.ParseAddr(strings.Trim(string(via.Host), "[]")); err == nil &&
		a.Unmap() == src.Addr().Unmap() && port == int(src.Port()) {
		return ""
	}
	host := src.Addr().Unmap().String()
	if src.Addr().Unmap().Is6() {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("sip:%s:%d;transport=%s", host, src.Port(), strings.ToLower(proto))
}
