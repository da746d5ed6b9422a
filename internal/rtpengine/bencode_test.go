package rtpengine

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"string", "spam", "4:spam"},
		{"empty string", "", "0:"},
		{"bytes", []byte("v=0\r\n"), "5:v=0\r\n"},
		{"int", 42, "i42e"},
		{"negative", int64(-3), "i-3e"},
		{"string list", []string{"a", "bc"}, "l1:a2:bce"},
		{"any list", []any{"a", 1, []string{}}, "l1:ai1elee"},
		{"dict sorted", map[string]any{"command": "ping", "call-id": "x"}, "d7:call-id1:x7:command4:pinge"},
		{"nested", map[string]any{"flags": []string{"trust-address"}, "rtcp-mux": []string{"demux"}},
			"d5:flagsl13:trust-addresse8:rtcp-muxl5:demuxee"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendValue(nil, tt.in)
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := appendValue(nil, map[string]any{"x": 1.5}); err == nil {
		t.Fatal("a float was encoded")
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"pong", "d6:result4:ponge", map[string]any{"result": "pong"}},
		{"int", "i-17e", int64(-17)},
		{"zero", "i0e", int64(0)},
		{"list", "l1:ai2ee", []any{"a", int64(2)}},
		{"empty list", "le", []any{}},
		{"unsorted keys", "d1:bi1e1:ai2ee", map[string]any{"a": int64(2), "b": int64(1)}},
		{"binary string", "3:\x00\r\n", "\x00\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decode([]byte(tt.in))
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "unexpected end"},
		{"trailing", "i1ei2e", "after the value"},
		{"unterminated int", "i12", "unterminated integer"},
		{"leading zero", "i012e", "bad integer"},
		{"minus zero", "i-0e", "bad integer"},
		{"not a number", "ixe", "bad integer"},
		{"short string", "5:abc", "longer than the message"},
		{"no colon", "3abc", "bad string length"},
		{"huge length", "99999999999:a", "bad string length"},
		{"unterminated list", "l1:a", "unterminated list"},
		{"unterminated dict", "d1:a1:b", "unterminated dictionary"},
		{"int key", "di1e1:ae", "key is not a string"},
		{"dict without value", "d1:ae", "unexpected byte"},
		{"junk", "x", "unexpected byte"},
		{"too deep", strings.Repeat("l", 100) + strings.Repeat("e", 100), "nesting too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode([]byte(tt.in))
			if err == nil || !errors.Is(err, errSyntax) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a syntax error containing %q", err, tt.want)
			}
		})
	}
}

// FuzzDecode: any input decodes or fails cleanly, and what decodes
// re-encodes to a value that decodes to the same thing.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"d6:result4:ponge", "l1:ai2ee", "i-1e", "d3:sdp5:v=0\r\ne", "lllee"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decode(data)
		if err != nil {
			return
		}
		enc, err := appendValue(nil, v)
		if err != nil {
			t.Fatalf("decoded %#v does not encode: %v", v, err)
		}
		again, err := decode(enc)
		if err != nil || !reflect.DeepEqual(v, again) {
			t.Fatalf("round trip: %#v -> %q -> %#v, %v", v, enc, again, err)
		}
	})
}
