package capture

import (
	"net/netip"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/transport"
)

// MaxBytes bounds the message bytes a Ring holds, whatever its length.
const MaxBytes = 64 << 20

// Message is one captured SIP message.
type Message struct {
	Time      time.Time
	In        bool // received (true) or sent
	Transport transport.Proto
	Local     netip.AddrPort // our end: a UDP listener's bound address or the connection's local end
	Remote    netip.AddrPort
	Data      []byte // the whole message, a private copy
	callID    span   // the Call-ID value within Data
}

// CallID returns the message's Call-ID, or "" when it has none.
// clone returns m with a copy of Data: the ring reuses its buffers.
func (m *Message) clone() Message {
	c := *m
	c.Data = append([]byte(nil), m.Data...)
	return c
}

func (m *Message) CallID() string { return string(m.callID.of(m.Data)) }

// Ring is a bounded buffer of recent messages, safe for concurrent use. A nil
// *Ring captures nothing.
type Ring struct {
	maxBytes int
	now      func() time.Time

	mu    sync.Mutex
	buf   []Message // circular; the oldest at head
	head  int
	n     int // messages held
	bytes int // their total length
}

// New returns a ring of size messages, or nil when size <= 0 (capture off).
func New(size int) *Ring {
	if size <= 0 {
		return nil
	}
	return &Ring{maxBytes: MaxBytes, now: time.Now, buf: make([]Message, size)}
}

// Tap records one message; its signature is transport.Config.Tap's. data is copied.
func (r *Ring) Tap(in bool, p transport.Proto, local, remote netip.AddrPort, data []byte) {
	if r == nil || len(data) > r.maxBytes {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.n > 0 && (r.n == len(r.buf) || r.bytes+len(data) > r.maxBytes) {
		r.dropOldest()
	}
	slot := &r.buf[(r.head+r.n)%len(r.buf)]
	// The slot's old buffer is reused when it fits without wasting much:
	// the ring then allocates nothing per message once it has wrapped.
	buf := slot.Data[:0]
	if cap(buf) < len(data) || cap(buf) > 2*len(data)+512 {
		buf = make([]byte, 0, len(data))
	}
	buf = append(buf, data...)
	// Time is taken under mu, so that ring order is time order.
	*slot = Message{Time: r.now(), In: in, Transport: p, Local: local, Remote: remote, Data: buf, callID: findCallID(buf)}
	r.n++
	r.bytes += len(buf)
}

func (r *Ring) dropOldest() {
	r.bytes -= len(r.buf[r.head].Data)
	r.buf[r.head] = Message{Data: r.buf[r.head].Data[:0]} // the buffer is kept for reuse
	r.head = (r.head + 1) % len(r.buf)
	r.n--
}

// Len returns how many messages the ring holds.
func (r *Ring) Len() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// each calls f for every message held, oldest first, until f returns false.
// mu must be held; f must not keep m.Data beyond the call unless it copies it.
func (r *Ring) each(f func(m *Message) bool) {
	for i := range r.n {
		if !f(&r.buf[(r.head+i)%len(r.buf)]) {
			return
		}
	}
}

// Messages returns the messages of a call, oldest first. Data is shared
// with the ring, which never modifies it: callers must not either.
func (r *Ring) Messages(callID string) []Message {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Message
	r.each(func(m *Message) bool {
		if string(m.callID.of(m.Data)) == callID {
			out = append(out, m.clone())
		}
		return true
	})
	return out
}

// Recent returns the last n messages (at most), oldest first, shared as in Messages.
func (r *Ring) Recent(n int) []Message {
	if r == nil || n <= 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	skip := max(r.n-n, 0)
	out := make([]Message, 0, r.n-skip)
	for i := skip; i < r.n; i++ {
		out = append(out, r.buf[(r.head+i)%len(r.buf)].clone())
	}
	return out
}
