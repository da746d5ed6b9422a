package sip

import "testing"

func TestParseVia(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		transport string
		host      string
		port      int
		branch    string
		received  string
		rport     string // value of rport
		hasRPort  bool
		maddr     string
		ttl       int
		wantErr   bool
	}{
		{name: "basic", in: "SIP/2.0/UDP host.example.com", transport: "UDP", host: "host.example.com", ttl: -1},
		{name: "port and branch", in: "SIP/2.0/TCP 192.0.2.1:5061;branch=z9hG4bK776", transport: "TCP",
			host: "192.0.2.1", port: 5061, branch: "z9hG4bK776", ttl: -1},
		{name: "LWS around / ; =", in: "SIP  /   2.0 \t/ TLS   host:5061 ;  branch  =  z9hG4bKx ; rport",
			transport: "TLS", host: "host", port: 5061, branch: "z9hG4bKx", hasRPort: true, ttl: -1},
		{name: "lower case protocol", in: "sip/2.0/udp h", transport: "udp", host: "h", ttl: -1},
		{name: "all parameters", in: "SIP/2.0/UDP 192.0.2.1;received=192.0.2.2;rport=5062;maddr=224.2.0.1;ttl=16;branch=z9hG4bK1",
			transport: "UDP", host: "192.0.2.1", branch: "z9hG4bK1", received: "192.0.2.2", rport: "5062", hasRPort: true, maddr: "224.2.0.1", ttl: 16},
		{name: "parameter names any case", in: "SIP/2.0/UDP h;BRANCH=z9hG4bKa;Received=1.2.3.4;RPort",
			transport: "UDP", host: "h", branch: "z9hG4bKa", received: "1.2.3.4", hasRPort: true, ttl: -1},
		{name: "bare rport", in: "SIP/2.0/UDP h;rport;branch=z9hG4bKb", transport: "UDP", host: "h", branch: "z9hG4bKb", hasRPort: true, ttl: -1},
		{name: "IPv6 sent-by", in: "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3", transport: "UDP",
			host: "[2001:db8::9:1]", port: 6050, branch: "z9hG4bKas3", ttl: -1},
		{name: "IPv6 received with [] (RFC 5118 §4.5)", in: "SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKa",
			transport: "UDP", host: "[2001:db8::9:1]", branch: "z9hG4bKa", received: "[2001:db8::9:255]", ttl: -1},
		{name: "IPv6 received without []", in: "SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255",
			transport: "UDP", host: "[2001:db8::9:1]", received: "2001:db8::9:255", ttl: -1},
		{name: "extension transport and param", in: "SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en;x=\"q;v\"",
			transport: "UNKNOWN", host: "t4.example.com", branch: "z9hG4bKasd0f3en", ttl: -1},
		{name: "other version is a token", in: "SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw", transport: "UDP",
			host: "c.example.com", branch: "z9hG4bKkdjuw", ttl: -1},
		{name: "ttl 0", in: "SIP/2.0/UDP h;ttl=0", transport: "UDP", host: "h", ttl: 0},

		{name: "empty", in: "", wantErr: true},
		{name: "not SIP", in: "HTTP/1.1/TCP h", wantErr: true},
		{name: "no version", in: "SIP//UDP h", wantErr: true},
		{name: "no transport", in: "SIP/2.0 h", wantErr: true},
		{name: "no host", in: "SIP/2.0/UDP", wantErr: true},
		{name: "no host before params", in: "SIP/2.0/UDP ;branch=1", wantErr: true},
		{name: "bad host", in: "SIP/2.0/UDP h$t", wantErr: true},
		{name: "bad port", in: "SIP/2.0/UDP h:70000", wantErr: true},
		{name: "unclosed IPv6", in: "SIP/2.0/UDP [::1", wantErr: true},
		{name: "junk after host", in: "SIP/2.0/UDP h junk", wantErr: true},
		{name: "empty params (RFC 4475 §3.1.2.1)", in: "SIP/2.0/UDP 192.0.2.15;;", wantErr: true},
		{name: "trailing semicolon", in: "SIP/2.0/UDP h;branch=z9hG4bK1;", wantErr: true},
		{name: "empty branch", in: "SIP/2.0/UDP h;branch=", wantErr: true},
		{name: "ttl too big", in: "SIP/2.0/UDP h;ttl=256", wantErr: true},
		{name: "ttl without value", in: "SIP/2.0/UDP h;ttl", wantErr: true},
		{name: "bad param name", in: "SIP/2.0/UDP h;b@d=1", wantErr: true},
		{name: "bad param value", in: "SIP/2.0/UDP h;branch=a<b", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseVia([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error: %+v", v)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			got := []string{string(v.Transport), string(v.Host), string(v.Branch), string(v.Received), string(v.RPort), string(v.Maddr)}
			want := []string{tt.transport, tt.host, tt.branch, tt.received, tt.rport, tt.maddr}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("field %d: got %q, want %q", i, got[i], want[i])
				}
			}
			if v.Port != tt.port || v.HasRPort != tt.hasRPort || v.TTL != tt.ttl {
				t.Errorf("port %d rport %v ttl %d, want %d %v %d", v.Port, v.HasRPort, v.TTL, tt.port, tt.hasRPort, tt.ttl)
			}
			if string(v.Raw) != trimmed(tt.in) {
				t.Errorf("Raw = %q", v.Raw)
			}
		})
	}
}

func TestViaParamErrorKeepsSentBy(t *testing.T) {
	v, err := ParseVia([]byte("SIP/2.0/UDP 192.0.2.15:5070;;,;,,"))
	if err == nil || string(v.Host) != "192.0.2.15" || v.Port != 5070 {
		t.Fatalf("got %v host %q port %d; want an error with the sent-by kept", err, v.Host, v.Port)
	}
}

func TestIsRFC3261Branch(t *testing.T) {
	for _, tt := range []struct {
		branch string
		want   bool
	}{{"z9hG4bK776asdhds", true}, {"z9hG4bK", false}, {"390skdjuw", false}, {"", false}, {"Z9HG4BKabc", false}} {
		v := Via{Branch: []byte(tt.branch)}
		if got := v.IsRFC3261Branch(); got != tt.want {
			t.Errorf("%q: got %v", tt.branch, got)
		}
	}
}

func trimmed(s string) string { return string(trimLWS([]byte(s))) }
