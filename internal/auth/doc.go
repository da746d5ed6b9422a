// Package auth authenticates SIP requests with Digest (RFC 3261 §22, updated
// by RFC 8760 to RFC 7616's algorithms), in the manner of Kamailio's auth and
// auth_db modules. New builds a Digest from a Config, a CredentialStore and
// the server's Identity; Digest.Middleware is its place in the handler chain,
// and UserFromContext tells later handlers (registrar, proxy) who the caller is.
//
// # Who is challenged
//
//   - ACK and CANCEL never: they cannot be resubmitted with credentials (§22.1).
//   - Requests inside a dialog (the To header has a tag) pass: the dialog was
//     authenticated when it was set up, and the proxy routes them by Route.
//   - Requests from a Config.Trusted network pass without a user;
//     TrustedFromContext reports them (like Kamailio's permissions module).
//   - REGISTER whose Request-URI host is one of our domains gets 401 with
//     WWW-Authenticate, realm = that domain (§22.2, §10.3). When the
//     Request-URI names Parley by address instead, the To domain is the realm.
//   - OPTIONS addressed to Parley itself passes (keepalives, §11).
//   - Any other request outside a dialog whose From host is one of our domains
//     (INVITE, MESSAGE, SUBSCRIBE, PUBLISH, REFER, OPTIONS to a user, unknown
//     methods, ...) gets 407 with Proxy-Authenticate, realm = the From domain
//     (§22.3). Once the digest checks, the From user must be the authenticated
//     user, else 403 Forbidden (Kamailio's check_from): nobody calls as someone else.
//   - Requests from foreign domains are not challenged here; the proxy's
//     no-open-relay rule refuses foreign-to-foreign requests. An anonymous From
//     (sip:anonymous@anonymous.invalid, RFC 3323) is foreign.
//
// # Challenges
//
// A challenge carries one header per algorithm of Config.Algorithms
// (auth.algorithms), all with one fresh nonce, the preferred one first (RFC
// 8760 §2.3-§2.4, RFC 7616 §3.7), each with realm, nonce, algorithm and
// qop="auth" (RFC 8760 makes qop support required). The default is MD5
// first, then SHA-256: clients that read only the first challenge (sipsak,
// many older phones) then still register, and RFC 8760 clients pick SHA-256.
// Clients of Config.MD5OnlyAgents get MD5 alone. No opaque is sent: the nonce authenticates itself, so opaque
// would add nothing.
//
// Challenges keep no state (RFC 3261 §8.2.7, §26.3.2.4), except to INVITE:
//   - A non-INVITE request with no credentials header of the scope's kind is
//     answered by Digest.Screen, a sipserver.Screen: on the transport's
//     goroutine, before any transaction, copy of the request or handler
//     exists. Requests that fail the sanity checks are left to the chain, so
//     they get the same error as before.
//   - Any other challenge to a non-INVITE request (a stale, forged or replayed
//     nonce) ends its transaction with the 401/407 (StatusError.Forget) instead
//     of keeping it for Timer J.
//   - Either way the To tag is derived from the request, so a retransmission,
//     answered anew with a fresh nonce, carries the same tag.
//   - A 407 to an INVITE keeps its transaction, which absorbs the ACK
//     (§17.2.1) and retransmits the 407 over UDP.
//
// # Credentials
//
// A 401 is answered with Authorization and a 407 with Proxy-Authorization. Of
// the Digest values in that header, the first whose realm is ours is used;
// values for other realms belong to other servers and are ignored (§22.3).
// They are left in the request when it is forwarded: §22.3 lets a proxy
// consume its credentials but does not require it. Accepted:
//   - algorithm MD5 (also when absent, §22.4) or SHA-256; others get 400;
//   - qop=auth with cnonce and an 8-hex-digit nc (RFC 7616 §3.4), or no qop at
//     all: the RFC 2069 form that §22.4 keeps for backward compatibility,
//     still sent by some old phones although RFC 8760 wants qop; other qop
//     values (auth-int was never offered) get 400;
//   - parameter names in any case, values quoted (with \-escapes) or not; a
//     parameter given twice, or a missing username, realm, nonce, uri or
//     response, gets 400 "Bad Authorization Header: <problem>" (or
//     Proxy-Authorization), which names what is wrong.
//
// The uri parameter must name the Request-URI: the same string, or a URI equal
// to it under §19.1.4. A mismatch gets 400 rather than a new challenge: it
// means a broken client or credentials lifted from another request, and a new
// challenge would only loop.
//
// # Nonces
//
// Nonces are stateless and authenticated: base64url of the issue time in Unix
// milliseconds, 8 random bytes, and 16 bytes of HMAC-SHA256 over both and the
// realm, keyed with Config.Secret (RFC 7616 §3.3 suggests a time stamp and a
// keyed hash; §5.4 discusses limited-use nonces). Any instance with the same
// secret accepts them, and checking one needs no state and no database.
// Parley (internal/app) passes auth.secret when it is set, and otherwise a
// key derived from the secret kept in its database (HMAC-SHA256 of
// "auth-nonce"), so that instances sharing a database accept each other's
// nonces and a restart leaves the nonces phones hold valid.
//   - A forged nonce (bad MAC, wrong realm, wrong length) gets a new challenge
//     with stale=false, before the credential store is asked.
//   - An expired nonce (older than NonceTTL, or issued more than NonceTTL in
//     the future) gets a new challenge with stale=true when the digest is
//     right, so the phone retries without asking its user, and stale=false when
//     it is wrong (RFC 7616 §3.3: stale only with a valid digest). An unknown
//     user's digest is wrong like a wrong password's, so it gets the same
//     stale=false challenge: an expired nonce does not tell who exists.
//   - Replays (RFC 7616 §3.4 nc, §5.5): per nonce the highest nc accepted is
//     remembered, in sharded maps whose entries are dropped when the nonce
//     expires and whose size is bounded (about 260,000 nonces; when full the
//     oldest quarter is evicted and those nonces are answered as stale, so no
//     replay window opens). An nc not above the last one gets a new challenge
//     with stale=false. The count is checked after the digest, so forged
//     requests cannot burn a nonce. It is remembered per instance: a replay to
//     another instance sharing the secret is caught only by the TTL.
//   - Without qop there is no nc: such a nonce may be reused until it expires;
//     NonceTTL bounds that replay window.
//
// # Answers
//
//   - Wrong password: 403 Forbidden, not a new challenge, so a phone with a
//     wrong password stops instead of retrying in a loop (§22.2 lets a server
//     re-challenge; a phone answering every 401 would then never stop).
//   - Unknown user: the same 403 by default, so that users cannot be
//     enumerated: the user is checked like a wrong password, in the same
//     order, also with an expired nonce (above); with UnknownUser404, 404
//     "User Not Found".
//   - Credential store failure (database down): 500 "Server Internal Error"
//     and one log line; the request is not passed on (but see below).
//   - Failed attempts are logged at Info level with user, realm and source
//     address, for fail2ban-style tools.
//
// # Credential store failures
//
// internal/users answers from the credentials it read while its users
// version counter stood still, checking the counter at most every second, so
// password changes and deletions made anywhere (another instance, `parley
// user` in another process) apply within a second, and a user added anywhere
// at once (users/doc.go). When the store fails, internal/users answers from the
// HA1 values it read last for that user, if they were read at most 5
// minutes before (a bounded copy, users/doc.go), marked with
// Credentials.StoreErr: the request is checked against them, a warning names
// the error, and Stats.StoreStale counts it. So a short database outage does
// not stop the calls and registrations of users seen in the last minutes.
// The trade-off: a password change or deletion made on another instance (or
// by `parley user` in another process) while this instance cannot read the
// database is not seen here until it can, for up to those 5 minutes.
// Changes made through this instance's store (the management API) drop its
// copy at once. An unknown user is never remembered, so a user added while
// the server runs can register at once. Users without a copy get the 500.
//
// # Configuration
//
//	auth:
//	  nonce_ttl: 5m
//	  secret: "…"           # default: derived from the database's secret
//	  unknown_user: "403"   # or "404"
//	  trusted: [10.0.0.0/8, 192.0.2.10/32]
//
// Authentication is on by default; --auth=false (Config.Disabled) turns it off.
package auth
