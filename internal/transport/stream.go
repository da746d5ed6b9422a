package transport

import (
	"bytes"
	"errors"
	"io"
)

// Framing errors. Each closes the connection it happened on.
var (
	errHeaderTooBig  = errors.New("header section too big")
	errMessageTooBig = errors.New("message too big")
	errNoCL          = errors.New("missing Content-Length")
	errBadCL         = errors.New("bad Content-Length")
)

// frameKind says what framer.next found.
type frameKind uint8

const (
	frameNeedMore frameKind = iota // no complete unit buffered: call fill
	frameMessage                   // one SIP message
	framePing                      // "\r\n\r\n": answer with a pong (RFC 5626 §4.4.1)
	framePong                      // a lone "\r\n" between messages
)

const framerInitialSize = 4096

// framer cuts a byte stream into SIP messages using Content-Length
// (RFC 3261 §18.3). It owns one buffer that grows up to the message size
// limit and is reused for every message; a message returned by next is only
// valid until the following call to fill.
type framer struct {
	buf        []byte
	start, end int // buffered, unconsumed bytes are buf[start:end]
	scan       int // bytes of buf[start:] already searched for the header end
	maxHeader  int
	maxMessage int
}

func newFramer(maxHeader, maxMessage int) *framer {
	return &framer{
		buf:        make([]byte, min(framerInitialSize, maxMessage)),
		maxHeader:  maxHeader,
		maxMessage: maxMessage,
	}
}

// fill reads once from r into the free end of the buffer, first compacting
// or growing it. It must only be called after next returned frameNeedMore,
// which guarantees the unconsumed data is shorter than the size limit.
func (f *framer) fill(r io.Reader) error {
	if f.start == f.end {
		f.start, f.end = 0, 0
	}
	if f.end == len(f.buf) {
		f.makeRoom()
	}
	n, err := r.Read(f.buf[f.end:])
	f.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// makeRoom moves unconsumed bytes to the front or, if they fill the whole
// buffer, doubles it (never beyond maxMessage).
func (f *framer) makeRoom() {
	if f.start > 0 {
		f.end = copy(f.buf, f.buf[f.start:f.end])
		f.start = 0
		return
	}
	nb := make([]byte, min(2*len(f.buf), f.maxMessage))
	f.end = copy(nb, f.buf[:f.end])
	f.buf = nb
}

// next returns the next unit buffered. A message is returned with its
// capacity clipped so that appending to it cannot clobber what follows.
func (f *framer) next() (frameKind, []byte, error) {
	data := f.buf[f.start:f.end]
	if k, n := keepalive(data); k != frameMessage {
		f.start += n
		return k, nil, nil
	}
	hdrLen := f.headerEnd(data)
	if hdrLen < 0 {
		if len(data) >= f.maxHeader || len(data) >= f.maxMessage {
			return 0, nil, errHeaderTooBig
		}
		return frameNeedMore, nil, nil
	}
	if hdrLen > f.maxHeader {
		return 0, nil, errHeaderTooBig
	}
	cl, err := contentLength(data[:hdrLen])
	if err != nil {
		return 0, nil, err
	}
	total := hdrLen + cl
	if cl > f.maxMessage || total > f.maxMessage {
		return 0, nil, errMessageTooBig
	}
	if len(data) < total {
		return frameNeedMore, nil, nil
	}
	f.start += total
	f.scan = 0
	return frameMessage, data[:total:total], nil
}

const (
	crlf     = "\r\n"
	crlfcrlf = "\r\n\r\n"
)

// keepalive classifies the CRLFs at the front of data (RFC 5626 §4.4.1).
// It returns frameMessage, 0 when data starts with anything else, and
// frameNeedMore when data is a proper prefix of a ping.
func keepalive(data []byte) (frameKind, int) {
	switch {
	case len(data) >= 4 && string(data[:4]) == crlfcrlf:
		return framePing, 4
	case len(data) < 4 && string(data) == crlfcrlf[:len(data)]:
		return frameNeedMore, 0
	case len(data) >= 2 && string(data[:2]) == crlf:
		return framePong, 2
	}
	return frameMessage, 0
}

// headerEnd returns the length of the header section of data including the
// blank line, or -1 if it is not complete yet. It resumes where the last
// unsuccessful search stopped.
func (f *framer) headerEnd(data []byte) int {
	from := max(f.scan-3, 0)
	if i := bytes.Index(data[from:], []byte(crlfcrlf)); i >= 0 {
		return from + i + 4
	}
	f.scan = len(data)
	return -1
}

// maxCL is far above any sane MaxMessageSize and keeps parsing overflow-free.
const maxCL = 1 << 30

// contentLength finds Content-Length or its compact form "l" (RFC 3261
// §7.3.3, §20.14) in a header section and returns its value. Names match
// case-insensitively and may have whitespace before the colon (§7.3.1); the
// start line and continuation lines are skipped. Repeated headers must agree.
func contentLength(hdr []byte) (int, error) {
	_, hdr, _ = bytes.Cut(hdr, []byte(crlf)) // start line
	cl := -1
	for len(hdr) > 0 {
		var line []byte
		line, hdr, _ = bytes.Cut(hdr, []byte(crlf))
		v, ok := contentLengthValue(line)
		if !ok {
			continue
		}
		n, err := parseCL(v)
		if err != nil {
			return 0, err
		}
		if cl >= 0 && cl != n {
			return 0, errBadCL
		}
		cl = n
	}
	if cl < 0 {
		return 0, errNoCL
	}
	return cl, nil
}

// contentLengthValue returns the trimmed value of line if it is a
// Content-Length header.
func contentLengthValue(line []byte) ([]byte, bool) {
	if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
		return nil, false
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return nil, false
	}
	name = bytes.TrimRight(name, " \t")
	if !bytes.EqualFold(name, []byte("content-length")) && !bytes.EqualFold(name, []byte("l")) {
		return nil, false
	}
	return bytes.Trim(value, " \t"), true
}

// parseCL parses 1*DIGIT. A value too large for any message is reported as
// errMessageTooBig.
func parseCL(v []byte) (int, error) {
	if len(v) == 0 {
		return 0, errBadCL
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, errBadCL
		}
		if n = n*10 + int(c-'0'); n > maxCL {
			return 0, errMessageTooBig
		}
	}
	return n, nil
}
