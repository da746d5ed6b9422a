package registrar

import "testing"

func TestURIEqualRFC3261s19_1_4(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		// The equal pairs of §19.1.4.
		{"sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp", true},
		{"sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true},
		{"sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true},
		{"sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on", true},
		{"sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
			"sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com", true},
		{"sip:alice@atlanta.com?subject=project%20x&priority=urgent",
			"sip:alice@atlanta.com?priority=urgent&subject=project%20x", true},
		// The unequal pairs of §19.1.4.
		{"SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP", false},
		{"sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false},
		{"sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false},
		{"sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp", false},
		{"sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting", false},
		{"sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false},
		// Host and scheme case, user case.
		{"sip:a@HOST", "sip:a@host", true},
		{"SIP:a@host", "sip:a@host", true},
		{"sip:A@host", "sip:a@host", false},
		{"sip:a:PW@host", "sip:a:pw@host", false},
		{"sip:a@host", "sips:a@host", false},
		{"sip:a@host", "sip:host", false},
		// Transport: the value's case does not matter, its presence and value do.
		{"sip:a@host;transport=tcp", "sip:a@host;transport=TCP", true},
		{"sip:a@host;transport=tcp", "sip:a@host;transport=udp", false},
		{"sip:a@host;transport=tcp", "sip:a@host", false},
		// user, ttl, method and maddr in only one URI never match.
		{"sip:a@host;user=phone", "sip:a@host", false},
		{"sip:a@host;ttl=1", "sip:a@host", false},
		{"sip:a@host;method=INVITE", "sip:a@host", false},
		{"sip:a@host;maddr=239.1.1.1", "sip:a@host", false},
		{"sip:a@host;lr;ob", "sip:a@host;ob", true},
		{"sip:a@host;ob=1", "sip:a@host;ob=2", false},
		// Escapes: an unreserved character equals its escape, a reserved one does not;
		// the hex digits' case does not matter.
		{"sip:%41@host", "sip:A@host", true},
		{"sip:a%3bb@host", "sip:a%3Bb@host", true},
		{"sip:a%3bb@host", "sip:a;b@host", false},
		// IP addresses compare as addresses; ports must be equal.
		{"sip:a@[::1]:5060", "sip:a@[0:0::1]:5060", true},
		{"sip:a@[::1]:5060", "sip:a@[::1]:5061", false},
		// Other schemes and what does not parse.
		{"tel:+15551234", "TEL:+15551234", true},
		{"tel:+15551234", "tel:+15551235", false},
		{"sip:a@host;x", "sip:a@host;x", true},
		{"not a uri", "Not a uri", false},
	}
	for _, tc := range tests {
		if got := URIEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("URIEqual(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := URIEqual(tc.b, tc.a); got != tc.want {
			t.Errorf("URIEqual(%q, %q) = %v, want %v (not symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}
