package sip

import "testing"

func TestParam(t *testing.T) {
	tests := []struct {
		params, name string
		value        string
		found        bool
		flag         bool // found without a value
	}{
		{";a=1;b;c=2", "a", "1", true, false},
		{";a=1;b;c=2", "b", "", true, true},
		{";a=1;b;c=2", "C", "2", true, false},
		{";a=1;b;c=2", "d", "", false, false},
		{"; a = 1 ;\tb = two", "b", "two", true, false},
		{`;x="a;b=c";y=2`, "y", "2", true, false},
		{`;x="a;b=c";y=2`, "b", "", false, false},
		{`;x="q\";y=3";y=4`, "y", "4", true, false},
		{";maddr=[2001:db8::1];lr", "maddr", "[2001:db8::1]", true, false},
		{";;a=1", "a", "1", true, false}, // lookup is lenient; validation is not
		{"a=1", "a", "1", true, false},
		{"", "a", "", false, false},
		{";", "a", "", false, false},
		{";tagx=1", "tag", "", false, false},
	}
	for _, tt := range tests {
		v, ok := Param([]byte(tt.params), tt.name)
		if ok != tt.found || string(v) != tt.value || (ok && (v == nil) != tt.flag) {
			t.Errorf("Param(%q, %q) = %q, %v; want %q, %v (flag %v)", tt.params, tt.name, v, ok, tt.value, tt.found, tt.flag)
		}
	}
}

func TestSplitComma(t *testing.T) {
	tests := []struct {
		in          string
		first, rest string
		noRest      bool
	}{
		{in: "a, b", first: "a", rest: " b"},
		{in: "a", first: "a", noRest: true},
		{in: ",b", first: "", rest: "b"},
		{in: `"x, y" <sip:a>, <sip:b>`, first: `"x, y" <sip:a>`, rest: " <sip:b>"},
		{in: `<sip:a;p=1,2>, b`, first: "<sip:a;p=1,2>", rest: " b"},
		{in: `"esc \" ,q" <sip:a>, b`, first: `"esc \" ,q" <sip:a>`, rest: " b"},
		{in: `"esc \\", b`, first: `"esc \\"`, rest: " b"},
		{in: `"unterminated, b`, first: `"unterminated, b`, noRest: true},
		{in: `<unterminated, b`, first: `<unterminated, b`, noRest: true},
		{in: `<a>, "b, c" <d>, e`, first: "<a>", rest: ` "b, c" <d>, e`},
		{in: `SIP/2.0/UDP h;x="a,b", SIP/2.0/TCP g`, first: `SIP/2.0/UDP h;x="a,b"`, rest: " SIP/2.0/TCP g"},
	}
	for _, tt := range tests {
		first, rest := splitComma([]byte(tt.in))
		if string(first) != tt.first || string(rest) != tt.rest || (rest == nil) != tt.noRest {
			t.Errorf("splitComma(%q) = %q, %q; want %q, %q", tt.in, first, rest, tt.first, tt.rest)
		}
	}
}

func TestTrimLWS(t *testing.T) {
	for in, want := range map[string]string{" \t a b \r\n": "a b", "": "", "  ": "", "x": "x"} {
		if got := string(trimLWS([]byte(in))); got != want {
			t.Errorf("trimLWS(%q) = %q", in, got)
		}
	}
}

func TestParseUint(t *testing.T) {
	for _, tt := range []struct {
		in  string
		max uint64
		n   uint64
		ok  bool
	}{
		{"0", 255, 0, true}, {"9", 5, 0, false}, {"5", 5, 5, true}, {"0068", 255, 68, true}, {"255", 255, 255, true}, {"256", 255, 0, false},
		{"", 255, 0, false}, {"-1", 255, 0, false}, {"1 ", 255, 0, false},
		{"36893488147419103232", 1<<31 - 1, 0, false}, {"99999999999999999999999", 1<<64 - 1, 0, false},
	} {
		n, ok := parseUint([]byte(tt.in), tt.max)
		if n != tt.n || ok != tt.ok {
			t.Errorf("parseUint(%q, %d) = %d, %v", tt.in, tt.max, n, ok)
		}
	}
}
