package sip

// Clone returns a copy of m with its own buffer, parsed again, so that it stays
// valid after the buffer m was parsed from is reused. Pending edits are applied.
// The copy is parsed with the limits m was parsed with.
func (m *Message) Clone() (*Message, error) {
	c := &Message{hdrs: make([]Header, 0, len(m.hdrs)+2)} // the index at its size: no growth, no garbage
	buf := m.AppendTo(make([]byte, 0, len(m.buf)+len(m.scratch)))
	if err := m.limits.Parse(buf, c); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseCopy parses a private copy of b with the default limits.
func ParseCopy(b []byte) (*Message, error) { return Limits{}.ParseCopy(b) }

// ParseCopy parses a private copy of b with limits l.
func (l Limits) ParseCopy(b []byte) (*Message, error) {
	c := new(Message)
	if err := l.Parse(append([]byte(nil), b...), c); err != nil {
		return nil, err
	}
	return c, nil
}
