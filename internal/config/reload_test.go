package config

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestCheckReload(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string // fields refused; nil = reload allowed
	}{
		{"unchanged", func(*Config) {}, nil},
		{"reloadable fields", func(c *Config) {
			c.Domain = []string{"example.com"}
			c.LogLevel = "debug"
			c.TLSCert, c.TLSKey = "/new/cert.pem", "/new/key.pem"
			c.Timers.T1 = Duration(time.Second)
			c.Limits.MaxHeaders = 10
			c.ReasonPhrases = map[int]string{404: "Gone Fishing"}
		}, nil},
		{"listen", func(c *Config) { c.Listen = append(c.Listen, "tls:0.0.0.0:5061") }, []string{"listen"}},
		{"listen order", func(c *Config) { slices.Reverse(c.Listen) }, []string{"listen"}},
		{"db", func(c *Config) { c.DB = "sqlite:other.db" }, []string{"db"}},
		{"capture size", func(c *Config) { c.Limits.CaptureMessages = 0 }, []string{"limits.capture_messages"}},
		{"websocket origins", func(c *Config) { c.WebSocket.AllowedOrigins = []string{"*.example.com"} },
			[]string{"websocket.allowed_origins"}},
		{"all three", func(c *Config) {
			c.Listen = []string{"udp:127.0.0.1:5060"}
			c.HTTP = "off"
			c.DB = "mysql://db/parley"
		}, []string{"listen", "db", "http"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := Default()
			next := old.Clone()
			tt.change(next)
			err := CheckReload(old, next)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckReload = %v, want nil", err)
				}
				return
			}
			re, ok := errors.AsType[*ReloadError](err)
			if !ok || !slices.Equal(re.Fields, tt.want) {
				t.Fatalf("CheckReload = %v, want fields %v", err, tt.want)
			}
		})
	}
}

func TestCheckReloadNilEqualsEmpty(t *testing.T) {
	old, next := Default(), Default()
	old.Listen, next.Listen = nil, []string{}
	if err := CheckReload(old, next); err != nil {
		t.Errorf("nil vs empty listen: %v", err)
	}
}

func TestReloadErrorMessage(t *testing.T) {
	err := &ReloadError{Fields: []string{"listen", "http"}}
	if got, want := err.Error(), "config: cannot reload listen, http: restart Parley to change them"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
