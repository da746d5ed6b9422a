package transaction

import (
	"strings"
	"testing"

	"github.com/parley-sip/parley/internal/sip"
)

func mustVia(t *testing.T, s string) *sip.Via {
	t.Helper()
	v, err := sip.ParseVia([]byte(s))
	if err != nil {
		t.Fatalf("ParseVia(%q): %v", s, err)
	}
	return &v
}

// TestSignedBranch: a branch signed by SignBranch verifies with the same
// secret and the Via it was signed over, and with nothing else.
func TestSignedBranch(t *testing.T) {
	l := New(Config{BranchSecret: []byte("s3cret")}, &recorder{}, newCore(nil), nil)
	prev := mustVia(t, "SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-client;rport=5070;received=192.0.2.10")
	b := l.SignBranch(prev, sip.BranchMagic+"0123456789abcdef.fedcba9876543210")
	if !strings.HasPrefix(b, sip.BranchMagic+"0123456789abcdef.fedcba9876543210.") || len(b) != 7+33+1+branchSigLen {
		t.Fatalf("signed branch %q", b)
	}
	sameSecret := New(Config{BranchSecret: []byte("s3cret")}, &recorder{}, newCore(nil), nil)
	otherSecret := New(Config{BranchSecret: []byte("other")}, &recorder{}, newCore(nil), nil)
	random := New(Config{}, &recorder{}, newCore(nil), nil)
	tests := []struct {
		name   string
		l      *Layer
		branch string
		prev   *sip.Via
		want   bool
	}{
		{"as signed", l, b, prev, true},
		{"same secret, another layer (a restart)", sameSecret, b, prev, true},
		{"sent-by case does not matter", l, b, mustVia(t, "SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-client"), true},
		{"signature in upper case", l, b[:len(b)-branchSigLen] + strings.ToUpper(b[len(b)-branchSigLen:]), prev, true},
		{"another secret", otherSecret, b, prev, false},
		{"random secret", random, b, prev, false},
		{"relayed to another host", l, b, mustVia(t, "SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bK-client"), false},
		{"relayed to another port", l, b, mustVia(t, "SIP/2.0/UDP 192.0.2.10:5071;branch=z9hG4bK-client"), false},
		{"another branch below", l, b, mustVia(t, "SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-other"), false},
		{"no Via below", l, b, nil, false},
		{"unique part changed", l, strings.Replace(b, "0123", "0124", 1), prev, false},
		{"signature changed", l, b[:len(b)-1] + "x", prev, false},
		{"unsigned branch", l, sip.BranchMagic + "0123456789abcdef.fedcba9876543210", prev, false},
		{"RFC 2543 branch", l, "1234567890123456789012345", prev, false},
		{"empty", l, "", prev, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.OwnBranch([]byte(tt.branch), tt.prev); got != tt.want {
				t.Errorf("OwnBranch(%q) = %v, want %v", tt.branch, got, tt.want)
			}
		})
	}
	originated := l.SignBranch(nil, NewBranch())
	if !l.OwnBranch([]byte(originated), nil) || l.OwnBranch([]byte(originated), prev) {
		t.Errorf("a branch signed with no Via below verifies only with none")
	}
}
