package sip

// AppendResponse appends a response to req to dst (RFC 3261 §8.2.6.2): the Via
// lines, From, Call-ID and CSeq are copied as they arrived, and To gets toTag
// when it has no tag and the response is not 100 (§8.2.6.2, §16.7 step 5 never
// changes a To tag). extra holds complete header lines ("Name: value\r\n") to add;
// body, when not empty, is sent with Content-Type ctype. It works on a message
// whose parse failed after its header lines were split, so that a malformed
// request can still be answered (§16.3, RFC 4475 §3.1.2).
func AppendResponse(dst []byte, req *Message, code int, reason string, toTag []byte, extra []byte, ctype string, body []byte) []byte {
	return appendResponse(dst, req, code, reason, toTag, extra, ctype, body, nil, 0)
}

// AppendResponseReceived is AppendResponse for a request answered without a
// transaction (a stateless error): the top Via gets received=recv and its bare
// rport filled with rport (RFC 3581 §4, RFC 3261 §18.2.1), even when the rest
// of the request did not parse.
func AppendResponseReceived(dst []byte, req *Message, code int, reason string, toTag, extra, recv []byte, rport int) []byte {
	return appendResponse(dst, req, code, reason, toTag, extra, "", nil, recv, rport)
}

func appendResponse(dst []byte, req *Message, code int, reason string, toTag []byte, extra []byte, ctype string, body []byte, recv []byte, rport int) []byte {
	if reason == "" {
		reason = StatusText(code)
	}
	dst = append(dst, "SIP/2.0 "...)
	dst = appendInt(dst, code)
	dst = append(dst, ' ')
	dst = append(dst, reason...)
	dst = append(dst, "\r\n"...)
	topVia := recv != nil
	for i := range req.hdrs {
		h := &req.hdrs[i]
		switch h.Kind {
		case HdrVia:
			if topVia && len(req.Via.Raw) > 0 {
				dst = appendTopVia(dst, req, h, recv, rport)
				topVia = false
				continue
			}
			dst = appendLine(dst, req, h)
		case HdrFrom, HdrCallID, HdrCSeq:
			dst = appendLine(dst, req, h)
		case HdrTo:
			dst = appendLine(dst, req, h)
			if code > 100 && len(toTag) > 0 {
				params := paramsOfNameAddr(req.get(h.value))
				if na, err := ParseNameAddr(req.get(h.value)); err == nil {
					params = na.Params
				}
				if _, has := Param(params, "tag"); !has {
					dst = dst[:len(dst)-2]
					dst = append(dst, ";tag="...)
					dst = append(dst, toTag...)
					dst = append(dst, "\r\n"...)
				}
			}
		}
	}
	dst = append(dst, extra...)
	if len(body) > 0 && ctype != "" {
		dst = append(dst, "Content-Type: "...)
		dst = append(dst, ctype...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "Content-Length: "...)
	dst = appendInt(dst, len(body))
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

// appendLine writes header h as "Name: value\r\n" in its canonical name.
func appendLine(dst []byte, m *Message, h *Header) []byte {
	if h.Kind != HdrOther {
		dst = append(dst, canonicalNames[h.Kind]...)
	} else {
		dst = append(dst, m.get(h.name)...)
	}
	dst = append(dst, ": "...)
	dst = append(dst, m.get(h.value)...)
	return append(dst, "\r\n"...)
}

// paramsOfNameAddr returns the header parameters after a name-addr or addr-spec,
// without validating anything.
func paramsOfNameAddr(v []byte) []byte {
	if gt := lastIndexByte(v, '>'); gt >= 0 {
		return v[gt+1:]
	}
	if semi := indexByte(v, ';'); semi >= 0 {
		return v[semi:]
	}
	return nil
}

// AppendCancel appends a CANCEL for the INVITE inv (§9.1): same Request-URI,
// top Via, From, To, Call-ID and Route set, the CSeq number with method CANCEL.
func AppendCancel(dst []byte, inv *Message) []byte {
	return appendDerived(dst, inv, "CANCEL", nil, nil)
}

// AppendCancelWith is AppendCancel with extra header lines, such as an RFC 3326
// Reason ("Reason: SIP;cause=200;text=\"Call completed elsewhere\"\r\n").
func AppendCancelWith(dst []byte, inv *Message, extra []byte) []byte {
	return appendDerived(dst, inv, "CANCEL", nil, extra)
}

// AppendAck appends the ACK for a non-2xx final response res to the INVITE inv,
// which the client transaction sends itself (§17.1.1.3): To comes from the response.
func AppendAck(dst []byte, inv, res *Message) []byte {
	return appendDerived(dst, inv, "ACK", res, nil)
}

func appendDerived(dst []byte, inv *Message, method string, res *Message, extra []byte) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, inv.RequestURI()...)
	dst = append(dst, " SIP/2.0\r\n"...)
	dst = append(dst, "Via: "...)
	dst = append(dst, inv.Via.Raw...)
	dst = append(dst, "\r\n"...)
	for i := range inv.hdrs {
		h := &inv.hdrs[i]
		switch h.Kind {
		case HdrFrom, HdrCallID, HdrRoute, HdrMaxForwards:
			dst = appendLine(dst, inv, h)
		case HdrTo:
			if res == nil {
				dst = appendLine(dst, inv, h)
			}
		}
	}
	if res != nil && res.first[HdrTo] >= 0 {
		dst = appendLine(dst, res, &res.hdrs[res.first[HdrTo]])
	}
	if inv.first[HdrMaxForwards] < 0 {
		dst = append(dst, "Max-Forwards: 70\r\n"...) // §8.1.1.6: every request carries it
	}
	dst = append(dst, extra...)
	dst = append(dst, "CSeq: "...)
	dst = appendInt(dst, int(inv.CSeq))
	dst = append(dst, ' ')
	dst = append(dst, method...)
	return append(dst, "\r\nContent-Length: 0\r\n\r\n"...)
}

// appendTopVia writes the first Via line with received and rport filled in.
func appendTopVia(dst []byte, m *Message, h *Header, recv []byte, rport int) []byte {
	val := m.get(h.value)
	raw := m.Via.Raw
	start := cap(val) - cap(raw) // raw is a subslice of val
	if start < 0 || start+len(raw) > len(val) {
		return appendLine(dst, m, h)
	}
	dst = append(dst, "Via: "...)
	dst = append(dst, val[:start]...)
	if p := paramElem(m.Via.Params, "rport"); p != nil && m.Via.RPort == nil {
		cut := cap(raw) - cap(p)
		dst = append(dst, raw[:cut]...)
		dst = append(dst, "rport="...)
		dst = appendInt(dst, rport)
		dst = append(dst, raw[cut+len(p):]...)
	} else {
		dst = append(dst, raw...)
	}
	if len(recv) > 0 && m.Via.Received == nil {
		dst = append(dst, ";received="...)
		dst = append(dst, recv...)
	}
	dst = append(dst, val[start+len(raw):]...)
	return append(dst, "\r\n"...)
}
