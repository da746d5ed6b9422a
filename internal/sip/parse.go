package sip

import (
	"bytes"
	"math"
)

// ParseError is a message that could not be parsed. Its fields are unexported
// so that the shared error values below cannot be changed by a caller.
type ParseError struct {
	code   int
	reason string
}

// Code is the status a server answers with: 400, or 505 for a wrong SIP
// version (501 for an unknown CSeq method).
func (e *ParseError) Code() int { return e.code }

// Reason is a reason phrase that says what is wrong, e.g. "Bad CSeq Header".
func (e *ParseError) Reason() string { return e.reason }

func (e *ParseError) Error() string { return e.reason }

func perr(code int, reason string) *ParseError { return &ParseError{code, reason} }

// Parse errors. They are allocated once so that a failed parse does not
// allocate, and unexported so that no caller can replace them; callers use
// errors.As with *ParseError and read Code and Reason.
var (
	errEmpty             = perr(400, "Empty Message")
	errNoHeaderEnd       = perr(400, "Incomplete Header Section")
	errStartLine         = perr(400, "Bad Start Line")
	errMethod            = perr(400, "Bad Method")
	errRequestURI        = perr(400, "Bad Request-URI")
	errURIHeaders        = perr(400, "Request-URI Must Not Have Headers")
	errVersion           = perr(505, "Version Not Supported")
	errStatusCode        = perr(400, "Bad Status Code")
	errHeaderLine        = perr(400, "Malformed Header Line")
	errTooManyHeaders    = perr(400, "Too Many Headers")
	errVia               = perr(400, "Bad Via Header")
	errNoVia             = perr(400, "Missing Via Header")
	errFrom              = perr(400, "Bad From Header")
	errTo                = perr(400, "Bad To Header")
	errNoFromTo          = perr(400, "Missing From or To Header")
	errCallID            = perr(400, "Bad Call-ID Header")
	errCSeq              = perr(400, "Bad CSeq Header")
	errCSeqMethod        = perr(400, "CSeq Method Does Not Match")
	errCSeqUnknownMethod = perr(501, "Not Implemented")
	errMaxForwards       = perr(400, "Bad Max-Forwards Header")
	errExpires           = perr(400, "Bad Expires Header")
	errContentLength     = perr(400, "Bad Content-Length Header")
	errContentTooLong    = perr(400, "Content-Length Larger Than Message")
	errContact           = perr(400, "Bad Contact Header")
	errRoute             = perr(400, "Bad Route Header")
	errRecordRoute       = perr(400, "Bad Record-Route Header")
	errDuplicateHeader   = perr(400, "Duplicate Single-Value Header")
	errTooManyValues     = perr(400, "Too Many Header Values")
)

// Default limits, used for a zero Limits field.
const (
	DefaultMaxHeaders = 128
	DefaultMaxValues  = 64
)

// Limits bound the work one message can cause. A zero field means its default.
type Limits struct {
	MaxHeaders int // header lines; default DefaultMaxHeaders
	MaxValues  int // values in one Contact/Route/Record-Route/Via list; default DefaultMaxValues
}

// DefaultLimits returns the limits Parse uses.
func DefaultLimits() Limits { return Limits{}.withDefaults() }

// withDefaults returns l with zero (or negative) fields set to their defaults
// and MaxHeaders capped to what Message can index.
func (l Limits) withDefaults() Limits {
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	if l.MaxValues <= 0 {
		l.MaxValues = DefaultMaxValues
	}
	if l.MaxHeaders > math.MaxInt16 {
		l.MaxHeaders = math.MaxInt16 // Message.first holds int16 indexes
	}
	return l
}

// Parse parses one SIP message from buf into m with the default limits. See Limits.Parse.
func Parse(buf []byte, m *Message) error { return Limits{}.Parse(buf, m) }

// Parse parses one SIP message from buf into m (RFC 3261 §7, §20, §25). m keeps
// references into buf, and buf is modified in place: line folds (CRLF followed by
// whitespace, §7.3.1) are replaced by spaces. A datagram's bytes after
// Content-Length are ignored (§18.3). On error m still holds whatever was parsed
// (after a bad start line too: the header lines and the top Via are still read),
// so that a server can answer a malformed request statelessly: see HasUsableVia.
// Parse never reads outside buf and does not allocate when m is reused.
// m remembers l: Message.Validate and Message.Clone apply the same limits.
func (l Limits) Parse(buf []byte, m *Message) error {
	l = l.withDefaults()
	m.reset(buf)
	m.limits = l
	pos := skipLeadingCRLF(buf)
	if pos >= len(buf) {
		return errEmpty
	}
	line, next := lineAt(buf, pos)
	if next < 0 {
		return errNoHeaderEnd
	}
	startErr := m.parseStartLine(line)
	m.hdrStart = next
	bodyStart, err := m.splitHeaders(next, l.MaxHeaders)
	if startErr != nil || err != nil {
		// Best effort, so that a malformed request can still be answered
		// statelessly (RFC 4475 §3.1.2: 400 or 505 to the top Via).
		m.parseCore(l.MaxValues)
		if startErr != nil {
			return startErr
		}
		return err
	}
	if err := m.parseCore(l.MaxValues); err != nil {
		return err
	}
	return m.setBody(bodyStart)
}

// skipLeadingCRLF skips the CRLFs (or bare LFs) before the start line (§7.5).
func skipLeadingCRLF(buf []byte) int {
	pos := 0
	for {
		switch {
		case pos+1 < len(buf) && buf[pos] == '\r' && buf[pos+1] == '\n':
			pos += 2
		case pos < len(buf) && buf[pos] == '\n':
			pos++
		default:
			return pos
		}
	}
}

func (m *Message) reset(buf []byte) {
	hdrs, edits, scratch := m.hdrs[:0], m.edits[:0], m.scratch[:0]
	*m = Message{hdrs: hdrs, edits: edits, scratch: scratch, buf: buf}
	m.MaxForwards, m.Expires, m.ContentLength = -1, -1, -1
	m.Via.TTL = -1
	for i := range m.first {
		m.first[i] = -1
	}
}

// lineAt returns the line starting at pos without its line ending, and the
// position after the line ending (-1 if there is none). A bare LF is accepted.
func lineAt(buf []byte, pos int) (span, int) {
	i := bytes.IndexByte(buf[pos:], '\n')
	if i < 0 {
		return span{}, -1
	}
	i += pos
	end := i
	if end > pos && buf[end-1] == '\r' {
		end--
	}
	return span{uint32(pos), uint32(end)}, i + 1
}

// parseStartLine parses a Request-Line (§7.1) or Status-Line (§7.2). Exactly one
// SP separates the elements; anything else is malformed (RFC 4475 §3.1.2.7-9).
func (m *Message) parseStartLine(s span) error {
	line := m.buf[s.off:s.end]
	if len(line) > 4 && equalFold(line[:4], "SIP/") {
		return m.parseStatusLine(s)
	}
	m.request = true
	sp1 := indexByte(line, ' ')
	sp2 := lastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1 {
		return errStartLine
	}
	method, uri, ver := line[:sp1], line[sp1+1:sp2], line[sp2+1:]
	if !isToken(method) {
		return errMethod
	}
	// The method is kept even if the rest is bad, so that a server never answers an ACK.
	m.methodRaw = span{s.off, s.off + uint32(sp1)}
	m.method = LookupMethod(method)
	if err := checkVersion(ver); err != nil {
		return err
	}
	if len(uri) == 0 || uri[0] == ' ' || uri[len(uri)-1] == ' ' {
		return errStartLine // more than one SP between elements
	}
	u, err := ParseURI(uri)
	if err != nil {
		return errRequestURI
	}
	if u.IsSIP() && u.Headers != nil {
		return errURIHeaders
	}
	m.ruri = span{s.off + uint32(sp1) + 1, s.off + uint32(sp2)}
	return nil
}

func (m *Message) parseStatusLine(s span) error {
	line := m.buf[s.off:s.end]
	sp1 := indexByte(line, ' ')
	if sp1 < 0 {
		return errStartLine
	}
	if err := checkVersion(line[:sp1]); err != nil {
		return err
	}
	rest := line[sp1+1:]
	code := rest
	m.reason = span{s.end, s.end}
	if sp := indexByte(rest, ' '); sp >= 0 {
		code = rest[:sp]
		m.reason, m.reasonSP = span{s.off + uint32(sp1+1+sp+1), s.end}, true
	}
	n, ok := parseUint(code, 999)
	if !ok || len(code) != 3 || n < 100 || n > 699 {
		return errStatusCode
	}
	m.status = int(n)
	return nil
}

func checkVersion(v []byte) error {
	if equalFold(v, "SIP/2.0") {
		return nil
	}
	if len(v) > 4 && equalFold(v[:4], "SIP/") {
		return errVersion
	}
	return errStartLine
}

func lastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// splitHeaders records every header line from pos to the empty line and returns
// where the body starts. Folded lines are joined in place.
func (m *Message) splitHeaders(pos, max int) (int, error) {
	buf := m.buf
	for {
		s, next := lineAt(buf, pos)
		if next < 0 {
			return 0, errNoHeaderEnd
		}
		if s.len() == 0 {
			m.hdrEnd = int(s.off)
			return next, nil
		}
		for next < len(buf) && isWS(buf[next]) { // §7.3.1 line folding
			for i := int(s.end); i < next; i++ {
				buf[i] = ' '
			}
			s2, n2 := lineAt(buf, next)
			if n2 < 0 {
				return 0, errNoHeaderEnd
			}
			s.end, next = s2.end, n2
		}
		if len(m.hdrs) >= max {
			return 0, errTooManyHeaders
		}
		if err := m.addHeader(s, next); err != nil {
			return 0, err
		}
		pos = next
	}
}

func (m *Message) addHeader(s span, next int) error {
	line := m.buf[s.off:s.end]
	colon := indexByte(line, ':')
	if colon <= 0 {
		return errHeaderLine
	}
	name := line[:colon]
	for len(name) > 0 && isWS(name[len(name)-1]) {
		name = name[:len(name)-1]
	}
	if !isToken(name) {
		return errHeaderLine
	}
	rest := line[colon+1:]
	val := trimLWS(rest) // a stray CR is trimmed as well as SP and HTAB
	h := Header{Kind: LookupHeader(name), name: span{s.off, s.off + uint32(len(name))},
		line: span{s.off, uint32(next)}}
	if len(val) > 0 {
		voff := s.off + uint32(colon+1+cap(rest)-cap(val)) // where val starts in rest
		h.value = span{voff, voff + uint32(len(val))}
	} else {
		h.value = span{s.end, s.end}
	}
	if h.Kind != HdrOther && m.first[h.Kind] < 0 {
		m.first[h.Kind] = int16(len(m.hdrs))
	}
	m.hdrs = append(m.hdrs, h)
	return nil
}

// setBody applies Content-Length (§20.14, §18.3): the body is exactly that long;
// a datagram with fewer bytes is malformed (RFC 4475 §3.1.2.2), extra bytes are dropped.
func (m *Message) setBody(start int) error {
	rest := len(m.buf) - start
	if m.ContentLength < 0 {
		m.body = span{uint32(start), uint32(len(m.buf))}
		return nil
	}
	if m.ContentLength > rest {
		return errContentTooLong
	}
	m.body = span{uint32(start), uint32(start + m.ContentLength)}
	return nil
}
