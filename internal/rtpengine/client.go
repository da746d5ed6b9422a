package rtpengine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrUnreachable is wrapped by the error of a command that got no reply:
// rtpengine is down, not listening there (ICMP port unreachable), or too
// slow. A proxy answers such a call 503 with Retry-After.
var ErrUnreachable = errors.New("rtpengine unreachable")

// Error is a reply whose result is "error"; Reason is rtpengine's
// error-reason ("Unknown call-id", "Failed to parse SDP", ...).
type Error struct {
	Command string
	Reason  string
}

func (e *Error) Error() string {
	return "rtpengine " + e.Command + ": " + e.Reason
}

// Options tune a Client. Zero values take the defaults.
type Options struct {
	// Timeout is how long each try waits for the reply. Default 500ms.
	Timeout time.Duration
	// Tries is how many times a command is sent before giving up, with the
	// same cookie, so rtpengine answers a retransmission from its cache
	// instead of running the command twice. Default 3.
	Tries int
}

// Client sends ng commands to one rtpengine over UDP. It is safe for
// concurrent use and holds no socket between commands: each command dials
// its own UDP socket, so replies never need demultiplexing, a reload can
// drop a Client without closing anything, and an ICMP port unreachable
// fails the command at once.
type Client struct {
	addr    string // HOST:PORT
	timeout time.Duration
	tries   int
	prefix  string // random per Client, so cookies never repeat across restarts
	seq     atomic.Uint64
}

// New returns a client for spec, "udp:HOST:PORT" (the form Kamailio's
// rtpengine_sock uses) or "HOST:PORT"; HOST is an IP address, IPv6 in
// brackets, or a name resolved at each command.
func New(spec string, opts Options) (*Client, error) {
	addr, err := ParseAddr(spec)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 500 * time.Millisecond
	}
	if opts.Tries <= 0 {
		opts.Tries = 3
	}
	var b [6]byte
	rand.Read(b[:])
	return &Client{addr: addr, timeout: opts.Timeout, tries: opts.Tries, prefix: hex.EncodeToString(b[:])}, nil
}

// ParseAddr checks an rtpengine address, "udp:HOST:PORT" or "HOST:PORT",
// and returns HOST:PORT. Only UDP is spoken (the ng protocol's usual transport).
func ParseAddr(spec string) (string, error) {
	rest := spec
	if proto, after, ok := strings.Cut(spec, ":"); ok && isScheme(proto) {
		if !strings.EqualFold(proto, "udp") {
			return "", fmt.Errorf("rtpengine address %q: only udp is supported, not %s", spec, proto)
		}
		rest = after
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		return "", fmt.Errorf("rtpengine address %q: want udp:HOST:PORT: %v", spec, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("rtpengine address %q: port %q is not 1-65535", spec, port)
	}
	if host == "" {
		return "", fmt.Errorf("rtpengine address %q: no host", spec)
	}
	return net.JoinHostPort(host, port), nil
}

// isScheme reports whether s names a transport, as in "udp:HOST:PORT".
func isScheme(s string) bool {
	switch strings.ToLower(s) {
	case "udp", "tcp", "ws", "wss", "http", "https":
		return true
	}
	return false
}

// Addr returns the HOST:PORT commands go to.
func (c *Client) Addr() string { return c.addr }

// Do sends one command dictionary (it must hold "command") and returns the
// reply dictionary. A reply with result "error" is an *Error; no reply
// after every try, or a refused datagram, is an error wrapping
// ErrUnreachable. ctx bounds the whole exchange.
func (c *Client) Do(ctx context.Context, cmd map[string]any) (map[string]any, error) {
	name, _ := cmd["command"].(string)
	cookie := c.prefix + "_" + strconv.FormatUint(c.seq.Add(1), 10)
	msg, err := appendValue([]byte(cookie+" "), cmd)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", c.addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %v", ErrUnreachable, name, c.addr, err)
	}
	defer conn.Close()
	buf := make([]byte, 65536)
	for try := 1; try <= c.tries; try++ {
		if _, err := conn.Write(msg); err != nil {
			return nil, c.unreachable(name, err)
		}
		reply, err := c.await(ctx, conn, buf, cookie)
		switch {
		case err == nil:
			return result(name, reply)
		case errors.Is(err, syscall.ECONNREFUSED):
			return nil, c.unreachable(name, errors.New("connection refused (nothing listens there)"))
		case ctx.Err() != nil:
			return nil, c.unreachable(name, ctx.Err())
		case !errors.Is(err, errTry):
			return nil, err
		}
	}
	return nil, c.unreachable(name, fmt.Errorf("no reply after %d tries of %s", c.tries, c.timeout))
}

func (c *Client) unreachable(cmd string, err error) error {
	return fmt.Errorf("%w: %s to %s: %v", ErrUnreachable, cmd, c.addr, err)
}

// errTry ends one try without a reply.
var errTry = errors.New("try timed out")

// await reads until the reply carrying cookie arrives, the try's time is up
// or ctx ends. Datagrams with another cookie (late replies to nothing of
// ours) are skipped.
func (c *Client) await(ctx context.Context, conn net.Conn, buf []byte, cookie string) ([]byte, error) {
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetReadDeadline(deadline)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil, errTry
			}
			return nil, err
		}
		got, body, ok := bytes.Cut(buf[:n], []byte(" "))
		if ok && string(got) == cookie {
			return body, nil
		}
	}
}

// result decodes a reply and turns result "error" into an *Error.
func result(cmd string, body []byte) (map[string]any, error) {
	v, err := decode(body)
	if err != nil {
		return nil, fmt.Errorf("rtpengine %s: bad reply: %w", cmd, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("rtpengine %s: reply is not a dictionary", cmd)
	}
	switch r, _ := m["result"].(string); r {
	case "ok", "pong":
		return m, nil
	case "error":
		reason, _ := m["error-reason"].(string)
		return nil, &Error{Command: cmd, Reason: reason}
	default:
		return nil, fmt.Errorf("rtpengine %s: unexpected result %q", cmd, r)
	}
}

// Ping checks that rtpengine answers (result "pong").
func (c *Client) Ping(ctx context.Context) error {
	m, err := c.Do(ctx, map[string]any{"command": "ping"})
	if err == nil && m["result"] != "pong" {
		err = fmt.Errorf("rtpengine ping: result %q, want pong", m["result"])
	}
	return err
}

// Request names the call leg a command is about and carries its SDP.
type Request struct {
	CallID  string
	FromTag string
	ToTag   string         // answer: the To tag of the answer; delete: optional
	SDP     []byte         // offer and answer
	Params  map[string]any // further keys: ICE, DTLS, transport-protocol, flags, ... (see Profile)
}

func (r Request) dict(command string) map[string]any {
	m := make(map[string]any, len(r.Params)+5)
	for k, v := range r.Params {
		m[k] = v
	}
	m["command"], m["call-id"], m["from-tag"] = command, r.CallID, r.FromTag
	if r.ToTag != "" {
		m["to-tag"] = r.ToTag
	}
	if r.SDP != nil {
		m["sdp"] = r.SDP
	}
	return m
}

// Offer hands rtpengine the SDP offer of a call leg and returns the SDP to
// send on, which points at rtpengine's ports.
func (c *Client) Offer(ctx context.Context, r Request) ([]byte, error) {
	return c.sdp(ctx, "offer", r)
}

// Answer hands rtpengine the SDP answer (r.ToTag set) and returns the SDP
// to send back to the offerer.
func (c *Client) Answer(ctx context.Context, r Request) ([]byte, error) {
	return c.sdp(ctx, "answer", r)
}

func (c *Client) sdp(ctx context.Context, command string, r Request) ([]byte, error) {
	if len(r.SDP) == 0 {
		return nil, fmt.Errorf("rtpengine %s: no SDP", command)
	}
	m, err := c.Do(ctx, r.dict(command))
	if err != nil {
		return nil, err
	}
	sdp, _ := m["sdp"].(string)
	if sdp == "" {
		return nil, fmt.Errorf("rtpengine %s: reply without sdp", command)
	}
	return []byte(sdp), nil
}

// Delete ends a call in rtpengine: the whole call when r.FromTag is empty,
// else the leg of that tag (and r.ToTag, when set). Deleting a call
// rtpengine does not know is not an error (it answers ok and logs it), so a
// repeated delete is harmless.
func (c *Client) Delete(ctx context.Context, r Request) error {
	r.SDP = nil
	d := r.dict("delete")
	if r.FromTag == "" {
		delete(d, "from-tag")
	}
	_, err := c.Do(ctx, d)
	return err
}
