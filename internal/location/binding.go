package location

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Binding is one contact registered for an address-of-record (RFC 3261 §10.3).
type Binding struct {
	AOR         string         // "alice@example.test": user@domain, domain lowercased (key part 1)
	Contact     string         // the Contact URI exactly as registered (key part 2), without <> and header params
	Q           int            // q-value × 1000 (0..1000); the registrar uses 1000 when q is absent
	Expires     time.Time      // absolute expiry, kept to the millisecond
	CallID      string         // Call-ID of the REGISTER that made or refreshed it (§10.3 step 7)
	CSeq        uint32         // CSeq number of that REGISTER
	Path        []string       // Path header values, RFC 3327, in order
	Received    string         // where the REGISTER came from as a SIP URI for routing, "" if same as Contact
	Transport   string         // "UDP", "TCP", "TLS", "WS", "WSS"
	Source      netip.AddrPort // source address of the REGISTER
	Local       netip.AddrPort // local socket it arrived on
	ConnID      uint64         // transport connection id (0 for UDP) on the instance that holds it
	Instance    string         // which Parley instance holds that connection (shared-database mode)
	UserAgent   string         // User-Agent of the REGISTER
	SIPInstance string         // +sip.instance (RFC 5626 §4.1), "" if none
	RegID       int            // reg-id (RFC 5626 §4.2), 0 if none
	Updated     time.Time      // when the binding was last written by a REGISTER, kept to the millisecond
}

// Remaining returns how long b has left at now, 0 once it has expired.
func (b *Binding) Remaining(now time.Time) time.Duration {
	return max(b.Expires.Sub(now), 0)
}

// live reports whether b has not expired at now (unix milliseconds). A binding
// whose Expires equals now has expired.
func live(expiresMs, nowMs int64) bool { return expiresMs > nowMs }

// AOR returns the address-of-record key for user at host: "user@host" with the
// host lowercased (RFC 3261 §10.3 step 5; the user part stays case-sensitive,
// §19.1.4). With an empty user it is just the host.
func AOR(user, host string) string {
	if user == "" {
		return strings.ToLower(host)
	}
	return user + "@" + strings.ToLower(host)
}

// Errors returned by stores.
var (
	// ErrInvalid is wrapped by errors about a binding a store cannot keep: a
	// duplicate contact, a value out of range or too long, invalid UTF-8.
	ErrInvalid = errors.New("location: invalid binding")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("location: store closed")
	// ErrBacklog is returned by a write-back Cached store's Update when too many
	// changes wait for the database for longer than CachedOptions.PendingWait.
	ErrBacklog = errors.New("location: too many changes waiting for the database")
)

// Size limits every store enforces, so that all backends accept the same
// bindings (they match the columns of the SQL table).
const (
	MaxAOR       = 255     // bytes of an AOR
	MaxText      = 8 << 10 // bytes of Contact, CallID, Received, UserAgent, SIPInstance and of all Path values together
	MaxShort     = 128     // bytes of Instance and of Source/Local in text form
	MaxTransport = 16      // bytes of Transport
	MaxQ         = 1000    // largest Q
	MaxRegID     = math.MaxInt32
)

// Prepare checks the new binding set of aor and puts it in the form every
// Store keeps and returns: a copy with AOR set to aor, times truncated to the
// millisecond, bindings already expired at now dropped, ordered by [Less].
// Errors wrap [ErrInvalid]. Backends call it in Update.
func Prepare(aor string, bs []Binding, now time.Time) ([]Binding, error) {
	if err := checkAOR(aor); err != nil {
		return nil, err
	}
	nowMs := now.UnixMilli()
	out := make([]Binding, 0, len(bs))
	for i := range bs {
		b := bs[i]
		b.AOR = aor
		b.Expires = time.UnixMilli(b.Expires.UnixMilli())
		b.Updated = time.UnixMilli(b.Updated.UnixMilli())
		if err := check(&b); err != nil {
			return nil, err
		}
		if live(b.Expires.UnixMilli(), nowMs) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b Binding) int { return strings.Compare(a.Contact, b.Contact) })
	for i := 1; i < len(out); i++ {
		if out[i].Contact == out[i-1].Contact {
			return nil, fmt.Errorf("%w: duplicate contact %q", ErrInvalid, out[i].Contact)
		}
	}
	slices.SortStableFunc(out, Less)
	return out, nil
}

// Less orders the bindings of one AOR the way Lookup returns them: highest q
// first, then most recently updated first, then by contact.
func Less(a, b Binding) int {
	if c := cmp.Compare(b.Q, a.Q); c != 0 {
		return c
	}
	if c := b.Updated.Compare(a.Updated); c != 0 {
		return c
	}
	return strings.Compare(a.Contact, b.Contact)
}

func checkAOR(aor string) error {
	if aor == "" || len(aor) > MaxAOR {
		return fmt.Errorf("%w: AOR must have 1 to %d bytes", ErrInvalid, MaxAOR)
	}
	return checkText("AOR", aor, MaxAOR)
}

func check(b *Binding) error {
	switch {
	case b.Contact == "":
		return fmt.Errorf("%w: empty contact", ErrInvalid)
	case b.Q < 0 || b.Q > MaxQ:
		return fmt.Errorf("%w: q %d out of range 0..%d", ErrInvalid, b.Q, MaxQ)
	case b.RegID < 0 || b.RegID > MaxRegID:
		return fmt.Errorf("%w: reg-id %d out of range", ErrInvalid, b.RegID)
	case len(addrString(b.Source)) > MaxShort || len(addrString(b.Local)) > MaxShort:
		return fmt.Errorf("%w: address too long", ErrInvalid)
	}
	for _, f := range [...]struct {
		name, v string
		max     int
	}{
		{"contact", b.Contact, MaxText}, {"call-id", b.CallID, MaxText}, {"received", b.Received, MaxText},
		{"user-agent", b.UserAgent, MaxText}, {"+sip.instance", b.SIPInstance, MaxText},
		{"instance", b.Instance, MaxShort}, {"transport", b.Transport, MaxTransport},
	} {
		if err := checkText(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	return checkPath(b.Path)
}

func checkPath(path []string) error {
	n := 0
	for _, p := range path {
		if p == "" || strings.IndexByte(p, '\n') >= 0 {
			return fmt.Errorf("%w: Path value empty or with a newline", ErrInvalid)
		}
		if err := checkText("path", p, MaxText); err != nil {
			return err
		}
		n += len(p) + 1
	}
	if n > MaxText+1 {
		return fmt.Errorf("%w: Path longer than %d bytes", ErrInvalid, MaxText)
	}
	return nil
}

// checkText refuses what some database cannot store: too long, invalid UTF-8, NUL.
func checkText(name, v string, max int) error {
	if len(v) > max {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalid, name, max)
	}
	if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return fmt.Errorf("%w: %s is not valid UTF-8 text", ErrInvalid, name)
	}
	return nil
}

// addrString is the text form of an address as backends store it: "" for the
// zero value.
func addrString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
