package sip

import "testing"

func TestParseNameAddr(t *testing.T) {
	tests := []struct {
		name                 string
		in                   string
		display, uri, params string
		tag                  string // value of the tag parameter, "" when absent
		wantErr              bool
	}{
		{name: "quoted display with escapes", in: `"Alice \"A\" Smith" <sip:alice@example.com>;tag=1`,
			display: `"Alice \"A\" Smith"`, uri: "sip:alice@example.com", params: ";tag=1", tag: "1"},
		{name: "quoted display with escaped backslash", in: `"J Rosenberg \\\""  <sip:jdrosen@example.com> ; tag = 98asjd8`,
			display: `"J Rosenberg \\\""`, uri: "sip:jdrosen@example.com", params: "; tag = 98asjd8", tag: "98asjd8"},
		{name: "quoted display with < and ,", in: `"a <b>, c" <sip:x@y>`, display: `"a <b>, c"`, uri: "sip:x@y"},
		{name: "token display", in: "Alice Smith <sip:a@b>", display: "Alice Smith", uri: "sip:a@b"},
		{name: "token display odd chars", in: "token1~` token2'+_ token3*%!.- <sip:mundane@example.com>",
			display: "token1~` token2'+_ token3*%!.-", uri: "sip:mundane@example.com"},
		{name: "no LWS before <", in: "caller<sip:caller@example.com>;tag=323", display: "caller",
			uri: "sip:caller@example.com", params: ";tag=323", tag: "323"},
		{name: "no display", in: "<sip:a@b;lr>", uri: "sip:a@b;lr"},
		{name: "URI parameters stay inside <>", in: "<sip:a@b;tag=inside>;x=1", uri: "sip:a@b;tag=inside", params: ";x=1"},
		{name: "URI headers in <>", in: "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>",
			uri: "sip:user@example.com?Route=%3Csip:sip.example.com%3E"},
		{name: "addr-spec with header params", in: "sip:a@b;tag=x;expires=60", uri: "sip:a@b", params: ";tag=x;expires=60", tag: "x"},
		{name: "addr-spec LWS", in: "sip:a@b ;  tag  =  x", uri: "sip:a@b", params: ";  tag  =  x", tag: "x"},
		{name: "addr-spec unknown scheme", in: "isbn:2983792873", uri: "isbn:2983792873"},
		{name: "unknown scheme in <>", in: "<http://www.example.com>;tag=3234233", uri: "http://www.example.com", params: ";tag=3234233", tag: "3234233"},
		{name: "quoted param value", in: `<sip:a@b>;x="a;b, c";tag=2`, uri: "sip:a@b", params: `;x="a;b, c";tag=2`, tag: "2"},
		{name: "IPv6 param value", in: "<sip:a@b>;maddr=[2001:db8::1]", uri: "sip:a@b", params: ";maddr=[2001:db8::1]"},
		{name: "flag param", in: "<sip:a@b>;lr", uri: "sip:a@b", params: ";lr"},
		{name: "surrounding LWS", in: "  <sip:a@b>  ", uri: "sip:a@b"},

		{name: "empty", in: "", wantErr: true},
		{name: "only LWS", in: "   ", wantErr: true},
		{name: "unterminated quote (RFC 4475 §3.1.2.6)", in: `"Mr. J. User <sip:j.user@example.com>`, wantErr: true},
		{name: "non-token display (RFC 4475 §3.1.2.15)", in: "Bell, Alexander <sip:a.g.bell@example.com>;tag=43", wantErr: true},
		{name: "two quoted strings", in: `"a" "b" <sip:x@y>`, wantErr: true},
		{name: "unterminated quote before >", in: `"A:0>`, wantErr: true},
		{name: "quoted display without <>", in: `"A" sip:a@b`, wantErr: true},
		{name: "spaces inside <> (RFC 4475 §3.1.2.14)", in: "< sip:t.watson@example.org >", wantErr: true},
		{name: "unclosed <", in: "<sip:a@b", wantErr: true},
		{name: "empty <>", in: "<>", wantErr: true},
		{name: "bad URI in <>", in: "<sip:a b>", wantErr: true},
		{name: "addr-spec with ? (RFC 4475 §3.1.2.13)", in: "sip:user@example.com?Route=%3Csip:sip.example.com%3E", wantErr: true},
		{name: "addr-spec with comma", in: "sip:a@b,sip:c@d", wantErr: true},
		{name: "addr-spec bad URI", in: "sip:", wantErr: true},
		{name: "junk after >", in: "<sip:a@b>x", wantErr: true},
		{name: "empty parameters (RFC 4475 §3.1.2.1)", in: `"Joe" <sip:joe@example.org>;;;;`, wantErr: true},
		{name: "double semicolon", in: "<sip:a@b>;;tag=1", wantErr: true},
		{name: "trailing semicolon", in: "<sip:a@b>;tag=1;", wantErr: true},
		{name: "param value with space", in: "<sip:a@b>;tag=a b", wantErr: true},
		{name: "param name not a token", in: "<sip:a@b>;t@g=1", wantErr: true},
		{name: "empty param value", in: "<sip:a@b>;tag=", wantErr: true},
		{name: "unclosed quoted param", in: `<sip:a@b>;x="open`, wantErr: true},
		{name: "unclosed IPv6 param", in: "<sip:a@b>;maddr=[::1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := ParseNameAddr([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error; got display %q URI %q params %q", n.Display, n.URI, n.Params)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if string(n.Display) != tt.display || string(n.URI) != tt.uri || string(n.Params) != tt.params {
				t.Errorf("got display %q URI %q params %q, want %q %q %q", n.Display, n.URI, n.Params, tt.display, tt.uri, tt.params)
			}
			tag, ok := n.Param("tag")
			if string(tag) != tt.tag || ok != (tt.tag != "") {
				t.Errorf("tag = %q, %v; want %q", tag, ok, tt.tag)
			}
		})
	}
}
