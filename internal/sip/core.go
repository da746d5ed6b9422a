package sip

// parseCore parses the headers a proxy routes on (RFC 3261 §8.1.1, §16.3): the
// top Via, From, To, Call-ID, CSeq, Max-Forwards, Expires and Content-Length.
// Other headers are left as raw bytes; Validate checks the rest.
func (m *Message) parseCore(maxValues int) error {
	steps := [...]func(*Message, int) error{
		(*Message).parseTopVia, (*Message).parseFromTo, (*Message).parseCallID,
		(*Message).parseCSeq, (*Message).parseScalars,
	}
	for _, step := range steps {
		if err := step(m, maxValues); err != nil {
			return err
		}
	}
	return nil
}

// HasUsableVia reports whether the sent-by of the top Via was parsed, so that a
// response can be sent even when the rest of the message (or the top Via's
// parameters) is malformed (§18.2.2, RFC 4475 §3.1.2).
func (m *Message) HasUsableVia() bool { return len(m.Via.Host) > 0 }

func (m *Message) parseTopVia(int) error {
	it := m.Values(HdrVia)
	v, ok := it.Next()
	if !ok {
		return errNoVia
	}
	via, err := ParseVia(v)
	if err != nil {
		if err == errViaParams {
			m.Via = via // sent-by is good: the 400 can still be sent
		}
		return errVia
	}
	m.Via = via
	return nil
}

// Validate checks what Parse leaves for later: the syntax of every Via, Contact,
// Route and Record-Route value, and their number (at most l.MaxValues each).
// A header line of these kinds with no value at all is malformed too.
// A server calls it before acting on those headers itself (registrar, proxy
// route processing); a proxy that only relays them need not.
func (l Limits) Validate(m *Message) error {
	l = l.withDefaults()
	if err := m.checkEmptyLines(); err != nil {
		return err
	}
	it := m.Values(HdrVia)
	n := 0
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		if n++; n > l.MaxValues {
			return errTooManyValues
		}
		if _, err := ParseVia(v); err != nil {
			return errVia
		}
	}
	return m.parseAddrLists(l.MaxValues)
}

// Validate checks m with the limits it was parsed with (see Limits.Validate),
// so that a server's configured limits apply without being passed around.
func (m *Message) Validate() error { return m.limits.Validate(m) }

func (m *Message) parseFromTo(int) error {
	if m.dup(HdrFrom) || m.dup(HdrTo) {
		return errDuplicateHeader
	}
	if !m.Has(HdrFrom) || !m.Has(HdrTo) {
		return errNoFromTo
	}
	var err error
	if m.From, err = ParseNameAddr(m.Get(HdrFrom)); err != nil {
		return errFrom
	}
	if m.To, err = ParseNameAddr(m.Get(HdrTo)); err != nil {
		return errTo
	}
	m.FromTag, _ = m.From.Param("tag")
	m.ToTag, _ = m.To.Param("tag")
	return nil
}

func (m *Message) parseCallID(int) error {
	if m.dup(HdrCallID) {
		return errDuplicateHeader
	}
	id := m.Get(HdrCallID)
	if len(id) == 0 {
		return errCallID
	}
	for _, c := range id {
		if !wordChars[c] && c != '@' {
			return errCallID
		}
	}
	m.CallID = id
	return nil
}

// parseCSeq checks "CSeq: 1*DIGIT LWS Method" (§20.16): the number is below 2**31
// and the method matches the request's (§8.1.1.5, RFC 4475 §3.1.2.17).
func (m *Message) parseCSeq(int) error {
	if m.dup(HdrCSeq) {
		return errDuplicateHeader
	}
	v := m.Get(HdrCSeq)
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	n, ok := parseUint(v[:i], 1<<31-1)
	meth := trimLWS(v[i:])
	if !ok || i == len(v) || !isWS(v[i]) || !isToken(meth) {
		return errCSeq
	}
	m.CSeq, m.cseqMethodRaw = uint32(n), meth
	m.CSeqMethod = LookupMethod(meth)
	if m.request && string(meth) != string(m.MethodName()) {
		if m.method == MethodUnknown {
			return errCSeqUnknownMethod // RFC 4475 §3.1.2.18: 501 is the better answer
		}
		return errCSeqMethod
	}
	return nil
}

// parseScalars reads Max-Forwards (0-255, §20.22), Expires (32-bit, §20.19) and
// Content-Length (§20.14).
func (m *Message) parseScalars(int) error {
	if m.dup(HdrMaxForwards) || m.dup(HdrContentLength) {
		return errDuplicateHeader
	}
	if v := m.Get(HdrMaxForwards); m.Has(HdrMaxForwards) {
		n, ok := parseUint(v, 255)
		if !ok {
			return errMaxForwards
		}
		m.MaxForwards = int(n)
	}
	if v := m.Get(HdrExpires); m.Has(HdrExpires) {
		n, ok := parseUint(v, 1<<32-1)
		if !ok {
			return errExpires
		}
		m.Expires = int(n)
	}
	if v := m.Get(HdrContentLength); m.Has(HdrContentLength) {
		n, ok := parseUint(v, 1<<31-1)
		if !ok {
			return errContentLength
		}
		m.ContentLength = int(n)
	}
	return nil
}

// checkEmptyLines rejects a Via, Contact, Route or Record-Route line without a
// value: each of them holds at least one (§25.1).
func (m *Message) checkEmptyLines() error {
	for i := range m.hdrs {
		h := &m.hdrs[i]
		if h.value.len() > 0 {
			continue
		}
		switch h.Kind {
		case HdrVia:
			return errVia
		case HdrContact:
			return errContact
		case HdrRoute:
			return errRoute
		case HdrRecordRoute:
			return errRecordRoute
		}
	}
	return nil
}

// parseAddrLists checks each Contact, Route and Record-Route value. "Contact: *"
// is accepted here; the registrar decides whether it is allowed (§10.3 step 6).
func (m *Message) parseAddrLists(maxValues int) error {
	lists := [...]struct {
		k   HeaderKind
		err *ParseError
	}{{HdrContact, errContact}, {HdrRoute, errRoute}, {HdrRecordRoute, errRecordRoute}}
	for _, l := range lists {
		it := m.Values(l.k)
		n := 0
		for v, ok := it.Next(); ok; v, ok = it.Next() {
			if n++; n > maxValues {
				return errTooManyValues
			}
			if l.k == HdrContact && len(v) == 1 && v[0] == '*' {
				continue
			}
			if _, err := ParseNameAddr(v); err != nil {
				return l.err
			}
		}
		if n == 0 && m.Has(l.k) {
			return l.err // only commas
		}
	}
	return nil
}

// dup reports whether a single-value header appears on more than one line.
func (m *Message) dup(k HeaderKind) bool {
	f := m.first[k]
	return f >= 0 && m.nextOfKind(k, int(f)+1) >= 0
}
