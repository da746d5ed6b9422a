package sip

// edit replaces buf[off:end] with scratch[text.off:text.end] when the message is
// serialized. off == end is an insertion.
type edit struct {
	off, end uint32
	text     span
	kind     editKind
}

// editKind names the edits a setter makes, so that calling the setter again
// replaces its earlier edit instead of adding a second one.
type editKind uint8

const (
	editOther editKind = iota // AddHeader, RemoveHeaders, PushVia, ...: each call adds
	editRURI
	editReason
	editMaxForwards
	editContentLength
	editContentType
	editBody
	editRPort
	editReceived
)

// Edits change a parsed message for forwarding without reparsing it: each one
// records which bytes to replace, and AppendTo writes the original bytes with
// the edits applied, so only what changed is rewritten. The accessors keep
// returning the values as parsed. ResetEdits forgets all edits, so one parsed
// request can be forwarded several times with different edits (one per branch).
// Edits must not overlap, except insertions at the same place, which keep their
// order and come before an edit that replaces bytes starting there. Calling a
// setter again (SetRequestURI, SetReason, SetMaxForwards, SetBody, ...) replaces
// its earlier edit.

// ResetEdits drops every pending edit.
func (m *Message) ResetEdits() {
	m.edits, m.scratch = m.edits[:0], m.scratch[:0]
	m.viasRemoved, m.routesRemoved = 0, 0
}

// HasEdits reports whether any edit is pending.
func (m *Message) HasEdits() bool { return len(m.edits) > 0 }

func (m *Message) addEdit(off, end int, parts ...[]byte) { m.setEdit(editOther, off, end, parts...) }

// setEdit records an edit of kind k, dropping the earlier edit of that kind
// (unless k is editOther).
func (m *Message) setEdit(k editKind, off, end int, parts ...[]byte) {
	if k != editOther {
		m.dropKind(k)
	}
	start := len(m.scratch)
	for _, p := range parts {
		m.scratch = append(m.scratch, p...)
	}
	m.edits = append(m.edits, edit{uint32(off), uint32(end), span{uint32(start), uint32(len(m.scratch))}, k})
}

func (m *Message) dropKind(k editKind) {
	for i := range m.edits {
		if m.edits[i].kind == k {
			m.edits = append(m.edits[:i], m.edits[i+1:]...)
			return
		}
	}
}

func (m *Message) hasKind(k editKind) bool {
	for i := range m.edits {
		if m.edits[i].kind == k {
			return true
		}
	}
	return false
}

// Fixed text of edits. Constants, so nothing can change them; the []byte
// conversions at the call sites do not escape and so do not allocate.
const (
	crlf     = "\r\n"
	viaName  = "Via: "
	rrName   = "Record-Route: "
	rtName   = "Route: "
	mfName   = "Max-Forwards: "
	clName   = "Content-Length: "
	received = ";received="
	rportEq  = "rport="
	spaceB   = " "
)

// AppendTo appends the message with its edits applied to dst.
func (m *Message) AppendTo(dst []byte) []byte {
	m.sortEdits()
	pos, end := 0, int(m.body.end)
	for _, e := range m.edits {
		if int(e.off) < pos || int(e.end) > end {
			continue // overlapping edit (contract violated: keep the first), or a failed parse
		}
		dst = append(dst, m.buf[pos:e.off]...)
		dst = append(dst, m.scratch[e.text.off:e.text.end]...)
		pos = int(e.end)
	}
	return append(dst, m.buf[pos:end]...)
}

// sortEdits orders edits by offset, insertions before a replacement at the same
// offset; otherwise equal offsets keep the order the edits were made in.
func (m *Message) sortEdits() {
	e := m.edits
	for i := 1; i < len(e); i++ {
		for j := i; j > 0 && e[j].before(&e[j-1]); j-- {
			e[j], e[j-1] = e[j-1], e[j]
		}
	}
}

func (e *edit) before(o *edit) bool {
	return e.off < o.off || (e.off == o.off && e.off == e.end && o.off != o.end)
}

// SetRequestURI replaces the Request-URI (§16.6 step 2, §16.5).
func (m *Message) SetRequestURI(uri []byte) {
	m.setEdit(editRURI, int(m.ruri.off), int(m.ruri.end), uri)
}

// SetReason replaces a response's reason phrase; the status code never changes.
func (m *Message) SetReason(reason []byte) {
	if m.reasonSP {
		m.setEdit(editReason, int(m.reason.off), int(m.reason.end), reason)
		return
	}
	m.setEdit(editReason, int(m.reason.off), int(m.reason.end), []byte(spaceB), reason)
}

// DecrementMaxForwards lowers Max-Forwards by one, or adds "Max-Forwards: 70"
// when the header is absent (§16.6 step 3). The caller checks for zero first.
func (m *Message) DecrementMaxForwards() {
	if m.MaxForwards < 0 {
		m.SetMaxForwards(70)
		return
	}
	n := m.MaxForwards - 1
	if n < 0 {
		n = 0
	}
	m.SetMaxForwards(n)
}

// SetMaxForwards sets the Max-Forwards value.
func (m *Message) SetMaxForwards(n int) {
	var b [4]byte
	v := appendInt(b[:0], n)
	if m.first[HdrMaxForwards] < 0 {
		m.setEdit(editMaxForwards, m.hdrEnd, m.hdrEnd, []byte(mfName), v, []byte(crlf))
		return
	}
	h := &m.hdrs[m.first[HdrMaxForwards]]
	m.setEdit(editMaxForwards, int(h.value.off), int(h.value.end), v)
}

// PushVia inserts "Via: value" above the topmost Via (§16.6 step 8).
func (m *Message) PushVia(value []byte) { m.insertAbove(HdrVia, viaName, value) }

// AddRecordRoute inserts "Record-Route: value" above the others (§16.6 step 4).
func (m *Message) AddRecordRoute(value []byte) { m.insertAbove(HdrRecordRoute, rrName, value) }

// PushRoute inserts "Route: value" above the others (§16.6 step 7, RFC 3327 Path).
func (m *Message) PushRoute(value []byte) { m.insertAbove(HdrRoute, rtName, value) }

func (m *Message) insertAbove(k HeaderKind, name string, value []byte) {
	at := m.hdrStart
	if f := m.first[k]; f >= 0 {
		at = int(m.hdrs[f].line.off)
	}
	m.addEdit(at, at, []byte(name), value, []byte(crlf))
}

// AddHeader appends a header line after the existing ones.
func (m *Message) AddHeader(name string, value []byte) { m.appendHeader(editOther, name, value) }

func (m *Message) appendHeader(k editKind, name string, value []byte) {
	if k != editOther {
		m.dropKind(k)
	}
	start := len(m.scratch)
	m.scratch = append(m.scratch, name...)
	m.scratch = append(m.scratch, ": "...)
	m.scratch = append(m.scratch, value...)
	m.scratch = append(m.scratch, "\r\n"...)
	m.edits = append(m.edits, edit{uint32(m.hdrEnd), uint32(m.hdrEnd), span{uint32(start), uint32(len(m.scratch))}, k})
}

// RemoveHeaders deletes every header line of kind k.
func (m *Message) RemoveHeaders(k HeaderKind) {
	for i := range m.hdrs {
		if m.hdrs[i].Kind == k {
			m.addEdit(int(m.hdrs[i].line.off), int(m.hdrs[i].line.end))
		}
	}
}

// EnsureContentLength adds Content-Length when it is missing, as it must be on
// a stream transport (§18.3, §20.14).
func (m *Message) EnsureContentLength() {
	if m.first[HdrContentLength] >= 0 || m.hasKind(editContentLength) {
		return
	}
	var b [12]byte
	m.setEdit(editContentLength, m.hdrEnd, m.hdrEnd, []byte(clName), appendInt(b[:0], m.body.len()), []byte(crlf))
}

// SetBody replaces the body and its Content-Length (and Content-Type when ctype
// is not nil). The new Content-Length is written even if it was absent.
func (m *Message) SetBody(ctype, body []byte) {
	var b [12]byte
	cl := appendInt(b[:0], len(body))
	if f := m.first[HdrContentLength]; f >= 0 {
		m.setEdit(editContentLength, int(m.hdrs[f].value.off), int(m.hdrs[f].value.end), cl)
	} else {
		m.setEdit(editContentLength, m.hdrEnd, m.hdrEnd, []byte(clName), cl, []byte(crlf))
	}
	if ctype != nil {
		if f := m.first[HdrContentType]; f >= 0 {
			m.setEdit(editContentType, int(m.hdrs[f].value.off), int(m.hdrs[f].value.end), ctype)
		} else {
			m.appendHeader(editContentType, "Content-Type", ctype)
		}
	}
	m.setEdit(editBody, int(m.body.off), int(m.body.end), body)
}

// SetViaReceived adds received (when not empty) to the top Via, or replaces the
// value of the one it has (§18.2.1), and fills in its rport (RFC 3581 §4) when
// the client asked for it with a bare rport parameter.
func (m *Message) SetViaReceived(recv []byte, rport int) {
	v := &m.Via
	if len(v.Raw) == 0 {
		return
	}
	if v.HasRPort && v.RPort == nil {
		if p := paramElem(v.Params, "rport"); p != nil {
			s := m.spanOf(p)
			var b [6]byte
			m.setEdit(editRPort, int(s.off), int(s.end), []byte(rportEq), appendInt(b[:0], rport))
		}
	}
	switch {
	case len(recv) == 0:
		m.dropKind(editReceived)
	case len(v.Received) > 0:
		s := m.spanOf(v.Received)
		m.setEdit(editReceived, int(s.off), int(s.end), recv)
	default:
		end := int(m.spanOf(v.Raw).end)
		m.setEdit(editReceived, end, end, []byte(received), recv)
	}
}

// paramElem returns the whole "name[=value]" element of parameter name.
func paramElem(params []byte, name string) []byte {
	for len(params) > 0 {
		var p []byte
		p, params = nextParam(params)
		n, _ := splitParam(p)
		if equalFold(n, name) {
			return p
		}
	}
	return nil
}

// PopVia removes the topmost remaining Via value (§16.7 step 3: a proxy removes
// its own Via from a response before forwarding it).
func (m *Message) PopVia() bool { return m.removeValue(HdrVia, &m.viasRemoved) }

// RemoveTopRoute removes the topmost remaining Route value (§16.4, §16.12).
func (m *Message) RemoveTopRoute() bool { return m.removeValue(HdrRoute, &m.routesRemoved) }

// removeValue deletes the (*removed)-th value of kind k: the whole line when it
// is the last value left on it, otherwise the value and its comma.
func (m *Message) removeValue(k HeaderKind, removed *int) bool {
	target := *removed
	for i := range m.hdrs {
		h := &m.hdrs[i]
		if h.Kind != k {
			continue
		}
		vals, idx := m.lineValues(h, target)
		if idx < 0 {
			target -= vals
			continue
		}
		*removed++
		if idx == vals-1 {
			m.dropEditsIn(h.line)
			m.addEdit(int(h.line.off), int(h.line.end))
			return true
		}
		cur, next := m.nthValue(h, idx), m.nthValue(h, idx+1)
		m.addEdit(int(m.spanOf(cur).off), int(m.spanOf(next).off))
		return true
	}
	return false
}

// lineValues counts the values on line h and returns the index of the n-th one,
// or -1 if the line has no more than n values.
func (m *Message) lineValues(h *Header, n int) (count, idx int) {
	rest := m.get(h.value)
	idx = -1
	for len(rest) > 0 {
		var v []byte
		v, rest = splitComma(rest)
		if len(trimLWS(v)) == 0 {
			continue
		}
		if count == n {
			idx = n
		}
		count++
	}
	return count, idx
}

func (m *Message) nthValue(h *Header, n int) []byte {
	rest := m.get(h.value)
	for i := 0; len(rest) > 0; {
		var v []byte
		v, rest = splitComma(rest)
		if v = trimLWS(v); len(v) == 0 {
			continue
		}
		if i == n {
			return v
		}
		i++
	}
	return nil
}

// dropEditsIn drops the edits inside line s before the line is removed. An
// insertion at either end of the line belongs to its neighbours and stays.
func (m *Message) dropEditsIn(s span) {
	out := m.edits[:0]
	for _, e := range m.edits {
		insertAtEdge := e.off == e.end && (e.off == s.off || e.off == s.end)
		if e.off >= s.off && e.end <= s.end && !insertAtEdge {
			continue
		}
		out = append(out, e)
	}
	m.edits = out
}
