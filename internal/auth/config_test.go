package auth

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"zero is fine", Config{}, ""},
		{"full", Config{NonceTTL: time.Minute, Secret: make([]byte, 32), Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, ""},
		{"negative ttl", Config{NonceTTL: -1}, "nonce_ttl"},
		{"tiny ttl", Config{NonceTTL: time.Second}, "too short"},
		{"short secret", Config{Secret: []byte("short")}, "auth.secret"},
		{"bad prefix", Config{Trusted: []netip.Prefix{{}}}, "auth.trusted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{Trusted: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/8")}}.withDefaults()
	if c.NonceTTL != DefaultNonceTTL || len(c.Secret) != 32 || c.Now == nil {
		t.Fatalf("defaults not set: %+v", c)
	}
	if c.Trusted[0].String() != "10.0.0.0/8" {
		t.Fatalf("prefix not masked: %v", c.Trusted[0])
	}
	if string(Config{}.withDefaults().Secret) == string(c.Secret) {
		t.Fatal("two random secrets are equal")
	}
}
