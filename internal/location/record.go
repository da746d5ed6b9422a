package location

import (
	"net/netip"
	"strings"
	"time"
	"unique"
)

// rec is the compact in-memory form of a Binding (152 bytes plus its text).
// The variable-length strings share one allocation: data holds Contact,
// CallID, Received, UserAgent, SIPInstance and the Path values joined by "\n",
// one after the other, and ends holds where each of the first five ends.
// Binding strings returned by Lookup are substrings of data, so a lookup does
// not copy them. Transport and Instance, which take few distinct values, are
// interned. The AOR is the map key and is not repeated here.
type rec struct {
	data      string
	expires   int64 // unix milliseconds
	updated   int64 // unix milliseconds
	connID    uint64
	transport unique.Handle[string]
	instance  unique.Handle[string]
	source    netip.AddrPort
	local     netip.AddrPort
	cseq      uint32
	regID     int32
	q         uint16
	ends      [5]uint16 // fits: Prepare limits every field to MaxText (8 KiB)
}

// encode packs b, which has been through Prepare, into a rec.
func encode(b *Binding) rec {
	fields := [5]string{b.Contact, b.CallID, b.Received, b.UserAgent, b.SIPInstance}
	n := 0
	for _, f := range fields {
		n += len(f)
	}
	for _, p := range b.Path {
		n += len(p) + 1
	}
	var sb strings.Builder
	sb.Grow(n)
	r := rec{
		expires: b.Expires.UnixMilli(), updated: b.Updated.UnixMilli(), connID: b.ConnID,
		transport: unique.Make(b.Transport), instance: unique.Make(b.Instance),
		source: b.Source, local: b.Local, cseq: b.CSeq, regID: int32(b.RegID), q: uint16(b.Q),
	}
	for i, f := range fields {
		sb.WriteString(f)
		r.ends[i] = uint16(sb.Len())
	}
	for i, p := range b.Path {
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(p)
	}
	r.data = sb.String()
	return r
}

// binding unpacks r. Only a non-empty Path allocates.
func (r *rec) binding(aor string) Binding {
	d, e := r.data, r.ends
	b := Binding{
		AOR: aor, Contact: d[:e[0]], CallID: d[e[0]:e[1]], Received: d[e[1]:e[2]],
		UserAgent: d[e[2]:e[3]], SIPInstance: d[e[3]:e[4]],
		Q: int(r.q), Expires: time.UnixMilli(r.expires), Updated: time.UnixMilli(r.updated),
		CSeq: r.cseq, Transport: r.transport.Value(), Source: r.source, Local: r.local,
		ConnID: r.connID, Instance: r.instance.Value(), RegID: int(r.regID),
	}
	if p := d[e[4]:]; p != "" {
		b.Path = strings.Split(p, "\n")
	}
	return b
}

func (r *rec) contact() string { return r.data[:r.ends[0]] }
