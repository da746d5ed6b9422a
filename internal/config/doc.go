// Package config holds Parley's configuration: one typed tree (Config),
// decoded strictly from a YAML file and overridden by command-line flags.
//
// # Sources and precedence
//
// Values come from Default, then the file named by --config (Load), then
// the flags that were given on the command line (Flags.Load). A key that
// is absent or null in the file keeps its default; a list or map in the
// file replaces the default one; a repeatable flag (--listen, --domain)
// given at least once replaces the file's whole list.
//
// # Strictness and errors
//
// An unknown key is an error, so a typo never silently falls back to a
// default. So are a duplicate key, a value of the wrong type, a bare number
// where a duration is expected, and more than one YAML document. After
// decoding, values are normalized (listen specs and domains to canonical
// form) and Validate runs: every top-level field, then every section's own
// Validate, then the checks between fields (tls and wss listeners need
// tls_cert and tls_key). All problems are reported at once, each as an
// *Error giving where the value came from and the field's path:
//
//	parley.yaml:4: unknown key "t3" in section timers
//	parley.yaml:9: timers.t1: invalid duration "5x": want a number with a unit, such as "500ms" or "3m"
//	parley.yaml:2: listen[1]: invalid listen spec "udp:::5060": IPv6 address must be in brackets, as in [::1]:5060
//	flag --log-level: log_level: unknown level "loud" (want debug, info, warn or error)
//
// # Reload
//
// On SIGHUP the application loads a new Config, calls CheckReload(old, new)
// to refuse changes that need a restart (listen, http, db,
// limits.capture_messages, websocket.allowed_origins), then swaps the
// new tree in and stops what the old one started, as Caddy and nats-server
// do.
//
// # Adding a section
//
// A feature adds a struct field with a yaml tag to Config, gives its type a
// Validate() error method that reports paths relative to the section (use
// *Error with Path set), and sets its defaults in Default. Decoding,
// unknown-key detection, line numbers, Clone and validation dispatch all
// work by reflection and need no other change. Tag a field
// reload:"restart" if a reload cannot apply it.
//
// There is no package-level state: every value lives in a Config that is
// passed to the code that uses it, so tests may run several servers with
// different timers in one process.
//
// # Example
//
// A complete file, with every key at its default unless noted:
//
//	# SIP listeners: udp|tcp|tls:HOST:PORT, ws|wss:HOST:PORT/PATH.
//	# IPv6 hosts go in brackets; port 0 picks a free port.
//	listen:
//	  - udp:0.0.0.0:5060
//	  - tcp:0.0.0.0:5060
//	  - tls:[::]:5061              # not a default: needs tls_cert/tls_key
//	  - wss:0.0.0.0:8443/sip       # not a default (RFC 7118 WebSocket)
//
//	# Domains Parley is responsible for (default: none).
//	domain:
//	  - example.com
//	  - 192.0.2.10
//
//	# sqlite:PATH, postgres://..., postgresql://... or mysql://...
//	db: sqlite:./parley.db
//
//	# Management API; "" or off disables it.
//	http: 127.0.0.1:8080
//
//	# PEM files; both or neither. Required by tls and wss listeners.
//	tls_cert: /etc/parley/cert.pem
//	tls_key: /etc/parley/key.pem
//
//	# debug, info, warn or error.
//	log_level: info
//
//	# host[:port] for Via and Record-Route when listening on 0.0.0.0 or
//	# [::]; empty derives it from the interface.
//	advertise: sip.example.com:5060
//
//	# RFC 3261 §17.1.1.1 timer bases, as Go durations.
//	timers:
//	  t1: 500ms       # RTT estimate
//	  t2: 4s          # retransmit cap, at least t1
//	  t4: 5s          # max message lifetime in the network
//	  timer_c: 3m5s   # proxy INVITE timeout (§16.8 wants > 3m; min 1s)
//
//	limits:
//	  max_message_size: 65535   # bytes, 1500 to 16 MiB
//	  max_headers: 128          # 1 to 1024
//	  max_conns_per_ip: 256
//	  idle_timeout: 10m0s
//	  handshake_timeout: 5s     # TLS and WebSocket
//	  max_transactions: 200000  # unanswered server + client transactions; beyond this, new requests get 503
//	  max_answered_transactions: 500000  # answered ones waiting out Timer J (~1.1 KB each);
//	                            # beyond this a non-INVITE transaction ends as soon as it answers
//	  capture_messages: 10000   # recent SIP messages kept for the console; 0 = off (restart to change)
//
//	sip:
//	  server_header: Parley     # "" sends no Server header
//	  supported: [path]         # option tags for Supported
//
//	# WebSocket listeners (RFC 7118).
//	websocket:
//	  allowed_origins: []       # web pages (Origin) that may open a SIP WebSocket, as host patterns
//	                            # (*.example.com) or scheme://host[:port]; others get 403. Empty: any
//	                            # origin, as Kamailio and OpenSIPS allow unless told otherwise. Pages from
//	                            # the WebSocket's own host and clients without Origin always pass. Restart to change.
//
//	# REGISTER handling (RFC 3261 §10.3).
//	registrar:
//	  min_expires: 60        # shorter non-zero requests get 423 with Min-Expires
//	  max_expires: 7200      # longer requests are shortened
//	  default_expires: 3600  # no expires parameter and no Expires header
//	  max_contacts: 10       # per AOR; a REGISTER exceeding it gets 503; 0 = no limit
//
//	# Digest authentication (RFC 3261 §22, RFC 7616, RFC 8760).
//	auth:
//	  enabled: true          # --auth=false turns it off
//	  unknown_user: "403"    # or "404": answer 404 User Not Found for unknown users
//	  trusted: [10.0.0.0/8]  # not a default: networks that are never challenged
//	  nonce_ttl: 5m0s
//	  algorithms: [MD5, SHA-256]   # offered in this order
//	  md5_only_agents: [baresip, JsSIP, SIP.js]   # User-Agents offered MD5 alone (they fail on SHA-256)
//	  secret: ""                   # nonce key; empty: derived from the database's secret, so instances
//	                               # sharing a database, and restarts, accept each other's nonces
//
//	# Dialog tracking and call records (CDRs).
//	calls:
//	  max_duration: 12h0m0s  # Parley ends longer calls with a BYE to both ends; 0 = never
//	  cdr_database: true     # a row per call in the cdr table
//	  cdr_file: ""           # --cdr-file: also JSON lines to this file; SIGHUP reopens it
//
//	# Location store (registrations).
//	location:
//	  write_mode: write-back # or write-through (each REGISTER waits for the database)
//	  sweep_interval: 30s
//
//	# Request routing (RFC 3261 §16).
//	proxy:
//	  unregistered_480: false            # 480 instead of 404 for a known user with no binding
//	  outbound_proxy: ""                 # e.g. sip:gw.example.net;transport=udp for foreign domains
//	  redirect: false                    # answer 302 instead of proxying: a user's contacts, the dialed
//	                                     # user at a route's gateway, or the Request-URI of a foreign domain
//	  redirect_domains: [example.org]    # not a default: redirect mode for these Request-URI hosts only
//	  follow_3xx: false                  # try the contacts of a 3xx from downstream
//	  routes:                            # not a default: static routes, tried before the location service
//	    - user: "^\\+?[0-9]{6,}$"        # regexp on the Request-URI user, or a tel: URI's number
//	      to: sip:192.0.2.1:5060;transport=udp
//	      stateless: true                # no transaction state (§16.11)
//
//	# Media relay for calls between browsers (WebRTC) and plain RTP phones.
//	media:
//	  rtpengine: ""          # e.g. udp:127.0.0.1:2223 (rtpengine --listen-ng); empty: no relay, such calls get 488
//	  timeout: 500ms         # wait per try for rtpengine's reply
//	  tries: 3               # then the call gets 503 Media Relay Unavailable with Retry-After
//
//	# Finding other domains' servers, the outbound proxy, Route hops and
//	# gateways by RFC 3263 (NAPTR, then SRV, then A/AAAA; failover in order).
//	dns:
//	  servers: []            # e.g. [127.0.0.1:5353, "[::1]"]; IP or IP:PORT (53); empty: /etc/resolv.conf
//	  timeout: 2s            # per query and server, then the next server; 10ms to 30s
//	  cache_size: 1024       # answers cached for their TTL; 0 = no cache
//	  max_ttl: 5m0s          # longest an answer is cached, whatever its TTL
//
//	# Reason phrases to send instead of RFC 3261's, by status code.
//	reason_phrases:
//	  404: No Such User
//	  480: Not Registered
package config
