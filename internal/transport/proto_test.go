package transport

import "testing"

func TestParseProto(t *testing.T) {
	tests := []struct {
		in       string
		want     Proto
		ok       bool
		str      string
		reliable bool
		secure   bool
	}{
		{"udp", UDP, true, "UDP", false, false},
		{"UDP", UDP, true, "UDP", false, false},
		{"tcp", TCP, true, "TCP", true, false},
		{"Tls", TLS, true, "TLS", true, true},
		{"ws", WS, true, "WS", true, false},
		{"WSS", WSS, true, "WSS", true, true},
		{"sctp", 0, false, "", false, false},
		{"tls-sctp", 0, false, "", false, false},
		{"", 0, false, "", false, false},
		{"udp ", 0, false, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, ok := ParseProto(tt.in)
			if p != tt.want || ok != tt.ok {
				t.Fatalf("ParseProto(%q) = %v, %v; want %v, %v", tt.in, p, ok, tt.want, tt.ok)
			}
			if !ok {
				return
			}
			if p.String() != tt.str || p.Reliable() != tt.reliable || p.Secure() != tt.secure {
				t.Errorf("%v: String %q Reliable %v Secure %v", p, p.String(), p.Reliable(), p.Secure())
			}
		})
	}
}

func TestProtoInvalid(t *testing.T) {
	for _, p := range []Proto{0, WSS + 1, 255} {
		if p.Reliable() || p.Secure() || p.valid() {
			t.Errorf("%v: reported as a usable protocol", p)
		}
		if got, want := p.String(), "Proto("; got[:len(want)] != want {
			t.Errorf("String() = %q", got)
		}
	}
}
