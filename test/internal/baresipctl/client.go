// Package baresipctl drives baresip 1.0 (Debian 12) for the tests that use
// it as a real SIP phone: its config directory (Config) and its ctrl_tcp
// module (Client), which speaks JSON in netstrings: commands with a token,
// answered by a response with the same token, and events sent as they
// happen. See /work/shared/notes/real-clients.md.
//
// The process itself is started and ended with internal/proctest; how long
// a test waits and what it does on failure stay with the test.
package baresipctl

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/proctest"
)

// cmdTimeout bounds the write of a command and the wait for its response.
const cmdTimeout = 5 * time.Second

// maxNetstring bounds one message from baresip (listcalls and *_debug
// outputs are a few KB).
const maxNetstring = 4 << 20

// Event is one ctrl_tcp event ("event": true), as decoded from JSON.
type Event map[string]any

// Str is the string field k, or "".
func (e Event) Str(k string) string {
	s, _ := e[k].(string)
	return s
}

// Type is the event type (REGISTER_OK, CALL_INCOMING, CALL_CLOSED, ...).
func (e Event) Type() string { return e.Str("type") }

// Param is the event's parameter (a reason, a status line).
func (e Event) Param() string { return e.Str("param") }

// ID is the call's id, for call events.
func (e Event) ID() string { return e.Str("id") }

// Peer is the remote URI, for call events.
func (e Event) Peer() string { return e.Str("peeruri") }

// Client is one ctrl_tcp connection. A goroutine reads it: events are kept
// for WaitEvent, responses go to the Do that waits for them.
type Client struct {
	name string // prefixes the errors: "alice/udp", "baresip carol"
	conn net.Conn

	cmdMu sync.Mutex // one Do at a time
	token int        // guarded by cmdMu

	mu        sync.Mutex
	events    []Event
	readErr   error               // set once the reader stopped
	responses chan map[string]any // closed when the reader stops
}

// Dial connects to ctrl_tcp at addr, trying until d has passed or exited
// (the process's Done) is closed, then starts reading. name prefixes the
// client's errors.
func Dial(name, addr string, d time.Duration, exited <-chan struct{}) (*Client, error) {
	var conn net.Conn
	gone := false
	proctest.WaitFor(d, func() bool {
		select {
		case <-exited:
			gone = true
			return true
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		conn = c
		return err == nil
	})
	switch {
	case conn != nil:
	case gone:
		return nil, fmt.Errorf("%s: exited before ctrl_tcp %s was up", name, addr)
	default:
		return nil, fmt.Errorf("%s: ctrl_tcp %s not up within %v", name, addr, d)
	}
	c := &Client{name: name, conn: conn, responses: make(chan map[string]any, 16)}
	go c.readLoop()
	return c, nil
}

// Close closes the connection; the reader stops.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) readLoop() {
	r := bufio.NewReader(c.conn)
	for {
		m, err := readNetstring(r)
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			close(c.responses)
			return
		}
		switch {
		case m["event"] == true:
			c.mu.Lock()
			c.events = append(c.events, Event(m))
			c.mu.Unlock()
		case m["response"] == true:
			select {
			case c.responses <- m:
			default: // nobody waits for it (Send)
			}
		}
	}
}

// readNetstring reads one netstring ("LEN:JSON,") and decodes its JSON.
func readNetstring(r *bufio.Reader) (map[string]any, error) {
	n, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	size, err := strconv.Atoi(strings.TrimSpace(n[:len(n)-1]))
	if err != nil || size < 0 || size > maxNetstring {
		return nil, fmt.Errorf("bad netstring length %q", n)
	}
	buf := make([]byte, size+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if buf[size] != ',' {
		return nil, errors.New("netstring without ','")
	}
	var m map[string]any
	return m, json.Unmarshal(buf[:size], &m)
}

// write sends one command as a netstring, within d.
func (c *Client) write(command, params, token string, d time.Duration) error {
	j, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": token})
	c.conn.SetWriteDeadline(time.Now().Add(d))
	_, err := fmt.Fprintf(c.conn, "%d:%s,", len(j), j)
	return err
}

// Do sends a command and waits up to 5 s for its response; it returns the
// response's data. A response with ok=false is an error (with the data).
func (c *Client) Do(command, params string) (string, error) {
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()
	c.token++
	tok := "t" + strconv.Itoa(c.token)
	if err := c.write(command, params, tok, cmdTimeout); err != nil {
		return "", fmt.Errorf("%s: ctrl_tcp %s: %v", c.name, command, err)
	}
	timeout := time.After(cmdTimeout)
	for {
		select {
		case m, ok := <-c.responses:
			if !ok {
				return "", fmt.Errorf("%s: ctrl_tcp closed during %s: %v", c.name, command, c.err())
			}
			if m["token"] != tok {
				continue
			}
			data, _ := m["data"].(string)
			if m["ok"] != true {
				return data, fmt.Errorf("%s: command %s %q failed: %s", c.name, command, params, strings.TrimSpace(data))
			}
			return data, nil
		case <-timeout:
			return "", fmt.Errorf("%s: no response to %s within %v", c.name, command, cmdTimeout)
		}
	}
}

// Send sends a command (its token is the command's name) within d and does
// not wait for a response: for quit, whose response may never come, and for
// tests that watch the events instead.
func (c *Client) Send(command, params string, d time.Duration) error {
	if err := c.write(command, params, command, d); err != nil {
		return fmt.Errorf("%s: ctrl_tcp %s: %v", c.name, command, err)
	}
	return nil
}

func (c *Client) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// Mark is the number of events so far; WaitEvent looks at later ones.
func (c *Client) Mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

// WaitEvent waits up to d for the first event after mark whose type is typ
// (or one of "A|B") and for which match (if not nil) is true. It looks at
// least once (d may be 0) and gives up early when ctrl_tcp is closed.
func (c *Client) WaitEvent(mark int, d time.Duration, typ string, match func(Event) bool) (Event, error) {
	var found Event
	types := strings.Split(typ, "|")
	proctest.WaitFor(d, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, e := range c.events[min(mark, len(c.events)):] {
			if slices.Contains(types, e.Type()) && (match == nil || match(e)) {
				found = e
				return true
			}
		}
		return c.readErr != nil
	})
	if found == nil {
		return nil, fmt.Errorf("%s: no %s event within %v (events since: %s)", c.name, typ, d, c.Summary(mark))
	}
	return found, nil
}

// Summary lists the types and params of the events after mark, without the
// periodic CALL_RTCP, and the read error if ctrl_tcp is closed.
func (c *Client) Summary(mark int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s []string
	for _, e := range c.events[min(mark, len(c.events)):] {
		if e.Type() == "CALL_RTCP" {
			continue
		}
		s = append(s, e.Type()+"("+e.Param()+")")
	}
	if c.readErr != nil {
		s = append(s, "ctrl_tcp: "+c.readErr.Error())
	}
	return "[" + strings.Join(s, " ") + "]"
}
