// Package metrics exposes Parley's Prometheus metrics on GET /metrics of the
// management listener (no authentication, like /healthz).
//
// The registry belongs to the App (no package state: several servers can run
// in one process). Most families are read at scrape time from the Stats()
// that the layers already keep, so the hot path pays nothing for them; the
// per-method request and response counters and the INVITE latency histogram
// come from the Middleware, which counts with atomic adds and allocates one
// small wrapper of the ServerTx per request. Every label has a bounded set of
// values: methods are the ones Parley knows plus "other", status codes are
// 100 to 699, transports are udp, tcp, tls, ws and wss; there are no
// per-user or per-address labels.
//
// SIP core (the Middleware, plus the Server's own counters):
//
//	parley_sip_requests_total{method}               requests that started a server transaction (retransmissions
//	                                                absorbed are not counted), ACKs for 2xx included
//	parley_sip_responses_total{method,code}         responses sent to them: the handlers', the Server's fallback
//	                                                ones, the 100 Trying of INVITEs, 200 to a matched CANCEL
//	parley_sip_invite_first_response_seconds        from an INVITE entering the handler chain to the first
//	                                                response the chain sends (a relayed 18x, or a final one;
//	                                                the transaction layer's immediate 100 Trying is not it)
//	parley_sip_handler_panics_total
//	parley_sip_transactions                         transactions alive now (gauge)
//	parley_sip_transactions_created_total{kind}     kind: server, client
//	parley_sip_transaction_timeouts_total           Timer B, F or H fired
//	parley_sip_retransmissions_total{direction}     received (absorbed) or sent (Timers A, E, G)
//	parley_sip_transactions_rejected_total          503 at limits.max_transactions
//	parley_sip_transactions_shed_total              non-INVITE server transactions ended without Timer J at
//	                                                limits.max_answered_transactions
//	parley_sip_requests_screened_total              answered statelessly before any transaction (digest
//	                                                challenges to non-INVITE requests without credentials)
//	parley_sip_parse_errors_total                   messages that failed to parse
//	parley_sip_messages_dropped_total{reason}       malformed (could not be answered), stray_response
//	parley_sip_send_errors_total                    messages the transport could not write, as the transaction
//	                                                layer learns of them (a client transaction then ends as a 503)
//
// Transports, by transport (udp, tcp, tls, ws, wss):
//
//	parley_transport_messages_total{transport,direction}            direction: in, out
//	parley_transport_keepalives_total{transport}
//	parley_transport_messages_dropped_total{transport,reason}       reason: oversize, garbage
//	parley_transport_connections{transport}                         open now (gauge; stream transports)
//	parley_transport_connections_opened_total{transport,direction}  direction: inbound, outbound
//	parley_transport_connections_refused_total{transport}           limits.max_conns_per_ip
//	parley_transport_handshake_failures_total{transport}
//	parley_transport_send_queue_full_total{transport}               not sent: the connection's send queue was full
//	                                                                (a peer that does not read; stream transports)
//	parley_transport_send_errors_total{transport}                   queued but not written: dial, handshake or write
//	                                                                failed, or the connection closed first
//	parley_tls_certificate_reloads_total{result}                    result: ok, error
//
// Features:
//
//	parley_registrations                         bindings in the location store (gauge)
//	parley_calls_active{state}                   state: early, confirmed (gauge)
//	parley_calls_total{disposition}              ended calls: answered, busy, declined, cancelled, no_answer, failed
//	parley_auth_challenges_total{stale}          401/407 sent; stale: true, false
//	parley_auth_accepted_total
//	parley_auth_failures_total{reason}           wrong_credentials, forged_nonce, replay, malformed, store_error
//	parley_auth_stale_credentials_total          requests checked against the copy of a user's credentials kept
//	                                             for a credential store outage (internal/auth/doc.go); not failures
//	parley_auth_nonces                           nonces whose count is remembered (gauge)
//	parley_build_info{version}                   always 1
//
// and the standard go_* and process_* families.
package metrics
