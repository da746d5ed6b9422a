package rtpengine

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Bencode is the dictionary encoding of the ng protocol (BEP 3): byte
// strings "4:spam", integers "i42e", lists "l...e" and dictionaries
// "d...e" whose keys are byte strings in sorted order.
//
// Values map to Go as: string and []byte ↔ byte string (decoded as string),
// int and int64 ↔ integer (decoded as int64), []string and []any ↔ list
// (decoded as []any), map[string]any ↔ dictionary.

// maxDepth bounds the nesting of lists and dictionaries a reply may have,
// so that a hostile or broken reply cannot exhaust the stack.
const maxDepth = 32

// errSyntax is wrapped by every decoding error.
var errSyntax = errors.New("bencode: syntax error")

// appendValue appends the bencoding of v to dst.
func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		dst = strconv.AppendInt(dst, int64(len(x)), 10)
		return append(append(dst, ':'), x...), nil
	case []byte:
		dst = strconv.AppendInt(dst, int64(len(x)), 10)
		return append(append(dst, ':'), x...), nil
	case int:
		return append(strconv.AppendInt(append(dst, 'i'), int64(x), 10), 'e'), nil
	case int64:
		return append(strconv.AppendInt(append(dst, 'i'), x, 10), 'e'), nil
	case []string:
		dst = append(dst, 'l')
		for _, s := range x {
			dst, _ = appendValue(dst, s)
		}
		return append(dst, 'e'), nil
	case []any:
		dst = append(dst, 'l')
		for _, e := range x {
			var err error
			if dst, err = appendValue(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, 'e'), nil
	case map[string]any:
		return appendDict(dst, x)
	}
	return nil, fmt.Errorf("bencode: cannot encode %T", v)
}

// appendDict appends a dictionary with its keys sorted, as BEP 3 requires.
func appendDict(dst []byte, m map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, 'd')
	for _, k := range keys {
		dst, _ = appendValue(dst, k)
		var err error
		if dst, err = appendValue(dst, m[k]); err != nil {
			return nil, err
		}
	}
	return append(dst, 'e'), nil
}

// decode parses one bencoded value that must fill data exactly.
func decode(data []byte) (any, error) {
	d := decoder{data: data}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.pos != len(data) {
		return nil, fmt.Errorf("%w: %d bytes after the value", errSyntax, len(data)-d.pos)
	}
	return v, nil
}

type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, d.pos)
}

func (d *decoder) value(depth int) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.fail("unexpected end")
	}
	switch c := d.data[d.pos]; {
	case c == 'i':
		return d.integer()
	case c >= '0' && c <= '9':
		return d.str()
	case (c == 'l' || c == 'd') && depth >= maxDepth:
		return nil, d.fail("nesting too deep")
	case c == 'l':
		return d.list(depth)
	case c == 'd':
		return d.dict(depth)
	}
	return nil, d.fail(fmt.Sprintf("unexpected byte %q", d.data[d.pos]))
}

// integer reads "i<digits>e"; leading zeros and "-0" are refused (BEP 3).
func (d *decoder) integer() (int64, error) {
	end := d.pos + 1
	for end < len(d.data) && d.data[end] != 'e' {
		end++
	}
	if end >= len(d.data) {
		return 0, d.fail("unterminated integer")
	}
	s := string(d.data[d.pos+1 : end])
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || s == "-0" || len(s) > 1 && s[0] == '0' || len(s) > 2 && s[:2] == "-0" {
		return 0, d.fail("bad integer " + strconv.Quote(s))
	}
	d.pos = end + 1
	return n, nil
}

// str reads "<length>:<bytes>".
func (d *decoder) str() (string, error) {
	colon := d.pos
	for colon < len(d.data) && d.data[colon] >= '0' && d.data[colon] <= '9' {
		colon++
	}
	if colon >= len(d.data) || d.data[colon] != ':' || colon-d.pos > 9 {
		return "", d.fail("bad string length")
	}
	n, _ := strconv.Atoi(string(d.data[d.pos:colon]))
	if n > len(d.data)-colon-1 {
		return "", d.fail("string longer than the message")
	}
	s := string(d.data[colon+1 : colon+1+n])
	d.pos = colon + 1 + n
	return s, nil
}

func (d *decoder) list(depth int) ([]any, error) {
	d.pos++ // 'l'
	out := []any{}
	for {
		if d.pos >= len(d.data) {
			return nil, d.fail("unterminated list")
		}
		if d.data[d.pos] == 'e' {
			d.pos++
			return out, nil
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// dict reads a dictionary. Key order is not checked: rtpengine itself does
// not sort its keys (its documentation says so).
func (d *decoder) dict(depth int) (map[string]any, error) {
	d.pos++ // 'd'
	out := map[string]any{}
	for {
		if d.pos >= len(d.data) {
			return nil, d.fail("unterminated dictionary")
		}
		if d.data[d.pos] == 'e' {
			d.pos++
			return out, nil
		}
		if c := d.data[d.pos]; c < '0' || c > '9' {
			return nil, d.fail("dictionary key is not a string")
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
}
