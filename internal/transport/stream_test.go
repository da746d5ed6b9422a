package transport

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// chunkReader returns one chunk per Read, then io.EOF.
type chunkReader struct{ chunks []string }

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; r.chunks[0] == "" {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

// frameAll runs a framer over chunks and returns what it produced: messages
// as they are, pings as "PING" and pongs as "PONG".
func frameAll(chunks []string, maxHeader, maxMsg int) ([]string, error) {
	f := newFramer(maxHeader, maxMsg)
	r := &chunkReader{chunks: slices.Clone(chunks)}
	var out []string
	for {
		for {
			kind, msg, err := f.next()
			if err != nil {
				return out, err
			}
			if kind == frameNeedMore {
				break
			}
			out = append(out, map[frameKind]string{framePing: "PING", framePong: "PONG", frameMessage: string(msg)}[kind])
		}
		if err := f.fill(r); err != nil {
			return out, nil
		}
	}
}

func TestFramer(t *testing.T) {
	m1 := optionsMsg("TCP", "1")
	m2 := msgWithBody("hello")
	tests := []struct {
		name    string
		chunks  []string
		max     int // max message size; 0 means 65535
		want    []string
		wantErr error
	}{
		{"one message", []string{m1}, 0, []string{m1}, nil},
		{"body", []string{m2}, 0, []string{m2}, nil},
		{"two in one read", []string{m1 + m2}, 0, []string{m1, m2}, nil},
		{"split header", []string{m1[:10], m1[10:40], m1[40:]}, 0, []string{m1}, nil},
		{"split in blank line", []string{m2[:len(m2)-7], m2[len(m2)-7:]}, 0, []string{m2}, nil},
		{"split body", []string{m2[:len(m2)-3], m2[len(m2)-3:]}, 0, []string{m2}, nil},
		{"incomplete at EOF", []string{m2[:len(m2)-1]}, 0, nil, nil},
		{"leading ping", []string{"\r\n\r\n" + m1}, 0, []string{"PING", m1}, nil},
		{"pong between", []string{m1 + "\r\n" + m2}, 0, []string{m1, "PONG", m2}, nil},
		{"ping split", []string{"\r\n", "\r\n"}, 0, []string{"PING"}, nil},
		{"two pings", []string{"\r\n\r\n\r\n\r\n"}, 0, []string{"PING", "PING"}, nil},
		{"compact l", []string{"INFO sip:a SIP/2.0\r\nl:3\r\n\r\nabc"}, 0, []string{"INFO sip:a SIP/2.0\r\nl:3\r\n\r\nabc"}, nil},
		{"lower case", []string{"INFO sip:a SIP/2.0\r\ncontent-LENGTH: 1\r\n\r\nx"}, 0, []string{"INFO sip:a SIP/2.0\r\ncontent-LENGTH: 1\r\n\r\nx"}, nil},
		{"space before colon", []string{"INFO sip:a SIP/2.0\r\nContent-Length \t: 2 \r\n\r\nxy"}, 0, []string{"INFO sip:a SIP/2.0\r\nContent-Length \t: 2 \r\n\r\nxy"}, nil},
		{"same CL twice", []string{"INFO a SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx"}, 0, []string{"INFO a SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx"}, nil},
		{"fold ignored", []string{"INFO a SIP/2.0\r\nSubject: a\r\n b: c\r\nl: 0\r\n\r\n"}, 0, []string{"INFO a SIP/2.0\r\nSubject: a\r\n b: c\r\nl: 0\r\n\r\n"}, nil},
		{"not a CL header", []string{"INFO a SIP/2.0\r\nContent-Lengthy: 3\r\nl: 0\r\n\r\n"}, 0, []string{"INFO a SIP/2.0\r\nContent-Lengthy: 3\r\nl: 0\r\n\r\n"}, nil},
		{"missing CL", []string{"INFO a SIP/2.0\r\nTo: b\r\n\r\n"}, 0, nil, errNoCL},
		{"CL in start line only", []string{"Content-Length: 0\r\n\r\n"}, 0, nil, errNoCL},
		{"CL only folded", []string{"INFO a SIP/2.0\r\nTo: b\r\n Content-Length: 0\r\n\r\n"}, 0, nil, errNoCL},
		{"negative CL", []string{"INFO a SIP/2.0\r\nl: -1\r\n\r\n"}, 0, nil, errBadCL},
		{"garbage CL", []string{"INFO a SIP/2.0\r\nl: 1x\r\n\r\n"}, 0, nil, errBadCL},
		{"empty CL", []string{"INFO a SIP/2.0\r\nl:\r\n\r\n"}, 0, nil, errBadCL},
		{"conflicting CL", []string{"INFO a SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\nxy"}, 0, nil, errBadCL},
		{"huge CL", []string{"INFO a SIP/2.0\r\nl: 99999999999999999999\r\n\r\n"}, 0, nil, errMessageTooBig},
		{"body over max", []string{msgWithBody(strings.Repeat("x", 200))}, 100, nil, errMessageTooBig},
		{"header over max", []string{"INFO a SIP/2.0\r\nX: " + strings.Repeat("y", 200)}, 100, nil, errHeaderTooBig},
		{"complete header over max", []string{"INFO a SIP/2.0\r\nX: " + strings.Repeat("y", 120) + "\r\nl: 0\r\n\r\n"}, 100, nil, errHeaderTooBig},
		{"good then bad", []string{m1 + "INFO a SIP/2.0\r\n\r\n"}, 0, []string{m1}, errNoCL},
		{"exactly max", []string{msgWithBody(strings.Repeat("z", 100-len(msgWithBody(""))-1))}, 100, []string{msgWithBody(strings.Repeat("z", 100-len(msgWithBody(""))-1))}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = 65535
			}
			got, err := frameAll(tt.chunks, min(max, 16384), max)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestFramerEverySplit feeds a stream of messages and keepalives split at
// every byte position, and byte by byte.
func TestFramerEverySplit(t *testing.T) {
	stream := "\r\n\r\n" + optionsMsg("TCP", "a") + "\r\n" + msgWithBody("0123456789") + msgWithBody("")
	want, err := frameAll([]string{stream}, 16384, 65535)
	if err != nil || len(want) != 5 {
		t.Fatalf("whole stream: %q, %v", want, err)
	}
	for i := 1; i < len(stream); i++ {
		got, err := frameAll([]string{stream[:i], stream[i:]}, 16384, 65535)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("split at %d: %q, %v", i, got, err)
		}
	}
	var bytewise []string
	for i := range len(stream) {
		bytewise = append(bytewise, stream[i:i+1])
	}
	if got, err := frameAll(bytewise, 16384, 65535); err != nil || !slices.Equal(got, want) {
		t.Fatalf("byte by byte: %q, %v", got, err)
	}
}

// TestFramerClipsCapacity checks that appending to a returned message does
// not overwrite the next one.
func TestFramerClipsCapacity(t *testing.T) {
	m1, m2 := msgWithBody("one"), msgWithBody("two")
	f := newFramer(1000, 1000)
	if err := f.fill(strings.NewReader(m1 + m2)); err != nil {
		t.Fatal(err)
	}
	_, msg, err := f.next()
	if err != nil || string(msg) != m1 {
		t.Fatalf("first = %q, %v", msg, err)
	}
	_ = append(msg, "XXXXXXXX"...)
	if _, msg, _ := f.next(); string(msg) != m2 {
		t.Fatalf("second message clobbered: %q", msg)
	}
}

// TestFramerLargeMessage grows the buffer to the limit and back-to-back
// reuses it.
func TestFramerLargeMessage(t *testing.T) {
	big := msgWithBody(strings.Repeat("b", 60000))
	small := msgWithBody("s")
	got, err := frameAll([]string{big[:30000], big[30000:] + small, big}, 16384, 65535)
	if err != nil || !slices.Equal(got, []string{big, small, big}) {
		t.Fatalf("got %d messages, err %v", len(got), err)
	}
}

// repeatReader returns the same data on every Read.
type repeatReader struct{ data []byte }

func (r *repeatReader) Read(p []byte) (int, error) { return copy(p, r.data), nil }

func TestFramerNoAllocs(t *testing.T) {
	r := &repeatReader{data: []byte(optionsMsg("TCP", "x") + "\r\n\r\n")}
	f := newFramer(16384, 65535)
	allocs := testing.AllocsPerRun(1000, func() {
		for {
			kind, _, err := f.next()
			if err != nil {
				t.Fatal(err)
			}
			if kind == frameNeedMore {
				break
			}
		}
		if err := f.fill(r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per read", allocs)
	}
}

func BenchmarkFramer(b *testing.B) {
	msg := []byte(optionsMsg("TCP", "bench"))
	r := &repeatReader{data: bytes.Repeat(msg, 8)}
	f := newFramer(16384, 65535)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for n := 0; n < b.N; {
		kind, _, err := f.next()
		if err != nil {
			b.Fatal(err)
		}
		if kind == frameMessage {
			n++
			continue
		}
		if err := f.fill(r); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzFramer checks that framing never panics, never returns a message
// over the limit, and gives the same result whole and byte by byte.
func FuzzFramer(f *testing.F) {
	f.Add([]byte(optionsMsg("TCP", "f") + "\r\n\r\n" + msgWithBody("xyz")))
	f.Add([]byte("INFO a SIP/2.0\r\nl: 5\r\n\r\nab"))
	f.Add([]byte("\r\n\r\r\n\nINFO\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxHeader, maxMsg = 256, 512
		whole, errWhole := frameAll([]string{string(data)}, maxHeader, maxMsg)
		var bytewise []string
		for i := range data {
			bytewise = append(bytewise, string(data[i:i+1]))
		}
		split, errSplit := frameAll(bytewise, maxHeader, maxMsg)
		if !slices.Equal(whole, split) || !errors.Is(errWhole, errSplit) {
			t.Fatalf("whole %q, %v; byte by byte %q, %v", whole, errWhole, split, errSplit)
		}
		for _, m := range whole {
			if len(m) > maxMsg {
				t.Fatalf("message of %d bytes over the limit", len(m))
			}
		}
	})
}
