package sip

import "strconv"

// span is a half-open byte range [off, end) of Message.buf. The zero span is empty.
type span struct{ off, end uint32 }

func (s span) len() int { return int(s.end - s.off) }

// Header is one header line of a parsed message: its kind, and where its name and
// value lie in the message buffer. A header repeated in the message appears once per line.
type Header struct {
	Kind  HeaderKind
	name  span
	value span
	line  span // the whole line including its CRLF (and any folded continuation lines)
}

// NameAddr is a parsed name-addr or addr-spec (RFC 3261 §25.1): display name, URI and
// the header parameters that follow it. All slices alias the message buffer.
type NameAddr struct {
	Display []byte // unquoted form is not computed; quotes are kept if present
	URI     []byte
	Params  []byte // ";tag=x;expires=60" form, or empty
}

// Param returns the value of header parameter name (case-insensitive) and whether it is present.
func (n *NameAddr) Param(name string) ([]byte, bool) { return Param(n.Params, name) }

// Message is a parsed SIP request or response. Parse fills it in place and keeps
// references into the caller's buffer, so reading any routing field allocates nothing.
// A Message may be reused for the next Parse; its internal slices keep their capacity.
//
// Fields reached without allocation: the start line, the top Via, From and To (URI
// and tag), Call-ID, CSeq, Max-Forwards, Expires, Content-Length, and the header
// lines of Route, Record-Route and Contact. Every other header stays raw bytes
// until asked for with Get or Values.
type Message struct {
	buf     []byte
	request bool

	method    Method
	methodRaw span
	ruri      span
	status    int
	reason    span

	hdrs []Header
	body span

	Via           Via      // top Via (RFC 3261 §18.2.1, §20.42)
	From, To      NameAddr // parsed From and To (RFC 3261 §20.20, §20.39)
	FromTag       []byte
	ToTag         []byte
	CallID        []byte
	CSeq          uint32
	CSeqMethod    Method
	cseqMethodRaw []byte
	MaxForwards   int // -1 when absent
	Expires       int // -1 when absent
	ContentLength int // -1 when absent (UDP may omit it, RFC 3261 §18.3)

	first [hkCount]int16 // index into hdrs of the first header of each known kind, or -1

	hdrStart, hdrEnd int  // offsets of the first header line and of the empty line
	reasonSP         bool // the status line has a space before the reason phrase

	limits Limits // as passed to Parse, defaults filled in

	edits         []edit
	scratch       []byte
	viasRemoved   int
	routesRemoved int
}

// IsRequest reports whether m is a request.
func (m *Message) IsRequest() bool { return m.request }

// Method returns the request method (or Unknown for an extension method; see MethodName).
func (m *Message) Method() Method { return m.method }

// MethodName returns the method token as it appears on the start line.
func (m *Message) MethodName() []byte { return m.get(m.methodRaw) }

// RequestURI returns the Request-URI bytes of a request.
func (m *Message) RequestURI() []byte { return m.get(m.ruri) }

// StatusCode returns the status code of a response, 0 for a request.
func (m *Message) StatusCode() int { return m.status }

// Reason returns the reason phrase of a response.
func (m *Message) Reason() []byte { return m.get(m.reason) }

// Body returns the message body (Content-Length bytes, or the rest of a datagram).
func (m *Message) Body() []byte { return m.get(m.body) }

// Bytes returns the buffer the message was parsed from, without edits applied.
func (m *Message) Bytes() []byte { return m.buf[:m.body.end] }

// CSeqMethodName returns the method token of the CSeq header.
func (m *Message) CSeqMethodName() []byte { return m.cseqMethodRaw }

// Headers returns every header line in message order. The slice aliases m.
func (m *Message) Headers() []Header { return m.hdrs }

// HeaderName returns the name of h as written in the message.
func (m *Message) HeaderName(h *Header) []byte { return m.get(h.name) }

// HeaderValue returns the value of h with surrounding whitespace removed.
func (m *Message) HeaderValue(h *Header) []byte { return m.get(h.value) }

// Has reports whether a header of kind k is present.
func (m *Message) Has(k HeaderKind) bool { return k < hkCount && m.first[k] >= 0 }

// Get returns the value of the first header of kind k, or nil.
func (m *Message) Get(k HeaderKind) []byte {
	if k >= hkCount || m.first[k] < 0 {
		return nil
	}
	return m.get(m.hdrs[m.first[k]].value)
}

// GetByName returns the value of the first header whose name matches name
// (case-insensitive, compact forms understood), or nil.
func (m *Message) GetByName(name string) []byte {
	k := LookupHeader([]byte(name))
	if k != HdrOther {
		return m.Get(k)
	}
	for i := range m.hdrs {
		if equalFold(m.get(m.hdrs[i].name), name) {
			return m.get(m.hdrs[i].value)
		}
	}
	return nil
}

// Values returns an iterator over every comma-separated value of every header of
// kind k, in message order (RFC 3261 §7.3.1). It does not allocate.
func (m *Message) Values(k HeaderKind) ValueIter {
	start := -1
	if k < hkCount {
		start = int(m.first[k])
	}
	return ValueIter{m: m, kind: k, idx: start}
}

// Count returns how many values all headers of kind k carry.
func (m *Message) Count(k HeaderKind) int {
	n := 0
	it := m.Values(k)
	for _, ok := it.Next(); ok; _, ok = it.Next() {
		n++
	}
	return n
}

func (m *Message) get(s span) []byte {
	if s.end == 0 {
		return nil
	}
	return m.buf[s.off:s.end]
}

func (m *Message) spanOf(b []byte) span {
	if len(b) == 0 {
		return span{}
	}
	off := cap(m.buf) - cap(b)
	return span{uint32(off), uint32(off + len(b))}
}

// ValueIter walks the comma-separated values of one header kind.
type ValueIter struct {
	m    *Message
	kind HeaderKind
	idx  int
	rest []byte
}

// Next returns the next value, trimmed, and false when none is left.
func (it *ValueIter) Next() ([]byte, bool) {
	for {
		for len(it.rest) > 0 {
			v, rest := splitComma(it.rest)
			it.rest = rest
			if v = trimLWS(v); len(v) > 0 {
				return v, true
			}
		}
		if it.m == nil || it.idx < 0 {
			return nil, false
		}
		it.rest = it.m.get(it.m.hdrs[it.idx].value)
		it.idx = it.m.nextOfKind(it.kind, it.idx+1)
	}
}

func (m *Message) nextOfKind(k HeaderKind, from int) int {
	for i := from; i < len(m.hdrs); i++ {
		if m.hdrs[i].Kind == k {
			return i
		}
	}
	return -1
}

// String returns the message with pending edits applied, for logs and tests.
func (m *Message) String() string { return string(m.AppendTo(nil)) }

// StatusText returns the RFC 3261 §21 reason phrase for code, or "" if unknown.
func StatusText(code int) string { return statusText[code] }

// appendInt appends the decimal form of n.
func appendInt(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }
