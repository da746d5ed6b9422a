package test

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// sipgoPhone is an emiago/sipgo user agent on its own UDP socket, which it
// serves and sends from, registered at Parley as user@example.test.
type sipgoPhone struct {
	user    string
	addr    netip.AddrPort
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	contact sip.ContactHeader
}

// newSipgoPhone builds the user agent; handlers go on srv before start.
func newSipgoPhone(t *testing.T, user string) *sipgoPhone {
	t.Helper()
	sip.SetDefaultLogger(slog.New(slog.DiscardHandler))
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(user), sipgo.WithUserAgentHostname("example.test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	return &sipgoPhone{user: user, ua: ua, srv: srv}
}

// start serves a fresh UDP socket on 127.0.0.1 and makes the client send
// from it, so that Parley reaches the phone where it registered from.
func (p *sipgoPhone) start(t *testing.T) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.srv.ServeUDP(conn)
	}()
	t.Cleanup(func() {
		conn.Close()
		wg.Wait()
	})
	if !waitFor(replyTimeout, func() bool {
		_, err := p.ua.TransportLayer().GetConnection("udp", p.addr.String())
		return err == nil
	}) {
		t.Fatalf("sipgo did not start serving %s", p.addr)
	}
	p.client, err = sipgo.NewClient(p.ua, sipgo.WithClientConnectionAddr(p.addr.String()),
		sipgo.WithClientHostname(p.addr.Addr().String()), sipgo.WithClientPort(int(p.addr.Port())), sipgo.WithClientNAT())
	if err != nil {
		t.Fatal(err)
	}
	p.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: p.addr.Addr().String(), Port: int(p.addr.Port())}}
}

// register binds the phone's contact at Parley (RFC 3261 §10.2).
func (p *sipgoPhone) register(t *testing.T, parley netip.AddrPort) {
	t.Helper()
	aor := sip.Uri{Scheme: "sip", User: p.user, Host: "example.test"}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "example.test"})
	req.SetDestination(parley.String())
	from := &sip.FromHeader{Address: aor}
	from.Params.Add("tag", sip.GenerateTagN(8))
	for _, h := range []sip.Header{from, &sip.ToHeader{Address: aor}, sip.HeaderClone(&p.contact), sip.NewHeader("Expires", "600")} {
		req.AppendHeader(h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), replyTimeout)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil {
		t.Fatalf("sipgo REGISTER: %v", err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("sipgo REGISTER got %d %s", res.StatusCode, res.Reason)
	}
}

// TestProxyRFC3261s16_SipgoCall: a call through Parley between two
// independent user agents built on emiago/sipgo over UDP: INVITE, 180, 200,
// ACK, BYE and 200, with the dialog route set taken by sipgo from Parley's
// Record-Route (§12.1.2, §16.12).
func TestProxyRFC3261s16_SipgoCall(t *testing.T) {
	s := proxyServer(t, nil)
	parley := s.addr(t, "udp")
	alice, bob := newSipgoPhone(t, uniq("alice")), newSipgoPhone(t, uniq("bob"))

	answer := []byte("v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40010 RTP/AVP 0\r\n")
	var bobDialogs *sipgo.DialogServerCache // set before bob serves
	invited, acked, byed := make(chan *sip.Request, 1), make(chan *sip.Request, 1), make(chan *sip.Request, 1)
	done := make(chan struct{})
	bob.srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dlg, err := bobDialogs.ReadInvite(req, tx)
		if err != nil {
			t.Errorf("bob ReadInvite: %v", err)
			return
		}
		invited <- req
		dlg.Respond(sip.StatusRinging, "Ringing", nil)
		time.Sleep(settle)
		dlg.RespondSDP(answer)
		select { // the handler owns the dialog until it ends
		case <-dlg.Context().Done():
		case <-done:
		}
	})
	bob.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := bobDialogs.ReadAck(req, tx); err != nil {
			t.Errorf("bob ReadAck: %v", err)
		}
		acked <- req
	})
	bob.srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := bobDialogs.ReadBye(req, tx); err != nil {
			t.Errorf("bob ReadBye: %v", err)
		}
		byed <- req
	})
	defer close(done)
	alice.start(t)
	bob.start(t)
	bobDialogs = sipgo.NewDialogServerCache(bob.client, bob.contact)
	alice.register(t, parley)
	bob.register(t, parley)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dua := &sipgo.DialogUA{Client: alice.client, ContactHDR: alice.contact}
	inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: bob.user, Host: "example.test"})
	inv.SetDestination(parley.String())
	inv.SetBody([]byte(sdp(false).body))
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	sess, err := dua.WriteInvite(ctx, inv)
	if err != nil {
		t.Fatalf("alice INVITE: %v", err)
	}
	defer sess.Close()
	var codes []int
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		codes = append(codes, r.StatusCode)
		return nil
	}}); err != nil {
		t.Fatalf("alice WaitAnswer: %v (responses %v)", err, codes)
	}
	if len(codes) < 2 || codes[len(codes)-2] != 180 || codes[len(codes)-1] != 200 {
		t.Errorf("alice saw responses %v, want ... 180, 200", codes)
	}
	res := sess.InviteResponse
	if rr := res.GetHeaders("Record-Route"); len(rr) != 1 || !strings.Contains(rr[0].Value(), ";lr") {
		t.Errorf("200 Record-Route %v, want Parley's with lr", rr)
	}
	if string(res.Body()) != string(answer) {
		t.Errorf("200 body %q, want bob's SDP", res.Body())
	}
	select {
	case req := <-invited:
		if req.Recipient.User != bob.user || req.Recipient.Port != int(bob.addr.Port()) {
			t.Errorf("bob got INVITE for %s, want his contact", req.Recipient.String())
		}
	case <-ctx.Done():
		t.Fatal("bob never got the INVITE")
	}
	if err := sess.Ack(ctx); err != nil {
		t.Fatalf("alice ACK: %v", err)
	}
	select {
	case req := <-acked:
		if req.Route() != nil {
			t.Errorf("ACK at bob still has Route %s", req.Route().Value())
		}
	case <-ctx.Done():
		t.Fatal("bob never got the ACK")
	}
	if err := sess.Bye(ctx); err != nil {
		t.Fatalf("alice BYE: %v", err)
	}
	select {
	case <-byed:
	case <-ctx.Done():
		t.Fatal("bob never got the BYE")
	}
}
