package sip

import (
	"errors"
	"testing"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    URI    // compared field by field; Opaque is checked only when set
		wantErr error  // nil: must parse
		param   string // a parameter that must be present ("" to skip)
	}{
		{name: "sip user host", in: "sip:alice@example.com",
			want: URI{Scheme: b("sip"), User: b("alice"), Host: b("example.com")}},
		{name: "all parts", in: "sip:alice:secret@example.com:5061;transport=tcp;lr?subject=hi&priority=urgent",
			want: URI{Scheme: b("sip"), User: b("alice"), Password: b("secret"), Host: b("example.com"), Port: 5061,
				Params: b(";transport=tcp;lr"), Headers: b("subject=hi&priority=urgent")}, param: "lr"},
		{name: "scheme case", in: "SIP:alice@EXAMPLE.com", want: URI{Scheme: b("SIP"), User: b("alice"), Host: b("EXAMPLE.com")}},
		{name: "sips IPv6 port", in: "sips:bob@[2001:db8::1]:5061",
			want: URI{Scheme: b("sips"), User: b("bob"), Host: b("[2001:db8::1]"), Port: 5061}},
		{name: "host only", in: "sip:example.com", want: URI{Scheme: b("sip"), Host: b("example.com")}},
		{name: "IPv4", in: "sip:192.0.2.1:5060", want: URI{Scheme: b("sip"), Host: b("192.0.2.1"), Port: 5060}},
		{name: "IPv6 loopback", in: "sip:[::1]", want: URI{Scheme: b("sip"), Host: b("[::1]")}},
		{name: "IPv4-mapped", in: "sip:[::ffff:192.0.2.1]:5060", want: URI{Scheme: b("sip"), Host: b("[::ffff:192.0.2.1]"), Port: 5060}},
		{name: "IPv6 full", in: "sip:[2001:db8:0:0:0:0:0:1]", want: URI{Scheme: b("sip"), Host: b("[2001:db8:0:0:0:0:0:1]")}},
		{name: "IPv6 ABNF three colons (RFC 5118 §4.10)", in: "sip:[2001:db8:::192.0.2.1]", want: URI{Scheme: b("sip"), Host: b("[2001:db8:::192.0.2.1]")}},
		{name: "IPv6 leading three colons", in: "sip:[:::192.0.2.1]", want: URI{Scheme: b("sip"), Host: b("[:::192.0.2.1]")}},
		{name: "port with ambiguous IPv6 (RFC 5118 §4.3)", in: "sip:[2001:db8::10:5070]", want: URI{Scheme: b("sip"), Host: b("[2001:db8::10:5070]")}},
		{name: "escapes in user", in: "sip:%61lice%20x@host", want: URI{Scheme: b("sip"), User: b("%61lice%20x"), Host: b("host")}},
		{name: "semicolon in user (RFC 4475 §3.1.1.9)", in: "sip:user;par=u%40example.net@example.com",
			want: URI{Scheme: b("sip"), User: b("user;par=u%40example.net"), Host: b("example.com")}},
		{name: "param values", in: "sip:host;maddr=192.0.2.1;ttl=5", want: URI{Scheme: b("sip"), Host: b("host"), Params: b(";maddr=192.0.2.1;ttl=5")}, param: "maddr"},
		{name: "tel", in: "tel:+1-201-555-0123;phone-context=example.com",
			want: URI{Scheme: b("tel"), Opaque: b("+1-201-555-0123;phone-context=example.com")}},
		{name: "unknown scheme", in: "nobodyKnowsThisScheme:totallyopaquecontent",
			want: URI{Scheme: b("nobodyKnowsThisScheme"), Opaque: b("totallyopaquecontent")}},
		{name: "scheme with dot", in: "soap.beep://192.0.2.103:3002", want: URI{Scheme: b("soap.beep"), Opaque: b("//192.0.2.103:3002")}},
		{name: "urn", in: "urn:service:sos", want: URI{Scheme: b("urn"), Opaque: b("service:sos")}},

		{name: "empty", in: "", wantErr: errURIScheme},
		{name: "no colon", in: "sip", wantErr: errURIScheme},
		{name: "empty scheme", in: ":alice@host", wantErr: errURIScheme},
		{name: "scheme starts with digit", in: "1sip:host", wantErr: errURIScheme},
		{name: "scheme with underscore", in: "s_p:host", wantErr: errURIScheme},
		{name: "nothing after scheme", in: "sip:", wantErr: errURIChars},
		{name: "space", in: "sip:a b@host", wantErr: errURIChars},
		{name: "LWS before param (RFC 4475 §3.1.2.8)", in: "sip:user@example.com; lr", wantErr: errURIChars},
		{name: "angle", in: "sip:<a>@host", wantErr: errURIChars},
		{name: "non-ASCII", in: "sip:\xc3\xa9@host", wantErr: errURIChars},
		{name: "control", in: "sip:a\x00@host", wantErr: errURIChars},
		{name: "bad escape", in: "sip:al%ZZ@host", wantErr: errURIEscape},
		{name: "short escape", in: "sip:al%4@host", wantErr: errURIEscape},
		{name: "escape at end", in: "sip:al%@host", wantErr: errURIEscape},
		{name: "bad password escape", in: "sip:al:p%g0@host", wantErr: errURIEscape},
		{name: "empty user", in: "sip:@host", wantErr: errURIEscape},
		{name: "empty host", in: "sip:user@", wantErr: errURIHost},
		{name: "bad host char", in: "sip:user@ex!ample.com", wantErr: errURIHost},
		{name: "IPv6 unclosed", in: "sip:[2001:db8::1", wantErr: errURIHost},
		{name: "IPv6 bad digit", in: "sip:[2001:db8::g]", wantErr: errURIHost},
		{name: "IPv6 nine groups", in: "sip:[1:2:3:4:5:6:7:8:9]", wantErr: errURIHost},
		{name: "IPv6 seven groups", in: "sip:[1:2:3:4:5:6:7]", wantErr: errURIHost},
		{name: "IPv6 two double colons", in: "sip:[1::2::3]", wantErr: errURIHost},
		{name: "IPv6 five hex digits", in: "sip:[12345::1]", wantErr: errURIHost},
		{name: "IPv6 trailing colon", in: "sip:[1:2:3:4:5:6:7:]", wantErr: errURIHost},
		{name: "IPv6 single leading colon", in: "sip:[:1::2]", wantErr: errURIHost},
		{name: "IPv6 three colons without IPv4", in: "sip:[2001:db8:::1]", wantErr: errURIHost},
		{name: "IPv6 bad IPv4 part", in: "sip:[::ffff:192.0.2.256]", wantErr: errURIHost},
		{name: "IPv6 short IPv4 part", in: "sip:[::ffff:192.0.2]", wantErr: errURIHost},
		{name: "IPv6 junk after ]", in: "sip:[::1]x", wantErr: errURIHost},
		{name: "IPv6 without brackets (RFC 5118 §4.2)", in: "sip:2001:db8::10", wantErr: errURIPort},
		{name: "IPv6 empty port", in: "sip:[::1]:", wantErr: errURIPort},
		{name: "port too big", in: "sip:host:65536", wantErr: errURIPort},
		{name: "empty port", in: "sip:host:", wantErr: errURIPort},
		{name: "port not a number", in: "sip:host:http", wantErr: errURIPort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseURI([]byte(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			checkURI(t, u, tt.want)
			if tt.param != "" {
				if _, ok := u.Param(tt.param); !ok {
					t.Errorf("parameter %q missing from %q", tt.param, u.Params)
				}
			}
		})
	}
}

func checkURI(t *testing.T, got, want URI) {
	t.Helper()
	fields := []struct {
		name      string
		got, want []byte
	}{
		{"Scheme", got.Scheme, want.Scheme}, {"User", got.User, want.User}, {"Password", got.Password, want.Password},
		{"Host", got.Host, want.Host}, {"Params", got.Params, want.Params}, {"Headers", got.Headers, want.Headers},
	}
	for _, f := range fields {
		if string(f.got) != string(f.want) {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	if want.Opaque != nil && string(got.Opaque) != string(want.Opaque) {
		t.Errorf("Opaque = %q, want %q", got.Opaque, want.Opaque)
	}
	if got.Port != want.Port {
		t.Errorf("Port = %d, want %d", got.Port, want.Port)
	}
}

func TestURISchemes(t *testing.T) {
	for _, tt := range []struct {
		in          string
		sip, secure bool
	}{
		{"sip:a@b", true, false}, {"SIPS:a@b", true, true}, {"tel:+1", false, false}, {"sipx:a", false, false},
	} {
		u, err := ParseURI([]byte(tt.in))
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if u.IsSIP() != tt.sip || u.IsSecure() != tt.secure {
			t.Errorf("%s: IsSIP=%v IsSecure=%v, want %v %v", tt.in, u.IsSIP(), u.IsSecure(), tt.sip, tt.secure)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	for _, tt := range []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"example.com", "example.com", 0, true},
		{"example.com:5060", "example.com", 5060, true},
		{"[2001:db8::1]:5061", "[2001:db8::1]", 5061, true},
		{"[2001:db8::1]", "[2001:db8::1]", 0, true},
		{"", "", 0, false},
		{"[2001:db8::1", "", 0, false},
		{"host:99999", "", 0, false},
	} {
		host, port, err := SplitHostPort([]byte(tt.in))
		if (err == nil) != tt.ok || string(host) != tt.host || port != tt.port {
			t.Errorf("SplitHostPort(%q) = %q, %d, %v", tt.in, host, port, err)
		}
	}
}

// b is []byte(s), for tables.
func b(s string) []byte { return []byte(s) }
