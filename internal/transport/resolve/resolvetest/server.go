// Package resolvetest runs a small authoritative DNS server on 127.0.0.1
// for tests of RFC 3263 resolution, in the spirit of net/http/httptest: a
// real server on a real socket, answering from records given in zone-file
// syntax.
package resolvetest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// soa is put in the authority section of negative answers; its MINIMUM (and
// TTL) is the negative-caching TTL (RFC 2308 §5).
const soa = "test. 30 IN SOA ns.test. admin.test. 1 3600 600 86400 30"

type key struct {
	name  string
	qtype uint16
}

// Server is an authoritative DNS server on 127.0.0.1, over UDP and TCP on
// the same port. A name with records of other types gets an empty answer
// (NODATA), and so does a parent of a name with records (an empty
// non-terminal, RFC 8020); any other name gets NXDOMAIN. CNAMEs are
// followed within the zone.
type Server struct {
	// Addr is the server's IP:PORT.
	Addr string

	udp, tcp *dns.Server

	mu       sync.Mutex
	records  map[key][]dns.RR
	names    map[string]bool
	queries  map[key]int
	truncate bool
	silent   bool
}

// Start starts a server holding records (as in a zone file: "sip.test. 60
// IN A 127.0.0.1") and stops it when the test ends.
func Start(t testing.TB, records ...string) *Server {
	t.Helper()
	s := &Server{records: map[key][]dns.RR{}, names: map[string]bool{}, queries: map[key]int{}}
	s.Add(t, records...)
	pc, ln := listenPair(t)
	s.Addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: ln, Handler: h}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("resolvetest: server did not start")
		}
		t.Cleanup(func() { srv.Shutdown() })
	}
	return s
}

// listenPair opens a UDP socket and a TCP listener on the same free port.
func listenPair(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("resolvetest: no port free for both UDP and TCP")
	return nil, nil
}

// Add adds records, given in zone-file syntax.
func (s *Server) Add(t testing.TB, records ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil || rr == nil {
			t.Fatalf("resolvetest: record %q: %v", r, err)
		}
		h := rr.Header()
		name := strings.ToLower(h.Name)
		s.records[key{name, h.Rrtype}] = append(s.records[key{name, h.Rrtype}], rr)
		for n := name; n != ""; { // the name and its parents (empty non-terminals) exist: NODATA, not NXDOMAIN (RFC 8020)
			s.names[n] = true
			_, n, _ = strings.Cut(n, ".")
		}
	}
}

// SetTruncate makes UDP answers empty with the TC bit set, so that clients
// must ask again over TCP (RFC 7766).
func (s *Server) SetTruncate(on bool) {
	s.mu.Lock()
	s.truncate = on
	s.mu.Unlock()
}

// SetSilent makes the server read queries and never answer them.
func (s *Server) SetSilent(on bool) {
	s.mu.Lock()
	s.silent = on
	s.mu.Unlock()
}

// Queries returns how many queries for name and type arrived (both transports).
func (s *Server) Queries(name string, qtype uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[key{dns.Fqdn(strings.ToLower(name)), qtype}]
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	if len(req.Question) != 1 {
		m := new(dns.Msg)
		w.WriteMsg(m.SetRcode(req, dns.RcodeFormatError))
		return
	}
	q := req.Question[0]
	_, overUDP := w.RemoteAddr().(*net.UDPAddr)
	s.mu.Lock()
	s.queries[key{strings.ToLower(q.Name), q.Qtype}]++
	silent, truncate := s.silent, s.truncate && overUDP
	m := s.answerLocked(req, q)
	s.mu.Unlock()
	if silent {
		return
	}
	if truncate {
		m.Answer, m.Ns, m.Truncated = nil, nil, true
	}
	w.WriteMsg(m)
}

// answerLocked builds the answer to q; mu is held.
func (s *Server) answerLocked(req *dns.Msg, q dns.Question) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	name := strings.ToLower(q.Name)
	for range 8 {
		if rrs := s.records[key{name, q.Qtype}]; len(rrs) > 0 {
			m.Answer = append(m.Answer, rrs...)
			return m
		}
		cn := s.records[key{name, dns.TypeCNAME}]
		if len(cn) == 0 {
			break
		}
		m.Answer = append(m.Answer, cn[0])
		name = strings.ToLower(cn[0].(*dns.CNAME).Target)
	}
	if len(m.Answer) == 0 && !s.names[name] {
		m.Rcode = dns.RcodeNameError
	}
	rr, err := dns.NewRR(soa)
	if err != nil {
		panic(fmt.Sprintf("resolvetest: bad SOA: %v", err))
	}
	m.Ns = append(m.Ns, rr)
	return m
}
