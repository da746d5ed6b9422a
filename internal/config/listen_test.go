package config

import (
	"strings"
	"testing"
)

func TestParseListener(t *testing.T) {
	tests := []struct {
		spec    string
		want    Listener
		canon   string
		wantErr string
	}{
		{spec: "udp:0.0.0.0:5060", want: Listener{Proto: "udp", Host: "0.0.0.0", Port: 5060}},
		{spec: "TCP:localhost:0", want: Listener{Proto: "tcp", Host: "localhost"}, canon: "tcp:localhost:0"},
		{spec: "tls:[::]:5061", want: Listener{Proto: "tls", Host: "::", Port: 5061}},
		{spec: "tls:[2001:DB8:0::1]:5061", want: Listener{Proto: "tls", Host: "2001:db8::1", Port: 5061}, canon: "tls:[2001:db8::1]:5061"},
		{spec: "udp:[fe80::1%eth0]:5060", want: Listener{Proto: "udp", Host: "fe80::1%eth0", Port: 5060}},
		{spec: "ws:0.0.0.0:80", want: Listener{Proto: "ws", Host: "0.0.0.0", Port: 80, Path: "/"}, canon: "ws:0.0.0.0:80/"},
		{spec: "wss:sip.example.com:443/ws/sip", want: Listener{Proto: "wss", Host: "sip.example.com", Port: 443, Path: "/ws/sip"}},
		{spec: "udp:0.0.0.0:65535", want: Listener{Proto: "udp", Host: "0.0.0.0", Port: 65535}},
		{spec: "", wantErr: "want PROTO:HOST:PORT"},
		{spec: "sctp:0.0.0.0:5060", wantErr: `unknown protocol "sctp"`},
		{spec: "udp:0.0.0.0:65536", wantErr: `invalid port "65536"`},
		{spec: "udp:0.0.0.0:-1", wantErr: `invalid port "-1"`},
		{spec: "udp:0.0.0.0:sip", wantErr: `invalid port "sip"`},
		{spec: "udp:0.0.0.0:", wantErr: `invalid port ""`},
		{spec: "udp::5060", wantErr: "missing host"},
		{spec: "udp:::5060", wantErr: "must be in brackets"},
		{spec: "udp:2001:db8::1:5060", wantErr: "must be in brackets"},
		{spec: "udp:[192.0.2.1]:5060", wantErr: "brackets are only for IPv6"},
		{spec: "udp:[sip.example.com]:5060", wantErr: "invalid host"},
		{spec: "udp:[::1:5060", wantErr: "want HOST:PORT"},
		{spec: "tcp:0.0.0.0:5060/x", wantErr: "path is only allowed for ws and wss"},
		{spec: "ws:0.0.0.0:80/a?b", wantErr: "invalid character"},
		{spec: "wss:0.0.0.0/sip", wantErr: "missing port"},
		{spec: "udp:ex_ample.com:5060", wantErr: "invalid host"},
		{spec: "udp:1.2.3.999:5060", wantErr: "invalid host"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseListener(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.spec
			}
			if got.String() != canon {
				t.Errorf("String() = %q, want %q", got.String(), canon)
			}
		})
	}
}

func TestCanonicalDomain(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "Example.COM", want: "example.com"},
		{in: "example.com.", want: "example.com"},
		{in: "localhost", want: "localhost"},
		{in: "a-b.c0", want: "a-b.c0"},
		{in: "192.0.2.1", want: "192.0.2.1"},
		{in: "2001:DB8::1", want: "[2001:db8::1]"},
		{in: "[::1]", want: "[::1]"},
		{in: "", wantErr: "invalid host"},
		{in: "[192.0.2.1]", wantErr: "brackets are only for IPv6"},
		{in: "[::1", wantErr: "invalid host"},
		{in: "fe80::1%eth0", wantErr: "zone"},
		{in: "-a.com", wantErr: "invalid host"},
		{in: "a..com", wantErr: "invalid host"},
		{in: "example.123", wantErr: "invalid host"},
		{in: "*.example.com", wantErr: "invalid host"},
		{in: strings.Repeat("a", 64) + ".com", wantErr: "invalid host"},
	}
	for _, tt := range tests {
		got, err := canonicalDomain(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("canonicalDomain(%q) = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("canonicalDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCheckAdvertiseAndHTTP(t *testing.T) {
	for _, s := range []string{"sip.example.com", "sip.example.com:5060", "192.0.2.1", "[2001:db8::1]", "[2001:db8::1]:5061"} {
		if err := checkAdvertise(s); err != nil {
			t.Errorf("checkAdvertise(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"2001:db8::1", "host:0", "host:x", "[host]", "a b"} {
		if err := checkAdvertise(s); err == nil {
			t.Errorf("checkAdvertise(%q) accepted", s)
		}
	}
	for _, s := range []string{"", "off", ":8080", "localhost:0", "[::1]:8080"} {
		if err := checkHTTP(s); err != nil {
			t.Errorf("checkHTTP(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"8080", "localhost", "::1:8080", "host:99999"} {
		if err := checkHTTP(s); err == nil {
			t.Errorf("checkHTTP(%q) accepted", s)
		}
	}
}
