package capture

import (
	"bytes"
	"slices"
	"strings"
	"time"
)

// span is a part of a message, by offsets.
type span struct{ start, end int }

func (s span) of(b []byte) []byte { return b[s.start:s.end] }

// findCallID returns where the Call-ID value is (RFC 3261 §20.8, compact
// form "i"), or an empty span. It is the cheap scan done for every message:
// header lines only, no parse.
func findCallID(b []byte) span { return findHeader(b, "Call-ID", "i") }

// findHeader returns the value of the first header line called name or
// short (case-insensitive, §7.3.1; short may be ""), trimmed, or an empty span. Folded
// continuation lines are not joined: Parley only shows these values.
func findHeader(b []byte, name, short string) span {
	i := bytes.IndexByte(b, '\n') + 1 // skip the start line
	for i > 0 && i < len(b) {
		end := bytes.IndexByte(b[i:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += i
		}
		line := bytes.TrimRight(b[i:end], "\r")
		if len(line) == 0 {
			break // end of the header section
		}
		if c := line[0] | 0x20; c == name[0]|0x20 || short != "" && c == short[0]|0x20 {
			if s, ok := valueOf(line, name, short); ok {
				return span{i + s.start, i + s.end}
			}
		}
		i = end + 1
	}
	return span{}
}

// valueOf returns the value span of a header line called name or short.
func valueOf(line []byte, name, short string) (span, bool) {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return span{}, false
	}
	n := bytes.TrimRight(line[:colon], " \t") // HCOLON allows blanks before ':' (§25.1)
	if !bytes.EqualFold(n, []byte(name)) && (short == "" || !bytes.EqualFold(n, []byte(short))) {
		return span{}, false
	}
	start, end := colon+1, len(line)
	for start < end && (line[start] == ' ' || line[start] == '\t') {
		start++
	}
	for end > start && (line[end-1] == ' ' || line[end-1] == '\t') {
		end--
	}
	return span{start, end}, true
}

// FirstLine returns the request or status line.
func FirstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimRight(b, "\r")
}

// Method returns a request's method, or for a response the method of its
// CSeq (§20.16).
func Method(b []byte) string {
	line := FirstLine(b)
	if !bytes.HasPrefix(line, []byte("SIP/2.0 ")) {
		m, _, _ := bytes.Cut(line, []byte(" "))
		return string(m)
	}
	f := bytes.Fields(findHeader(b, "CSeq", "").of(b))
	if len(f) < 2 {
		return ""
	}
	return string(f[1])
}

// Call summarizes the messages of one Call-ID held in a Ring.
type Call struct {
	CallID string
	First  time.Time // time of the first message held
	Last   time.Time // time of the last one
	Method string    // method of the first message (a response's CSeq method)
	From   string    // From and To of the first message
	To     string
	Count  int
}

// Calls returns the Call-IDs of the messages held, the most recently active
// first, at most limit of them. Messages without a Call-ID are left out.
func (r *Ring) Calls(limit int) []Call {
	if r == nil {
		return nil
	}
	byID := make(map[string]*Call)
	for _, m := range r.Recent(r.Len()) { // a snapshot: the taps wait only for the copy
		id := m.callID.of(m.Data)
		if len(id) == 0 {
			continue
		}
		c := byID[string(id)]
		if c == nil {
			c = &Call{CallID: string(id), First: m.Time, Method: Method(m.Data),
				From: string(findHeader(m.Data, "From", "f").of(m.Data)), To: string(findHeader(m.Data, "To", "t").of(m.Data))}
			byID[c.CallID] = c
		}
		c.Last = m.Time
		c.Count++
	}
	out := make([]Call, 0, len(byID))
	for _, c := range byID {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Call) int {
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		return strings.Compare(a.CallID, b.CallID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}
