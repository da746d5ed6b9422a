package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-sip/parley/internal/acc"
	"github.com/parley-sip/parley/internal/auth"
	"github.com/parley-sip/parley/internal/proxy"
	"github.com/parley-sip/parley/internal/sip"
	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transaction"
	"github.com/parley-sip/parley/internal/transport"
)

// fakeTx is a ServerTx that remembers the codes sent.
type fakeTx struct {
	mu        sync.Mutex
	codes     []int
	final     bool
	cancelled chan struct{}
}

func newFakeTx() *fakeTx { return &fakeTx{cancelled: make(chan struct{})} }

func (f *fakeTx) Reply(code int, _ string, _ []byte) error { return f.send(code) }
func (f *fakeTx) ReplyBody(code int, _ string, _ []byte, _ string, _ []byte) error {
	return f.send(code)
}
func (f *fakeTx) Respond(res *sip.Message) error { return f.send(res.StatusCode()) }
func (f *fakeTx) Remote() netip.AddrPort         { return netip.MustParseAddrPort("192.0.2.1:5060") }
func (f *fakeTx) Transport() transport.Proto     { return transport.UDP }
func (f *fakeTx) ToTag() []byte                  { return []byte("tag") }
func (f *fakeTx) Origin() transaction.Source     { return transaction.Source{} }
func (f *fakeTx) Cancelled() <-chan struct{}     { return f.cancelled }
func (f *fakeTx) Responded() bool                { f.mu.Lock(); defer f.mu.Unlock(); return f.final }
func (f *fakeTx) send(code int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.final {
		return transaction.ErrFinalSent
	}
	f.codes = append(f.codes, code)
	f.final = code >= 200
	return nil
}

func request(t testing.TB, method string) *sip.Message {
	t.Helper()
	raw := method + " sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nMax-Forwards: 70\r\n" +
		"From: <sip:alice@example.test>;tag=1\r\nTo: <sip:bob@example.test>\r\nCall-ID: c1\r\nCSeq: 1 " + method +
		"\r\nContent-Length: 0\r\n\r\n"
	var m sip.Message
	if err := sip.Parse([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// fakeSources are fixed values for every collector.
type fakeSources struct{ bindings int }

func (fakeSources) Stats() sipserver.Stats {
	s := sipserver.Stats{Panics: 1, StrayDropped: 2, StatelessACKs: 3, CancelsAnswered: 4,
		Transactions: transaction.Stats{Malformed: 5, Dropped: 6, Rejected: 7, ServerTransactions: 8,
			ClientTransactions: 9, Retransmissions: 10, RetransmitsSent: 11, Timeouts: 12, Live: 13, SendErrors: 14}}
	s.Transport.TCP = transport.ProtoStats{MessagesIn: 20, MessagesOut: 21, ConnsOpen: 2, ConnsAccepted: 22, ConnsDialed: 23,
		ConnsRefused: 24, HandshakeFails: 25, DroppedOversize: 26, DroppedGarbage: 27, KeepalivesIn: 28,
		SendQueueFull: 33, SendErrors: 34}
	s.Transport.WSS = transport.ProtoStats{SendQueueFull: 35, SendErrors: 36}
	s.Transport.UDP.MessagesIn = 30
	s.Transport.CertReloads, s.Transport.CertReloadErrors = 31, 32
	return s
}

func (f fakeSources) Count(context.Context) (int, error) { return f.bindings, nil }

func (fakeSources) List() []proxy.Dialog {
	return []proxy.Dialog{{State: proxy.Early}, {State: proxy.Confirmed}, {State: proxy.Confirmed}}
}

type fakeAuth struct{}

func (fakeAuth) Stats() auth.Stats {
	return auth.Stats{Challenges: 10, Stale: 3, Forged: 1, Replays: 2, Accepted: 40, Rejected: 5, Malformed: 6,
		StoreErrors: 7, StoreStale: 9, Nonces: 8}
}

type discard struct{ n int }

func (d *discard) Record(acc.Record) { d.n++ }

func newTest(t *testing.T, src Sources, opts Options) *Metrics {
	t.Helper()
	m, err := New(prometheus.NewRegistry(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// scrape returns the text exposition of m.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d\n%s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// wantLines fails unless every line is in the exposition.
func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	have := map[string]bool{}
	for l := range strings.SplitSeq(text, "\n") {
		have[l] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("missing %q", l)
		}
	}
}

// TestCollectors: every family read at scrape time shows the source's values.
func TestCollectors(t *testing.T) {
	cdr := &discard{}
	calls := CountCalls(cdr)
	for _, d := range []acc.Disposition{acc.Answered, acc.Answered, acc.Busy, "weird"} {
		calls.Record(acc.Record{Disposition: d})
	}
	if cdr.n != 4 {
		t.Errorf("CallCounter passed on %d records, want 4", cdr.n)
	}
	src := fakeSources{bindings: 42}
	m := newTest(t, Sources{SIP: src, Locations: src, Calls: src, CallRecords: calls, Auth: fakeAuth{}}, Options{Version: "1.2.3"})
	wantLines(t, scrape(t, m),
		`parley_build_info{version="1.2.3"} 1`,
		`parley_sip_requests_total{method="ACK"} 3`,
		`parley_sip_requests_total{method="CANCEL"} 4`,
		`parley_sip_requests_total{method="other"} 0`,
		`parley_sip_responses_total{code="200",method="CANCEL"} 4`,
		`parley_sip_handler_panics_total 1`,
		`parley_sip_transactions 13`,
		`parley_sip_transactions_created_total{kind="server"} 8`,
		`parley_sip_transactions_created_total{kind="client"} 9`,
		`parley_sip_transaction_timeouts_total 12`,
		`parley_sip_retransmissions_total{direction="received"} 10`,
		`parley_sip_retransmissions_total{direction="sent"} 11`,
		`parley_sip_transactions_rejected_total 7`,
		`parley_sip_parse_errors_total 5`,
		`parley_sip_messages_dropped_total{reason="malformed"} 6`,
		`parley_sip_messages_dropped_total{reason="stray_response"} 2`,
		`parley_sip_send_errors_total 14`,
		`parley_transport_messages_total{direction="in",transport="tcp"} 20`,
		`parley_transport_messages_total{direction="out",transport="tcp"} 21`,
		`parley_transport_messages_total{direction="in",transport="udp"} 30`,
		`parley_transport_keepalives_total{transport="tcp"} 28`,
		`parley_transport_messages_dropped_total{reason="oversize",transport="tcp"} 26`,
		`parley_transport_messages_dropped_total{reason="garbage",transport="tcp"} 27`,
		`parley_transport_connections{transport="tcp"} 2`,
		`parley_transport_connections{transport="wss"} 0`,
		`parley_transport_connections_opened_total{direction="inbound",transport="tcp"} 22`,
		`parley_transport_connections_opened_total{direction="outbound",transport="tcp"} 23`,
		`parley_transport_connections_refused_total{transport="tcp"} 24`,
		`parley_transport_handshake_failures_total{transport="tcp"} 25`,
		`parley_transport_send_queue_full_total{transport="tcp"} 33`,
		`parley_transport_send_errors_total{transport="tcp"} 34`,
		`parley_transport_send_queue_full_total{transport="wss"} 35`,
		`parley_transport_send_errors_total{transport="wss"} 36`,
		`parley_tls_certificate_reloads_total{result="ok"} 31`,
		`parley_tls_certificate_reloads_total{result="error"} 32`,
		`parley_registrations 42`,
		`parley_calls_active{state="early"} 1`,
		`parley_calls_active{state="confirmed"} 2`,
		`parley_calls_total{disposition="answered"} 2`,
		`parley_calls_total{disposition="busy"} 1`,
		`parley_calls_total{disposition="other"} 1`,
		`parley_calls_total{disposition="no_answer"} 0`,
		`parley_auth_challenges_total{stale="false"} 7`,
		`parley_auth_challenges_total{stale="true"} 3`,
		`parley_auth_accepted_total 40`,
		`parley_auth_failures_total{reason="wrong_credentials"} 5`,
		`parley_auth_failures_total{reason="forged_nonce"} 1`,
		`parley_auth_failures_total{reason="replay"} 2`,
		`parley_auth_failures_total{reason="malformed"} 6`,
		`parley_auth_failures_total{reason="store_error"} 7`,
		`parley_auth_stale_credentials_total 9`,
		`parley_auth_nonces 8`,
	)
}

// TestNoSources: with nothing to read, only the middleware's families are there.
func TestNoSources(t *testing.T) {
	text := scrape(t, newTest(t, Sources{}, Options{}))
	if strings.Contains(text, "parley_registrations") || strings.Contains(text, "parley_transport_") {
		t.Errorf("families without a source:\n%s", text)
	}
	wantLines(t, text, `parley_sip_requests_total{method="INVITE"} 0`)
	if n := strings.Count(text, "\nparley_sip_requests_total{"); n != 15 {
		t.Errorf("%d request series, want 15 (14 methods and other):\n%s", n, grep(text, "requests_total"))
	}
	if strings.Contains(text, `method=""`) {
		t.Error(`a series with method=""`)
	}
}

type failingStore struct{}

func (failingStore) Count(context.Context) (int, error) { return 0, errors.New("database down") }

// TestScrapeError: a store that fails leaves its family out; the rest is served.
func TestScrapeError(t *testing.T) {
	text := scrape(t, newTest(t, Sources{Locations: failingStore{}}, Options{}))
	if strings.Contains(text, "parley_registrations ") {
		t.Errorf("registrations served despite the error:\n%s", text)
	}
	wantLines(t, text, `parley_sip_requests_total{method="REGISTER"} 0`)
}

// TestMiddleware: requests and the responses sent for them are counted by
// method and code, including the Server's fallback response for an error, a
// cancelled INVITE and a panic; the INVITE is timed to its first response.
func TestMiddleware(t *testing.T) {
	m := newTest(t, Sources{}, Options{AutoTrying: true})
	run := func(method string, h sipserver.HandlerFunc, tx *fakeTx) {
		t.Helper()
		func() {
			defer func() { recover() }()
			m.Middleware()(h).ServeSIP(context.Background(), tx, request(t, method))
		}()
	}
	run("REGISTER", func(_ context.Context, tx sipserver.ServerTx, _ *sip.Message) error {
		return tx.Reply(200, "", nil)
	}, newFakeTx())
	run("REGISTER", func(context.Context, sipserver.ServerTx, *sip.Message) error {
		return sipserver.Reject(401, "", "")
	}, newFakeTx())
	run("INVITE", func(_ context.Context, tx sipserver.ServerTx, _ *sip.Message) error {
		time.Sleep(20 * time.Millisecond)
		tx.Reply(180, "", nil)
		tx.Reply(486, "", nil)
		tx.Reply(500, "", nil) // refused by the transaction: not counted
		return nil
	}, newFakeTx())
	cancelledTx := newFakeTx()
	close(cancelledTx.cancelled)
	run("INVITE", func(context.Context, sipserver.ServerTx, *sip.Message) error { return nil }, cancelledTx)
	run("OPTIONS", func(context.Context, sipserver.ServerTx, *sip.Message) error { return errors.New("boom") }, newFakeTx())
	run("MESSAGE", func(context.Context, sipserver.ServerTx, *sip.Message) error { panic("bug") }, newFakeTx())
	run("BYE", func(context.Context, sipserver.ServerTx, *sip.Message) error { return sipserver.ErrNoResponse }, newFakeTx())
	text := scrape(t, m)
	wantLines(t, text,
		`parley_sip_requests_total{method="REGISTER"} 2`,
		`parley_sip_requests_total{method="INVITE"} 2`,
		`parley_sip_requests_total{method="OPTIONS"} 1`,
		`parley_sip_requests_total{method="MESSAGE"} 1`,
		`parley_sip_requests_total{method="BYE"} 1`,
		`parley_sip_responses_total{code="200",method="REGISTER"} 1`,
		`parley_sip_responses_total{code="401",method="REGISTER"} 1`,
		`parley_sip_responses_total{code="100",method="INVITE"} 2`,
		`parley_sip_responses_total{code="180",method="INVITE"} 1`,
		`parley_sip_responses_total{code="486",method="INVITE"} 1`,
		`parley_sip_responses_total{code="487",method="INVITE"} 1`,
		`parley_sip_responses_total{code="500",method="OPTIONS"} 1`,
		`parley_sip_responses_total{code="500",method="MESSAGE"} 1`,
		`parley_sip_invite_first_response_seconds_count 2`,
	)
	if strings.Contains(text, `code="500",method="INVITE"`) || strings.Contains(text, `method="BYE",`) {
		t.Errorf("counted a response that was not sent:\n%s", text)
	}
	// The slow INVITE's first response (180) came after 20 ms, the cancelled one's at once.
	if !regexp.MustCompile(`parley_sip_invite_first_response_seconds_bucket\{le="0.01"\} 1\n`).MatchString(text) {
		t.Errorf("first-response histogram:\n%s", grep(text, "first_response"))
	}
}

// TestUnknownMethod: methods Parley does not know share the label "other".
func TestUnknownMethod(t *testing.T) {
	m := newTest(t, Sources{}, Options{})
	h := m.Middleware()(sipserver.HandlerFunc(func(_ context.Context, tx sipserver.ServerTx, _ *sip.Message) error {
		return tx.Reply(501, "", nil)
	}))
	for range 3 {
		h.ServeSIP(context.Background(), newFakeTx(), request(t, "FOOBAR"))
	}
	wantLines(t, scrape(t, m), `parley_sip_requests_total{method="other"} 3`,
		`parley_sip_responses_total{code="501",method="other"} 3`)
}

// TestMiddlewareAllocs: the middleware allocates only its ServerTx wrapper.
func TestMiddlewareAllocs(t *testing.T) {
	m := newTest(t, Sources{}, Options{AutoTrying: true})
	h := m.Middleware()(sipserver.HandlerFunc(func(_ context.Context, tx sipserver.ServerTx, _ *sip.Message) error {
		return tx.Reply(200, "", nil)
	}))
	for _, method := range []string{"REGISTER", "INVITE"} {
		req := request(t, method)
		tx := newFakeTx()
		ctx := context.Background()
		n := testing.AllocsPerRun(200, func() {
			tx.final = false
			tx.codes = tx.codes[:0]
			h.ServeSIP(ctx, tx, req)
		})
		if n > 1 {
			t.Errorf("%s: %v allocations per request, want at most 1", method, n)
		}
	}
}

func grep(text, sub string) string {
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func BenchmarkMiddleware(b *testing.B) {
	m, _ := New(prometheus.NewRegistry(), Sources{}, Options{})
	h := m.Middleware()(sipserver.HandlerFunc(func(_ context.Context, tx sipserver.ServerTx, _ *sip.Message) error {
		return tx.Reply(200, "", nil)
	}))
	req := request(b, "INVITE")
	tx := newFakeTx()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		tx.final = false
		tx.codes = tx.codes[:0]
		h.ServeSIP(ctx, tx, req)
	}
}
