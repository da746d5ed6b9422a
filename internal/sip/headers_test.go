package sip

import (
	"strings"
	"testing"
)

func TestLookupHeader(t *testing.T) {
	tests := map[string]HeaderKind{
		"Via": HdrVia, "via": HdrVia, "VIA": HdrVia, "vIa": HdrVia, "v": HdrVia, "V": HdrVia,
		"From": HdrFrom, "f": HdrFrom, "To": HdrTo, "t": HdrTo, "T": HdrTo,
		"Call-ID": HdrCallID, "call-id": HdrCallID, "i": HdrCallID, "I": HdrCallID,
		"CSeq": HdrCSeq, "CSEQ": HdrCSeq, "Max-Forwards": HdrMaxForwards, "MaX-fOrWaRdS": HdrMaxForwards,
		"Route": HdrRoute, "Record-Route": HdrRecordRoute, "Contact": HdrContact, "m": HdrContact,
		"Expires": HdrExpires, "Content-Length": HdrContentLength, "l": HdrContentLength, "L": HdrContentLength,
		"Content-Type": HdrContentType, "c": HdrContentType, "Content-Encoding": HdrContentEncoding, "e": HdrContentEncoding,
		"Supported": HdrSupported, "k": HdrSupported, "Subject": HdrSubject, "s": HdrSubject,
		"Event": HdrEvent, "o": HdrEvent, "Allow-Events": HdrAllowEvents, "u": HdrAllowEvents,
		"Refer-To": HdrReferTo, "r": HdrReferTo, "Referred-By": HdrReferredBy, "b": HdrReferredBy,
		"Session-Expires": HdrSessionExpires, "x": HdrSessionExpires,
		"Proxy-Authorization": HdrProxyAuthorization, "WWW-Authenticate": HdrWWWAuthenticate,
		"Subscription-State": HdrSubscriptionState, "Proxy-Require": HdrProxyRequire,
		// Not known kinds.
		"X-Custom": HdrOther, "": HdrOther, "a": HdrOther, "j": HdrOther, "1": HdrOther, "@": HdrOther,
		"C%6Fntact": HdrOther, "Contacts": HdrOther, "Vias": HdrOther,
		strings.Repeat("x", 40): HdrOther,
	}
	for name, want := range tests {
		if got := LookupHeader([]byte(name)); got != want {
			t.Errorf("LookupHeader(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestHeaderKindString(t *testing.T) {
	for k := HdrVia; k < hkCount; k++ {
		if got := LookupHeader([]byte(k.String())); got != k {
			t.Errorf("%v does not look up to itself (%v)", k, got)
		}
	}
	if HdrOther.String() != "Other" || hkCount.String() != "Other" {
		t.Errorf("Other kinds: %q %q", HdrOther.String(), hkCount.String())
	}
}

func TestLookupMethod(t *testing.T) {
	for m := INVITE; m < methodCount; m++ {
		if LookupMethod([]byte(m.String())) != m {
			t.Errorf("%v does not look up to itself", m)
		}
	}
	for _, s := range []string{"invite", "RE%47IST%45R", "", "INVITEX"} {
		if LookupMethod([]byte(s)) != MethodUnknown {
			t.Errorf("%q is a known method", s)
		}
	}
	if methodCount.String() != "" {
		t.Errorf("out of range method has a name")
	}
}

func TestStatusText(t *testing.T) {
	if StatusText(483) != "Too Many Hops" || StatusText(299) != "" {
		t.Errorf("StatusText: %q %q", StatusText(483), StatusText(299))
	}
}
