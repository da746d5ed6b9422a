package auth

import "testing"

func TestSameURI(t *testing.T) {
	tests := []struct {
		digest, ruri string
		want         bool
	}{
		{"sip:example.com", "sip:example.com", true},
		{"sip:EXAMPLE.com", "sip:example.com", true},
		{"SIP:example.com", "sip:example.com", true},
		{"sip:%62ob@example.com", "sip:bob@example.com", true},
		{"sip:bob@example.com;transport=tcp;lr", "sip:bob@example.com;lr;TRANSPORT=TCP", true},
		{"sip:Bob@example.com", "sip:bob@example.com", false},
		{"sip:example.com:5060", "sip:example.com", false},
		{"sip:example.com;transport=tcp", "sip:example.com", false},
		{"sips:example.com", "sip:example.com", false},
		{"sip:example.net", "sip:example.com", false},
		{"tel:+15551234", "tel:+15551234", true},
		{"tel:+15551234", "tel:+15551235", false},
		{"not a uri", "sip:example.com", false},
		{"", "sip:example.com", false},
	}
	for _, tt := range tests {
		if got := sameURI(tt.digest, []byte(tt.ruri)); got != tt.want {
			t.Errorf("sameURI(%q, %q) = %v, want %v", tt.digest, tt.ruri, got, tt.want)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{"a%20b": "a b", "%4A%4a": "JJ", "50%": "50%", "%zz": "%zz", "plain": "plain"} {
		if got := unescape([]byte(in)); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}
