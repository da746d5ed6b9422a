package registrar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
)

// Config configures a Registrar.
type Config struct {
	MinExpires, MaxExpires, DefaultExpires int
	MaxContacts                            int // 0: no limit
	// Instance names this Parley in shared-database mode; stored with each binding.
	Instance string
	// Authenticated returns the user the request was authenticated as (the auth
	// middleware's finding), or ok=false when it was not authenticated.
	Authenticated func(ctx context.Context) (user, domain string, ok bool)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Registrar serves REGISTER requests for the domains of its Identity.
type Registrar struct {
	cfg   Config
	store location.Store
	id    *sipserver.Identity
	log   *slog.Logger
}

var _ sipserver.Handler = (*Registrar)(nil)

// New returns a Registrar over store.
func New(cfg Config, store location.Store, id *sipserver.Identity, log *slog.Logger) *Registrar {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Registrar{cfg: cfg, store: store, id: id, log: log}
}

// ServeSIP processes one REGISTER (RFC 3261 §10.3).
func (r *Registrar) ServeSIP(ctx context.Context, tx sipserver.ServerTx, req *sip.Message) error {
	aor, user, domain, err := r.aorOf(req)
	if err != nil {
		return err
	}
	if au, ad, ok := r.authenticated(ctx); ok && (au != user || ad != domain) {
		return sipserver.Reject(403, "Forbidden", "")
	}
	contacts, star, err := parseContacts(req)
	if err != nil {
		return err
	}
	now := r.cfg.Now()
	var bindings []location.Binding
	if len(contacts) == 0 && !star {
		bindings, err = r.store.Lookup(ctx, aor)
	} else {
		bindings, err = r.store.Update(ctx, aor, func(cur []location.Binding) ([]location.Binding, error) {
			return r.apply(cur, req, tx, aor, contacts, star, now)
		})
	}
	if err != nil {
		var se *sipserver.StatusError
		if errors.As(err, &se) {
			return err
		}
		r.log.Error("location store failed", "aor", aor, "err", err)
		return sipserver.Reject(500, "Server Internal Error", "")
	}
	return tx.Reply(200, "", r.okHeaders(req, bindings, now))
}

func (r *Registrar) authenticated(ctx context.Context) (string, string, bool) {
	if r.cfg.Authenticated == nil {
		return "", "", false
	}
	return r.cfg.Authenticated(ctx)
}

// aorOf returns the address-of-record of the To header (§10.3 step 5).
func (r *Registrar) aorOf(req *sip.Message) (aor, user, domain string, err error) {
	u, perr := sip.ParseURI(req.To.URI)
	if perr != nil || !u.IsSIP() {
		return "", "", "", sipserver.Reject(404, "Not Found", "") // §10.3 step 3: not an AOR of this domain
	}
	if len(u.User) == 0 || !r.id.IsDomain(u.Host) {
		return "", "", "", sipserver.Reject(404, "Not Found", "")
	}
	user, domain = Unescape(string(u.User)), strings.ToLower(string(u.Host))
	return user + "@" + domain, user, domain, nil
}

// AOR returns the address-of-record key of a SIP URI: unescaped user @ lowercase host.
func AOR(uri []byte) (string, bool) {
	u, err := sip.ParseURI(uri)
	if err != nil || !u.IsSIP() || len(u.User) == 0 {
		return "", false
	}
	return Unescape(string(u.User)) + "@" + strings.ToLower(string(u.Host)), true
}

// Unescape decodes %XX escapes (RFC 3261 §19.1.4: escaped and unescaped characters compare equal).
func Unescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// okHeaders builds the Contact, Date and Path lines of the 200 (§10.3 step 8).
func (r *Registrar) okHeaders(req *sip.Message, bs []location.Binding, now time.Time) []byte {
	var b []byte
	for i := range bs {
		b = fmt.Appendf(b, "Contact: <%s>;expires=%d", bs[i].Contact, int(bs[i].Remaining(now).Round(time.Second)/time.Second))
		if bs[i].Q != 1000 {
			b = fmt.Appendf(b, ";q=%s", formatQ(bs[i].Q))
		}
		b = append(b, "\r\n"...)
	}
	b = append(b, "Date: "...) // §20.17: an RFC 1123 date, always in GMT
	b = append(b, now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")...)
	b = append(b, "\r\n"...)
	if supports(req, "path") {
		it := req.Values(sip.HdrPath)
		for v, ok := it.Next(); ok; v, ok = it.Next() {
			b = fmt.Appendf(b, "Path: %s\r\n", v)
		}
	}
	return b
}

func formatQ(q int) string { return strconv.FormatFloat(float64(q)/1000, 'f', -1, 64) }

func supports(req *sip.Message, tag string) bool {
	it := req.Values(sip.HdrSupported)
	for v, ok := it.Next(); ok; v, ok = it.Next() {
		if strings.EqualFold(string(v), tag) {
			return true
		}
	}
	return false
}
