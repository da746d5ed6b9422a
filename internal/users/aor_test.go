package users

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAOR(t *testing.T) {
	tests := []struct {
		in, user, domain string
		wantErr          string
	}{
		{in: "alice@example.com", user: "alice", domain: "example.com"},
		{in: "Alice@EXAMPLE.Com.", user: "Alice", domain: "example.com"},
		{in: "sip:bob@example.com", user: "bob", domain: "example.com"},
		{in: "SIPS:bob@example.com", user: "bob", domain: "example.com"},
		{in: "+15551234;phone-context=x@example.com", user: "+15551234;phone-context=x", domain: "example.com"},
		{in: "a.b-c_d!~*'()&=+$,?/@example.com", user: "a.b-c_d!~*'()&=+$,?/", domain: "example.com"},
		{in: "j%C3%BCrgen@example.com", user: "jürgen", domain: "example.com"},
		{in: "%40home@example.com", user: "@home", domain: "example.com"},
		{in: "alice@192.0.2.1", user: "alice", domain: "192.0.2.1"},
		{in: "alice@a-1.x9", user: "alice", domain: "a-1.x9"},

		{in: "alice", wantErr: "want user@domain"},
		{in: "@example.com", wantErr: "want user@domain"},
		{in: "alice@", wantErr: "missing domain"},
		{in: "al ice@example.com", wantErr: "not allowed"},
		{in: "al\"ice@example.com", wantErr: "not allowed"},
		{in: "a@b@example.com", wantErr: "bad domain label"},
		{in: "alice%2@example.com", wantErr: "not allowed"},
		{in: "alice%zz@example.com", wantErr: "not allowed"},
		{in: "al%20ice@example.com", wantErr: "printable"},
		{in: "al%00ice@example.com", wantErr: "printable"},
		{in: "al%FFice@example.com", wantErr: "printable"},
		{in: strings.Repeat("a", 65) + "@example.com", wantErr: "longer than 64"},
		{in: "alice@exa_mple.com", wantErr: "bad domain label"},
		{in: "alice@-example.com", wantErr: "bad domain label"},
		{in: "alice@example-.com", wantErr: "bad domain label"},
		{in: "alice@example..com", wantErr: "bad domain label"},
		{in: "alice@example.123", wantErr: "starting with a letter"},
		{in: "alice@[2001:db8::1]", wantErr: "bad domain label"},
		{in: "alice@example.com:5060", wantErr: "bad domain label"},
		{in: "alice@" + strings.Repeat("a", 64) + ".com", wantErr: "bad domain label"},
		{in: "alice@" + strings.Repeat("abcdefghi.", 19) + "com", wantErr: "longer than 190"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			user, domain, err := ParseAOR(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrBadAOR) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrBadAOR with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || user != tt.user || domain != tt.domain {
				t.Fatalf("got %q, %q, %v; want %q, %q", user, domain, err, tt.user, tt.domain)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		pw   string
		weak bool
	}{
		{"", true}, {"12345", true}, {"äöüäö", true}, {"alice", true}, {"ALICE", true}, {"alice@example.com", true},
		{"123456", false}, {"äöüäöü", false}, {"alice1", false}, {"correct horse", false},
	}
	for _, tt := range tests {
		err := checkPassword("alice", "example.com", tt.pw)
		if tt.weak != errors.Is(err, ErrWeakPassword) {
			t.Errorf("checkPassword(%q) = %v, weak want %v", tt.pw, err, tt.weak)
		}
	}
	if err := checkPassword("longusername", "example.com", "longusername"); !errors.Is(err, ErrWeakPassword) {
		t.Error("password equal to a long user name accepted")
	}
}

func TestUserAOR(t *testing.T) {
	for user, want := range map[string]string{"alice": "alice@example.com", "@home": "%40home@example.com", "jürgen": "j%C3%BCrgen@example.com"} {
		if got := (User{Username: user, Domain: "example.com"}).AOR(); got != want {
			t.Errorf("AOR(%q) = %q, want %q", user, got, want)
		}
		if u, _, err := ParseAOR(want); err != nil || u != user {
			t.Errorf("round trip of %q: %q, %v", user, u, err)
		}
	}
}
