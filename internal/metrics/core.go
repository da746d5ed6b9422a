package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-sip/parley/internal/sipserver"
	"github.com/parley-sip/parley/internal/transport"
)

// Descriptions of the families read from sipserver.Stats at scrape time.
var (
	descPanics = prometheus.NewDesc("parley_sip_handler_panics_total",
		"Handler panics, answered with 500.", nil, nil)
	descTxLive = prometheus.NewDesc("parley_sip_transactions",
		"SIP transactions alive now, server and client.", nil, nil)
	descTxCreated = prometheus.NewDesc("parley_sip_transactions_created_total",
		"SIP transactions created, by kind (server, client).", []string{"kind"}, nil)
	descTxTimeouts = prometheus.NewDesc("parley_sip_transaction_timeouts_total",
		"SIP transactions ended by Timer B, F or H.", nil, nil)
	descRetrans = prometheus.NewDesc("parley_sip_retransmissions_total",
		"Retransmissions received and absorbed by server transactions, or sent by Timers A, E and G.", []string{"direction"}, nil)
	descTxRejected = prometheus.NewDesc("parley_sip_transactions_rejected_total",
		"Requests answered 503 because limits.max_transactions was reached.", nil, nil)
	descTxShed = prometheus.NewDesc("parley_sip_transactions_shed_total",
		"Non-INVITE server transactions ended as soon as they answered, without waiting out Timer J, because limits.max_answered_transactions was reached.", nil, nil)
	descScreened = prometheus.NewDesc("parley_sip_requests_screened_total",
		"New requests answered statelessly before any transaction was made for them (digest challenges to non-INVITE requests without credentials).", nil, nil)
	descParseErrors = prometheus.NewDesc("parley_sip_parse_errors_total",
		"SIP messages that failed to parse.", nil, nil)
	descSIPDropped = prometheus.NewDesc("parley_sip_messages_dropped_total",
		"SIP messages dropped: malformed ones that could not be answered, and stray responses.", []string{"reason"}, nil)
	descTxSendErrors = prometheus.NewDesc("parley_sip_send_errors_total",
		"SIP messages the transaction layer learned the transport could not write (a client transaction waiting for one ends as a 503).", nil, nil)

	descMessages = prometheus.NewDesc("parley_transport_messages_total",
		"SIP messages received (in) and sent (out), by transport.", []string{"transport", "direction"}, nil)
	descKeepalives = prometheus.NewDesc("parley_transport_keepalives_total",
		"CRLF keepalives received, by transport.", []string{"transport"}, nil)
	descTransportDropped = prometheus.NewDesc("parley_transport_messages_dropped_total",
		"Input dropped by the transport layer: oversize messages, garbage and framing errors.", []string{"transport", "reason"}, nil)
	descConns = prometheus.NewDesc("parley_transport_connections",
		"Connections open now, by stream transport.", []string{"transport"}, nil)
	descConnsOpened = prometheus.NewDesc("parley_transport_connections_opened_total",
		"Connections accepted (inbound) and dialed (outbound), by transport.", []string{"transport", "direction"}, nil)
	descConnsRefused = prometheus.NewDesc("parley_transport_connections_refused_total",
		"Inbound connections closed at once by limits.max_conns_per_ip.", []string{"transport"}, nil)
	descHandshakeFails = prometheus.NewDesc("parley_transport_handshake_failures_total",
		"TLS handshakes, WebSocket upgrades and dials that failed.", []string{"transport"}, nil)
	descSendQueueFull = prometheus.NewDesc("parley_transport_send_queue_full_total",
		"Messages not sent because the connection's send queue was full (a peer that does not read), by stream transport.", []string{"transport"}, nil)
	descSendErrors = prometheus.NewDesc("parley_transport_send_errors_total",
		"Messages queued on a connection but not written (dial, handshake or write failed, or the connection closed first), by stream transport.", []string{"transport"}, nil)
	descCertReloads = prometheus.NewDesc("parley_tls_certificate_reloads_total",
		"TLS certificate files reloaded after a change (ok) or that failed to load (error).", []string{"result"}, nil)
)

// coreCollector reads the Server's, transaction layer's and transport
// layer's counters.
type coreCollector struct {
	src interface{ Stats() sipserver.Stats }
}

// Describe implements prometheus.Collector.
func (c *coreCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPanics, descTxLive, descTxCreated, descTxTimeouts, descRetrans,
		descTxRejected, descTxShed, descScreened, descParseErrors, descSIPDropped, descTxSendErrors,
		descMessages, descKeepalives, descTransportDropped,
		descConns, descConnsOpened, descConnsRefused, descHandshakeFails, descSendQueueFull, descSendErrors, descCertReloads} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *coreCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	counter(ch, descPanics, s.Panics)
	tx := s.Transactions
	ch <- prometheus.MustNewConstMetric(descTxLive, prometheus.GaugeValue, float64(tx.Live))
	counter(ch, descTxCreated, tx.ServerTransactions, "server")
	counter(ch, descTxCreated, tx.ClientTransactions, "client")
	counter(ch, descTxTimeouts, tx.Timeouts)
	counter(ch, descRetrans, tx.Retransmissions, "received")
	counter(ch, descRetrans, tx.RetransmitsSent, "sent")
	counter(ch, descTxRejected, tx.Rejected)
	counter(ch, descTxShed, tx.Shed)
	counter(ch, descScreened, tx.Screened)
	counter(ch, descParseErrors, tx.Malformed)
	counter(ch, descSIPDropped, tx.Dropped, "malformed")
	counter(ch, descSIPDropped, s.StrayDropped, "stray_response")
	counter(ch, descTxSendErrors, tx.SendErrors)
	collectTransport(ch, s.Transport)
}

func collectTransport(ch chan<- prometheus.Metric, s transport.Stats) {
	for p := transport.UDP; p <= transport.WSS; p++ {
		ps, name := s.For(p), strings.ToLower(p.String())
		counter(ch, descMessages, ps.MessagesIn, name, "in")
		counter(ch, descMessages, ps.MessagesOut, name, "out")
		counter(ch, descKeepalives, ps.KeepalivesIn, name)
		counter(ch, descTransportDropped, ps.DroppedOversize, name, "oversize")
		counter(ch, descTransportDropped, ps.DroppedGarbage, name, "garbage")
		if p == transport.UDP {
			continue // no connections
		}
		ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(ps.ConnsOpen), name)
		counter(ch, descConnsOpened, ps.ConnsAccepted, name, "inbound")
		counter(ch, descConnsOpened, ps.ConnsDialed, name, "outbound")
		counter(ch, descConnsRefused, ps.ConnsRefused, name)
		counter(ch, descHandshakeFails, ps.HandshakeFails, name)
		counter(ch, descSendQueueFull, ps.SendQueueFull, name)
		counter(ch, descSendErrors, ps.SendErrors, name)
	}
	counter(ch, descCertReloads, s.CertReloads, "ok")
	counter(ch, descCertReloads, s.CertReloadErrors, "error")
}

// counter sends a counter value.
func counter[T int64 | uint64](ch chan<- prometheus.Metric, d *prometheus.Desc, v T, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}
