package sipserver

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parley-sip/parley/internal/sip"
)

// TestFallbackStatus: the response the Server sends when a handler returned
// without a final one, as middlewares that count responses see it.
func TestFallbackStatus(t *testing.T) {
	tests := []struct {
		name      string
		method    sip.Method
		err       error
		cancelled bool
		want      int
		sent      bool
	}{
		{"nil error", sip.OPTIONS, nil, false, 500, true},
		{"status error", sip.REGISTER, Reject(423, "", ""), false, 423, true},
		{"wrapped status error", sip.REGISTER, fmt.Errorf("x: %w", Error(503, errors.New("db"))), false, 503, true},
		{"plain error", sip.MESSAGE, errors.New("boom"), false, 500, true},
		{"cancelled INVITE", sip.INVITE, nil, true, 487, true},
		{"cancelled INVITE with an error", sip.INVITE, Reject(480, "", ""), true, 480, true},
		{"cancelled non-INVITE", sip.BYE, nil, true, 500, true},
		{"forwarded statelessly", sip.INVITE, ErrNoResponse, false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, sent := FallbackStatus(tt.method, tt.err, tt.cancelled)
			if code != tt.want || sent != tt.sent {
				t.Errorf("FallbackStatus = %d, %v; want %d, %v", code, sent, tt.want, tt.sent)
			}
		})
	}
}

// TestOptionsHeaders: the answer to OPTIONS always carries Supported
// (RFC 3261 §11.2), with an empty value when no option tag is supported
// (§20.37 allows it).
func TestOptionsHeaders(t *testing.T) {
	tests := []struct {
		name      string
		supported []string
		want      string
	}{
		{"path", []string{"path"}, "Supported: path\r\n"},
		{"two tags", []string{"path", "gruu"}, "Supported: path, gruu\r\n"},
		{"none", nil, "Supported:\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := optionsHeaders("ACK, OPTIONS", tt.supported)
			if !strings.Contains(got, "\r\n"+tt.want) || !strings.HasPrefix(got, "Allow: ACK, OPTIONS\r\nAccept: application/sdp\r\n") {
				t.Errorf("optionsHeaders = %q, want Allow, Accept and %q", got, tt.want)
			}
		})
	}
}
