package test

import (
	"regexp"
	"strconv"
	"strings"
)

// sipMsg is a received or sent message split into its parts.
type sipMsg struct {
	raw   string
	start string
	hdrs  [][2]string // name, value in order
	body  string
}

var compactNames = map[string]string{"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
	"l": "content-length", "c": "content-type", "k": "supported", "o": "event", "r": "refer-to",
	"s": "subject", "e": "content-encoding", "u": "allow-events", "b": "referred-by"}

// parseMsg splits a message; compact header names become long ones, lowercase.
func parseMsg(raw string) *sipMsg {
	head, body, _ := strings.Cut(raw, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	m := &sipMsg{raw: raw, start: lines[0], body: body}
	for _, l := range lines[1:] {
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(m.hdrs) > 0 {
			m.hdrs[len(m.hdrs)-1][1] += " " + strings.TrimSpace(l) // folded line
			continue
		}
		n, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		n = strings.ToLower(strings.TrimSpace(n))
		if long, ok := compactNames[n]; ok {
			n = long
		}
		m.hdrs = append(m.hdrs, [2]string{n, strings.TrimSpace(v)})
	}
	return m
}

func (m *sipMsg) isRequest() bool { return !strings.HasPrefix(m.start, "SIP/2.0 ") }

func (m *sipMsg) method() string { f := strings.Fields(m.start); return f[0] }

func (m *sipMsg) ruri() string {
	f := strings.Fields(m.start)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

func (m *sipMsg) code() int { return statusCode(m.raw) }

// reason is the reason phrase of a response.
func (m *sipMsg) reason() string {
	if len(m.start) < 12 {
		return ""
	}
	return m.start[12:]
}

// lines returns the values of every header line called name, unsplit.
func (m *sipMsg) lines(name string) []string {
	name = strings.ToLower(name)
	var out []string
	for _, h := range m.hdrs {
		if h[0] == name {
			out = append(out, h[1])
		}
	}
	return out
}

// get returns the first header line called name, "" when absent.
func (m *sipMsg) get(name string) string {
	if l := m.lines(name); len(l) > 0 {
		return l[0]
	}
	return ""
}

// list returns every value of a comma-separated header (Via, Route,
// Record-Route, Contact), across lines and commas.
func (m *sipMsg) list(name string) []string {
	var out []string
	for _, l := range m.lines(name) {
		out = append(out, splitComma(l)...)
	}
	return out
}

// cseq returns the CSeq number and method.
func (m *sipMsg) cseq() (int, string) {
	n, meth, _ := strings.Cut(m.get("CSeq"), " ")
	v, _ := strconv.Atoi(n)
	return v, strings.TrimSpace(meth)
}

func (m *sipMsg) cseqMethod() string { _, meth := m.cseq(); return meth }

// maxForwards returns the Max-Forwards value, -1 when absent.
func (m *sipMsg) maxForwards() int {
	v, err := strconv.Atoi(m.get("Max-Forwards"))
	if err != nil {
		return -1
	}
	return v
}

// splitComma splits a header value at commas outside <> and quotes.
func splitComma(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' && (i == 0 || s[i-1] != '\\'):
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// uriOf returns the URI of a name-addr or addr-spec header value.
func uriOf(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	u, _, _ := strings.Cut(v, ";")
	return strings.TrimSpace(u)
}

// paramOf returns a header parameter (after the URI) of a header value.
func paramOf(v, name string) string {
	if i := strings.LastIndexByte(v, '>'); i >= 0 {
		v = v[i+1:]
	} else if _, rest, ok := strings.Cut(v, ";"); ok {
		v = ";" + rest
	}
	re := regexp.MustCompile(`(?i);\s*` + regexp.QuoteMeta(name) + `(?:=([^;,\s]*))?`)
	if sm := re.FindStringSubmatch(v); sm != nil {
		if sm[1] == "" {
			return "1" // a flag parameter
		}
		return sm[1]
	}
	return ""
}

// uriParam reports whether URI u has parameter name, and its value.
func uriParam(u, name string) (string, bool) {
	_, params, _ := strings.Cut(u, ";")
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return v, true
		}
	}
	return "", false
}
