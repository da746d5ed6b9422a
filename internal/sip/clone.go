package sip

// Clone returns a copy of m with its own buffer, parsed again, so that it stays
// valid after the buffer m was parsed from is reused. Pending edits are applied.
func (m *Message) Clone() (*Message, error) {
	c := new(Message)
	buf := m.AppendTo(make([]byte, 0, len(m.buf)+len(m.scratch)))
	if err := Parse(buf, c); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseCopy parses a private copy of b.
func ParseCopy(b []byte) (*Message, error) {
	c := new(Message)
	if err := Parse(append([]byte(nil), b...), c); err != nil {
		return nil, err
	}
	return c, nil
}
