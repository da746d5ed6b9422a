package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/parley-sip/parley/internal/capture"
)

// captureItem is one captured SIP message, as the console's ladder diagram
// draws it.
type captureItem struct {
	Time      time.Time `json:"time"`
	Dir       string    `json:"dir"`       // "in" (received) or "out" (sent)
	Transport string    `json:"transport"` // UDP, TCP, TLS, WS or WSS
	Local     string    `json:"local"`     // Parley's end
	Remote    string    `json:"remote"`
	FirstLine string    `json:"first_line"`
	CallID    string    `json:"call_id"`
	Message   string    `json:"message"`
}

func captureItemOf(m *capture.Message) captureItem {
	dir := "out"
	if m.In {
		dir = "in"
	}
	return captureItem{Time: m.Time, Dir: dir, Transport: m.Transport.String(), Local: m.Local.String(),
		Remote: m.Remote.String(), FirstLine: string(capture.FirstLine(m.Data)), CallID: m.CallID(), Message: string(m.Data)}
}

// captureCall summarizes one Call-ID of the capture buffer.
type captureCall struct {
	CallID string    `json:"call_id"`
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
	Method string    `json:"method"` // of the first message held (a response's CSeq method)
	From   string    `json:"from"`
	To     string    `json:"to"`
	Count  int       `json:"count"`
}

// captureLimit reads ?limit= (default def, 1 to most).
func captureLimit(r *http.Request, def, most int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, errorf(http.StatusBadRequest, "limit must be a number from 1 to %d", most)
	}
	return n, nil
}

func (a *API) captureRing() (*capture.Ring, error) {
	if a.svc.Capture == nil {
		return nil, errorf(http.StatusNotFound, "SIP capture is off (limits.capture_messages is 0)")
	}
	return a.svc.Capture, nil
}

// listCapture returns captured messages in time order: those of one call
// (?call_id=X), or the most recent ones; at most ?limit= (default 1000), the
// latest kept. total counts the messages that matched.
func (a *API) listCapture(w http.ResponseWriter, r *http.Request) error {
	ring, err := a.captureRing()
	if err != nil {
		return err
	}
	limit, err := captureLimit(r, 1000, 10000)
	if err != nil {
		return err
	}
	var ms []capture.Message
	total := 0
	if id := r.URL.Query().Get("call_id"); id != "" {
		ms = ring.Messages(id)
		total = len(ms)
		ms = ms[max(len(ms)-limit, 0):]
	} else {
		total = ring.Len()
		ms = ring.Recent(limit)
	}
	out := list[captureItem]{Items: make([]captureItem, 0, len(ms)), Total: total}
	for i := range ms {
		out.Items = append(out.Items, captureItemOf(&ms[i]))
	}
	return writeJSON(w, http.StatusOK, out)
}

// listCaptureCalls returns the Call-IDs in the capture buffer, the most
// recently active first, at most ?limit= (default 100).
func (a *API) listCaptureCalls(w http.ResponseWriter, r *http.Request) error {
	ring, err := a.captureRing()
	if err != nil {
		return err
	}
	limit, err := captureLimit(r, 100, 1000)
	if err != nil {
		return err
	}
	cs := ring.Calls(0)
	out := list[captureCall]{Items: []captureCall{}, Total: len(cs)}
	for _, c := range cs[:min(limit, len(cs))] {
		out.Items = append(out.Items, captureCall{CallID: c.CallID, First: c.First, Last: c.Last, Method: c.Method,
			From: c.From, To: c.To, Count: c.Count})
	}
	return writeJSON(w, http.StatusOK, out)
}
