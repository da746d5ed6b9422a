package sip

// HeaderKind identifies a header field Parley knows by name. Unknown headers are HdrOther.
type HeaderKind uint8

// Known header kinds. The order is not significant.
const (
	HdrOther HeaderKind = iota
	HdrVia
	HdrFrom
	HdrTo
	HdrCallID
	HdrCSeq
	HdrMaxForwards
	HdrRoute
	HdrRecordRoute
	HdrContact
	HdrExpires
	HdrContentLength
	HdrContentType
	HdrContentEncoding
	HdrRequire
	HdrProxyRequire
	HdrSupported
	HdrUnsupported
	HdrAllow
	HdrAccept
	HdrAuthorization
	HdrProxyAuthorization
	HdrWWWAuthenticate
	HdrProxyAuthenticate
	HdrEvent
	HdrAllowEvents
	HdrPath
	HdrServiceRoute
	HdrDate
	HdrMinExpires
	HdrUserAgent
	HdrServer
	HdrSubject
	HdrReferTo
	HdrReferredBy
	HdrRetryAfter
	HdrSessionExpires
	HdrSubscriptionState
	HdrTimestamp
	hkCount
)

// canonicalNames holds the full name of each kind as Parley writes it.
var canonicalNames = [hkCount]string{
	HdrVia: "Via", HdrFrom: "From", HdrTo: "To", HdrCallID: "Call-ID", HdrCSeq: "CSeq",
	HdrMaxForwards: "Max-Forwards", HdrRoute: "Route", HdrRecordRoute: "Record-Route",
	HdrContact: "Contact", HdrExpires: "Expires", HdrContentLength: "Content-Length",
	HdrContentType: "Content-Type", HdrContentEncoding: "Content-Encoding", HdrRequire: "Require",
	HdrProxyRequire: "Proxy-Require", HdrSupported: "Supported", HdrUnsupported: "Unsupported",
	HdrAllow: "Allow", HdrAccept: "Accept", HdrAuthorization: "Authorization",
	HdrProxyAuthorization: "Proxy-Authorization", HdrWWWAuthenticate: "WWW-Authenticate",
	HdrProxyAuthenticate: "Proxy-Authenticate", HdrEvent: "Event", HdrAllowEvents: "Allow-Events",
	HdrPath: "Path", HdrServiceRoute: "Service-Route", HdrDate: "Date", HdrMinExpires: "Min-Expires",
	HdrUserAgent: "User-Agent", HdrServer: "Server", HdrSubject: "Subject", HdrReferTo: "Refer-To",
	HdrReferredBy: "Referred-By", HdrRetryAfter: "Retry-After", HdrSessionExpires: "Session-Expires",
	HdrSubscriptionState: "Subscription-State", HdrTimestamp: "Timestamp",
}

// compactForms maps RFC 3261 §7.3.3 (and later RFCs') one-letter names to kinds.
var compactForms = [26]HeaderKind{
	'b' - 'a': HdrReferredBy, 'c' - 'a': HdrContentType, 'e' - 'a': HdrContentEncoding,
	'f' - 'a': HdrFrom, 'i' - 'a': HdrCallID, 'k' - 'a': HdrSupported, 'l' - 'a': HdrContentLength,
	'm' - 'a': HdrContact, 'o' - 'a': HdrEvent, 'r' - 'a': HdrReferTo, 's' - 'a': HdrSubject,
	't' - 'a': HdrTo, 'u' - 'a': HdrAllowEvents, 'v' - 'a': HdrVia, 'x' - 'a': HdrSessionExpires,
}

// byLength groups the kinds by the length of their full name, for a lookup that
// compares at most a few candidates.
var byLength = func() [24][]HeaderKind {
	var t [24][]HeaderKind
	for k := HdrVia; k < hkCount; k++ {
		n := len(canonicalNames[k])
		t[n] = append(t[n], k)
	}
	return t
}()

// String returns the canonical header name.
func (k HeaderKind) String() string {
	if k == HdrOther || k >= hkCount {
		return "Other"
	}
	return canonicalNames[k]
}

// LookupHeader returns the kind of a header name (case-insensitive, compact forms
// included), or HdrOther. It does not allocate.
func LookupHeader(name []byte) HeaderKind {
	if len(name) == 1 {
		c := name[0] | 0x20
		if c >= 'a' && c <= 'z' {
			return compactForms[c-'a']
		}
		return HdrOther
	}
	if len(name) >= len(byLength) {
		return HdrOther
	}
	for _, k := range byLength[len(name)] {
		if equalFold(name, canonicalNames[k]) {
			return k
		}
	}
	return HdrOther
}

// equalFold compares ASCII case-insensitively without allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || (x|0x20) < 'a' || (x|0x20) > 'z' {
			return false
		}
	}
	return true
}

// Method is a SIP request method. Extension methods are MethodUnknown; their
// token is kept in the message (Message.MethodName).
type Method uint8

// Methods of RFC 3261 and its extensions that Parley relays or handles.
const (
	MethodUnknown Method = iota
	INVITE
	ACK
	BYE
	CANCEL
	REGISTER
	OPTIONS
	SUBSCRIBE
	NOTIFY
	PUBLISH
	MESSAGE
	INFO
	UPDATE
	PRACK
	REFER
	methodCount
)

var methodNames = [methodCount]string{"", "INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS",
	"SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE", "INFO", "UPDATE", "PRACK", "REFER"}

// String returns the method token.
func (m Method) String() string {
	if m >= methodCount {
		return ""
	}
	return methodNames[m]
}

// LookupMethod returns the Method for a token. Methods are case-sensitive (RFC 3261 §7.1).
func LookupMethod(tok []byte) Method {
	for m := INVITE; m < methodCount; m++ {
		if string(tok) == methodNames[m] {
			return m
		}
	}
	return MethodUnknown
}

var statusText = map[int]string{
	100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
	183: "Session Progress", 200: "OK", 202: "Accepted", 300: "Multiple Choices",
	301: "Moved Permanently", 302: "Moved Temporarily", 305: "Use Proxy", 380: "Alternative Service",
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
	404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
	407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone",
	413: "Request Entity Too Large", 414: "Request-URI Too Long", 415: "Unsupported Media Type",
	416: "Unsupported URI Scheme", 420: "Bad Extension", 421: "Extension Required",
	423: "Interval Too Brief", 480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
	482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete", 485: "Ambiguous",
	486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here", 489: "Bad Event",
	491: "Request Pending", 493: "Undecipherable", 500: "Server Internal Error",
	501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
	504: "Server Time-out", 505: "Version Not Supported", 513: "Message Too Large",
	600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere", 606: "Not Acceptable",
}
