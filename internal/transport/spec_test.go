package transport

import (
	"strings"
	"testing"
)

func TestParseListenSpec(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Spec
		wantErr string
	}{
		{"udp v4", "udp:127.0.0.1:5060", Spec{UDP, "127.0.0.1", 5060, ""}, ""},
		{"tcp any", "tcp:0.0.0.0:0", Spec{TCP, "0.0.0.0", 0, ""}, ""},
		{"upper case", "TLS:10.0.0.1:5061", Spec{TLS, "10.0.0.1", 5061, ""}, ""},
		{"udp v6", "udp:[::1]:5060", Spec{UDP, "::1", 5060, ""}, ""},
		{"empty host", "tcp::5060", Spec{TCP, "", 5060, ""}, ""},
		{"hostname", "udp:localhost:5060", Spec{UDP, "localhost", 5060, ""}, ""},
		{"ws default path", "ws:127.0.0.1:8080", Spec{WS, "127.0.0.1", 8080, "/"}, ""},
		{"ws path", "ws:127.0.0.1:8080/sip", Spec{WS, "127.0.0.1", 8080, "/sip"}, ""},
		{"wss v6 path", "wss:[::]:443/a/b", Spec{WSS, "::", 443, "/a/b"}, ""},
		{"ws root", "ws:[::1]:80/", Spec{WS, "::1", 80, "/"}, ""},
		{"no colon", "udp", Spec{}, "want PROTO:HOST:PORT"},
		{"unknown proto", "sctp:1.2.3.4:5060", Spec{}, "unknown protocol"},
		{"missing port", "udp:127.0.0.1", Spec{}, "bad HOST:PORT"},
		{"empty port", "udp:127.0.0.1:", Spec{}, "missing port"},
		{"bad port", "udp:127.0.0.1:http", Spec{}, "bad port"},
		{"port range", "udp:127.0.0.1:65536", Spec{}, "bad port"},
		{"negative port", "udp:127.0.0.1:-1", Spec{}, "bad port"},
		{"unbracketed v6", "udp:::1:5060", Spec{}, "bad HOST:PORT"},
		{"path on udp", "udp:127.0.0.1:5060/x", Spec{}, "only allowed for ws"},
		{"path on tls", "tls:127.0.0.1:5061/", Spec{}, "only allowed for ws"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseListenSpec(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseListenSpec(%q) error = %v, want it to contain %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseListenSpec(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseListenSpec(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			again, err := ParseListenSpec(got.String())
			if err != nil || again != got {
				t.Errorf("round trip through %q = %+v, %v", got.String(), again, err)
			}
		})
	}
}
