package resolve

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/parley-sip/parley/internal/transport"
	"github.com/parley-sip/parley/internal/transport/resolve/resolvetest"
)

// zone is the DNS data of the table tests, one domain per RFC 3263 case.
var zone = []string{
	// NAPTR present: TCP (order 10) before UDP (order 20); SCTP and an
	// ENUM-style rule are discarded (§4.1).
	`naptr.test. 60 IN NAPTR 20 50 "s" "SIP+D2U" "" _sip._udp.naptr.test.`,
	`naptr.test. 60 IN NAPTR 10 50 "s" "SIP+D2T" "" _sip._tcp.naptr.test.`,
	`naptr.test. 60 IN NAPTR 5 50 "s" "SIP+D2S" "" _sip._sctp.naptr.test.`,
	`naptr.test. 60 IN NAPTR 5 40 "u" "E2U+sip" "!^.*$!sip:x@y!" .`,
	`naptr.test. 60 IN A 127.0.0.13`,
	`_sip._tcp.naptr.test. 60 IN SRV 10 0 5070 tcp1.naptr.test.`,
	`_sip._tcp.naptr.test. 60 IN SRV 20 0 5071 tcp2.naptr.test.`,
	`_sip._udp.naptr.test. 60 IN SRV 10 0 5080 udp1.naptr.test.`,
	`_sip._sctp.naptr.test. 60 IN SRV 10 0 5090 udp1.naptr.test.`,
	`tcp1.naptr.test. 60 IN A 127.0.0.11`,
	`tcp2.naptr.test. 60 IN A 127.0.0.14`,
	`udp1.naptr.test. 60 IN A 127.0.0.12`,
	// NAPTR: same order, preference decides; the first rule has no SRV
	// records, so only the second gives destinations.
	`pref.test. 60 IN NAPTR 10 20 "S" "SIP+D2U" "" _sip._udp.pref.test.`,
	`pref.test. 60 IN NAPTR 10 10 "S" "SIP+D2T" "" _sip._tcp.missing.test.`,
	`_sip._udp.pref.test. 60 IN SRV 0 0 5060 host.pref.test.`,
	`host.pref.test. 60 IN A 127.0.0.15`,
	// NAPTR with TLS and UDP: a sip URI may use both, a sips URI TLS only.
	`secure.test. 60 IN NAPTR 10 10 "s" "SIPS+D2T" "" _sips._tcp.secure.test.`,
	`secure.test. 60 IN NAPTR 20 10 "s" "SIP+D2U" "" _sip._udp.secure.test.`,
	`_sips._tcp.secure.test. 60 IN SRV 0 0 5061 tls.secure.test.`,
	`_sip._udp.secure.test. 60 IN SRV 0 0 5060 tls.secure.test.`,
	`tls.secure.test. 60 IN A 127.0.0.16`,
	// NAPTR for a transport Parley cannot send on (WebSocket): ignored, SRV follows.
	`ws.test. 60 IN NAPTR 10 10 "s" "SIP+D2W" "" _sip._ws.ws.test.`,
	`_sip._ws.ws.test. 60 IN SRV 0 0 80 host.ws.test.`,
	`_sip._udp.ws.test. 60 IN SRV 0 0 5062 host.ws.test.`,
	`host.ws.test. 60 IN A 127.0.0.17`,
	// No NAPTR: SRV for each transport.
	`tcponly.test. 60 IN TXT "no NAPTR here"`,
	`_sip._tcp.tcponly.test. 60 IN SRV 0 0 5063 host.tcponly.test.`,
	`host.tcponly.test. 60 IN A 127.0.0.18`,
	`both.test. 60 IN A 127.0.0.99`,
	`_sip._udp.both.test. 60 IN SRV 0 0 5064 host.both.test.`,
	`_sip._tcp.both.test. 60 IN SRV 0 0 5065 host.both.test.`,
	`_sips._tcp.both.test. 60 IN SRV 0 0 5066 host.both.test.`,
	`host.both.test. 60 IN A 127.0.0.19`,
	// No NAPTR, no SRV: A and AAAA.
	`plain.test. 60 IN A 127.0.0.20`,
	`plain.test. 60 IN AAAA ::1`,
	`alias.test. 60 IN CNAME plain.test.`,
	// SRV "." means the service is not offered (RFC 2782).
	`_sip._udp.dot.test. 60 IN SRV 0 0 0 .`,
	`dot.test. 60 IN A 127.0.0.21`,
	// SRV priorities: lower first, whatever the order of the records.
	`_sip._udp.prio.test. 60 IN SRV 20 0 5060 b.prio.test.`,
	`_sip._udp.prio.test. 60 IN SRV 10 0 5060 a.prio.test.`,
	`_sip._udp.prio.test. 60 IN SRV 30 0 5060 none.prio.test.`,
	`a.prio.test. 60 IN A 127.0.0.22`,
	`b.prio.test. 60 IN A 127.0.0.23`,
	// A name that exists with no SIP records and no addresses.
	`empty.test. 60 IN TXT "nothing"`,
}

func dest(p transport.Proto, addr, host string) string {
	return p.String() + " " + addr + " " + host
}

func dests(ds []transport.Dest) []string {
	var out []string
	for _, d := range ds {
		out = append(out, dest(d.Proto, d.Addr.String(), d.Host))
	}
	return out
}

func newResolver(t *testing.T, servers ...string) *Resolver {
	t.Helper()
	r := New(Config{Servers: servers, Timeout: 300 * time.Millisecond})
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return r
}

// TestRFC3263s4_Resolve runs each rule of RFC 3263 §4.1 and §4.2 against a
// DNS server on 127.0.0.1 and checks the destinations and their order.
func TestRFC3263s4_Resolve(t *testing.T) {
	srv := resolvetest.Start(t, zone...)
	const (
		U, T, S = transport.UDP, transport.TCP, transport.TLS
	)
	tests := []struct {
		name    string
		target  transport.Target
		want    []string
		wantErr string
		noQuery []uint16 // query types that must not be asked for the host
	}{
		{name: "NAPTR present: order, unsupported services discarded", target: transport.Target{Host: "naptr.test"},
			want: []string{dest(T, "127.0.0.11:5070", "naptr.test"), dest(T, "127.0.0.14:5071", "naptr.test"),
				dest(U, "127.0.0.12:5080", "naptr.test")}},
		{name: "NAPTR preference, rule without SRV skipped", target: transport.Target{Host: "pref.test"},
			want: []string{dest(U, "127.0.0.15:5060", "pref.test")}},
		{name: "NAPTR SIPS+D2T for a sip URI", target: transport.Target{Host: "secure.test"},
			want: []string{dest(S, "127.0.0.16:5061", "secure.test"), dest(U, "127.0.0.16:5060", "secure.test")}},
		{name: "NAPTR for a sips URI keeps SIPS services only", target: transport.Target{Host: "secure.test", Secure: true},
			want: []string{dest(S, "127.0.0.16:5061", "secure.test")}},
		{name: "NAPTR of an unsupported transport falls back to SRV", target: transport.Target{Host: "ws.test"},
			want: []string{dest(U, "127.0.0.17:5062", "ws.test")}},
		{name: "no NAPTR, only _sip._tcp", target: transport.Target{Host: "tcponly.test"},
			want: []string{dest(T, "127.0.0.18:5063", "tcponly.test")}},
		{name: "no NAPTR, SRV of each transport in our order", target: transport.Target{Host: "both.test"},
			want: []string{dest(U, "127.0.0.19:5064", "both.test"), dest(T, "127.0.0.19:5065", "both.test")}},
		{name: "no NAPTR, sips uses _sips._tcp", target: transport.Target{Host: "both.test", Secure: true},
			want: []string{dest(S, "127.0.0.19:5066", "both.test")}},
		{name: "no SRV: A then AAAA on 5060 over UDP", target: transport.Target{Host: "plain.test"},
			want: []string{dest(U, "127.0.0.20:5060", "plain.test"), dest(U, "[::1]:5060", "plain.test")}},
		{name: "no SRV, sips: TLS on 5061", target: transport.Target{Host: "plain.test", Secure: true},
			want: []string{dest(S, "127.0.0.20:5061", "plain.test"), dest(S, "[::1]:5061", "plain.test")}},
		{name: "CNAME followed", target: transport.Target{Host: "alias.test", Port: 5070},
			want: []string{dest(U, "127.0.0.20:5070", "alias.test"), dest(U, "[::1]:5070", "alias.test")}},
		{name: "SRV target . means none", target: transport.Target{Host: "dot.test"},
			want: []string{dest(U, "127.0.0.21:5060", "dot.test")}},
		{name: "SRV priorities, target without address skipped", target: transport.Target{Host: "prio.test"},
			want: []string{dest(U, "127.0.0.22:5060", "prio.test"), dest(U, "127.0.0.23:5060", "prio.test")}},
		{name: "transport param: SRV of that transport only", target: transport.Target{Host: "both.test", Proto: T},
			want: []string{dest(T, "127.0.0.19:5065", "both.test")}, noQuery: []uint16{dns.TypeNAPTR}},
		{name: "transport param without SRV: A on the default port", target: transport.Target{Host: "plain.test", Proto: T},
			want: []string{dest(T, "127.0.0.20:5060", "plain.test"), dest(T, "[::1]:5060", "plain.test")}},
		{name: "sips with transport=tcp is TLS", target: transport.Target{Host: "both.test", Proto: T, Secure: true},
			want: []string{dest(S, "127.0.0.19:5066", "both.test")}},
		{name: "port: A/AAAA only", target: transport.Target{Host: "naptr.test", Port: 5099},
			want: []string{dest(U, "127.0.0.13:5099", "naptr.test")}, noQuery: []uint16{dns.TypeNAPTR, dns.TypeSRV}},
		{name: "port and sips: TLS", target: transport.Target{Host: "naptr.test", Port: 5099, Secure: true},
			want: []string{dest(S, "127.0.0.13:5099", "naptr.test")}},
		{name: "IPv4 address", target: transport.Target{Host: "127.0.0.5"},
			want: []string{dest(U, "127.0.0.5:5060", "127.0.0.5")}},
		{name: "IPv6 address in brackets, sips", target: transport.Target{Host: "[::1]", Secure: true},
			want: []string{dest(S, "[::1]:5061", "::1")}},
		{name: "IP address with transport and port", target: transport.Target{Host: "127.0.0.5", Port: 7000, Proto: T},
			want: []string{dest(T, "127.0.0.5:7000", "127.0.0.5")}},
		{name: "sips over UDP is an error", target: transport.Target{Host: "both.test", Proto: U, Secure: true},
			wantErr: "cannot use transport UDP"},
		{name: "NXDOMAIN", target: transport.Target{Host: "nosuch.test"}, wantErr: "no such host",
			noQuery: []uint16{dns.TypeSRV, dns.TypeA}},
		{name: "no SIP records and no address", target: transport.Target{Host: "empty.test"}, wantErr: "no SIP server"},
		{name: "empty host", target: transport.Target{}, wantErr: "empty host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newResolver(t, srv.Addr)
			host := strings.Trim(tc.target.Host, "[]")
			before := map[uint16]int{}
			for _, q := range tc.noQuery {
				before[q] = srv.Queries(host, q) + srv.Queries("_sip._udp."+host, q)
			}
			ds, err := r.Resolve(context.Background(), tc.target)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, %v; want error containing %q", dests(ds), err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got := dests(ds); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			for _, q := range tc.noQuery {
				if n := srv.Queries(host, q) + srv.Queries("_sip._udp."+host, q); n != before[q] {
					t.Errorf("%s asked %d times, want not at all", dns.TypeToString[q], n-before[q])
				}
			}
		})
	}
}

// TestRFC3263s4_1_Transports: the transports the caller can send on filter
// NAPTR services and SRV queries, and pick the A/AAAA fallback transport.
func TestRFC3263s4_1_Transports(t *testing.T) {
	srv := resolvetest.Start(t, zone...)
	r := New(Config{Servers: []string{srv.Addr}, Transports: []transport.Proto{transport.TCP}})
	ds, err := r.Resolve(context.Background(), transport.Target{Host: "both.test"})
	if err != nil || len(ds) != 1 || ds[0].Proto != transport.TCP || ds[0].Addr.Port() != 5065 {
		t.Errorf("TCP only, both.test: got %v, %v; want the _sip._tcp target alone", dests(ds), err)
	}
	ds, err = r.Resolve(context.Background(), transport.Target{Host: "plain.test"})
	if err != nil || len(ds) == 0 || ds[0].Proto != transport.TCP {
		t.Errorf("TCP only, plain.test: got %v, %v; want TCP (UDP cannot be sent)", dests(ds), err)
	}
}

// TestRFC3263s4_Errors: a DNS server that never answers gives a timeout
// error within the configured time; the next server is asked; a truncated
// UDP answer is asked again over TCP; a cancelled context stops at once.
func TestRFC3263s4_Errors(t *testing.T) {
	good := resolvetest.Start(t, zone...)
	dead := resolvetest.Start(t)
	dead.SetSilent(true)
	t.Run("timeout", func(t *testing.T) {
		r := newResolver(t, dead.Addr)
		start := time.Now()
		_, err := r.Resolve(context.Background(), transport.Target{Host: "plain.test"})
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsTimeout || !de.Timeout() {
			t.Fatalf("got %v, want a *net.DNSError with IsTimeout", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v with a 300ms timeout", d)
		}
		if dead.Queries("plain.test", dns.TypeNAPTR) == 0 {
			t.Error("the silent server was never asked")
		}
	})
	t.Run("next server", func(t *testing.T) {
		r := newResolver(t, dead.Addr, good.Addr)
		ds, err := r.Resolve(context.Background(), transport.Target{Host: "tcponly.test"})
		if err != nil || len(ds) != 1 || ds[0].Addr.String() != "127.0.0.18:5063" {
			t.Errorf("got %v, %v; want the answer of the second server", dests(ds), err)
		}
	})
	t.Run("truncated answer retried over TCP", func(t *testing.T) {
		tc := resolvetest.Start(t, zone...)
		tc.SetTruncate(true)
		r := newResolver(t, tc.Addr)
		ds, err := r.Resolve(context.Background(), transport.Target{Host: "naptr.test"})
		if err != nil || len(ds) != 3 {
			t.Errorf("got %v, %v; want the three NAPTR destinations", dests(ds), err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		r := newResolver(t, dead.Addr)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		if _, err := r.Resolve(ctx, transport.Target{Host: "plain.test"}); err == nil {
			t.Error("resolved with a cancelled context")
		}
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("took %v with a cancelled context", d)
		}
	})
	t.Run("no servers: addresses still work", func(t *testing.T) {
		r := New(Config{ResolvConf: t.TempDir() + "/missing"})
		if r.Err() == nil {
			t.Fatal("Err() = nil without a resolv.conf")
		}
		if ds, err := r.Resolve(context.Background(), transport.Target{Host: "127.0.0.1"}); err != nil || len(ds) != 1 {
			t.Errorf("IP address: %v, %v", dests(ds), err)
		}
		if _, err := r.Resolve(context.Background(), transport.Target{Host: "plain.test"}); err == nil ||
			!strings.Contains(err.Error(), "no DNS servers") {
			t.Errorf("name without servers: %v, want the reason", err)
		}
	})
}
