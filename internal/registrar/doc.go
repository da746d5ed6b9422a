// Package registrar implements REGISTER processing (RFC 3261 §10.3) on top of a
// location.Store, like Kamailio's registrar + usrloc.
//
// Decisions, each where the RFC leaves a choice:
//   - The AOR comes from To (§10.3 step 5): user@domain, the user unescaped and the
//     domain lowercased. An AOR whose domain Parley does not serve, or that has no
//     user, gets 404 Not Found (§10.3 step 3); an authenticated user registering
//     someone else's AOR gets 403 Forbidden.
//   - Expiry: the contact's expires parameter, else the Expires header, else
//     registrar.default_expires. A non-zero value below registrar.min_expires gets
//     423 Interval Too Brief with Min-Expires (§10.3 step 7); values above
//     registrar.max_expires are shortened to it.
//   - "Contact: *" is accepted only alone and with "Expires: 0"; any other use
//     gets 400 (§10.3 step 6).
//   - Call-ID/CSeq (§10.3 step 7): for an existing binding with the same Call-ID,
//     a CSeq not above the stored one aborts the whole request with
//     400 "CSeq Out Of Order" and changes nothing.
//   - Contacts are matched to stored bindings by URI equality (§10.3 step 7,
//     §19.1.4; URIEqual): sip:a@HOST and sip:a@host are one binding,
//     sip:A@host and sip:a@host two; a transport parameter in only one URI, or
//     with another value, makes another binding (the §19.1.4 example). A
//     refresh keeps the binding and stores the Contact as last sent. A contact
//     given twice in one REGISTER makes one binding; the last one counts.
//   - registrar.max_contacts: a REGISTER that would leave an AOR with more
//     bindings than that is refused with 503 "Too Many Registered Contacts" and
//     changes nothing (Kamailio's behaviour); removals in it still count first.
//     The 503 carries Retry-After (§21.5.4, §20.33): the seconds until the
//     AOR's first binding expires, when a place frees up by itself. An edge
//     proxy in front of Parley must not read this 503 as "Parley is down".
//   - Path (RFC 3327): Path values are always stored with the binding and used
//     for requests to it; they are echoed in the 200 only when the REGISTER said
//     Supported: path (§5.3, Kamailio's lazy path mode).
//   - Each binding records the source address, transport, local socket and
//     connection of the REGISTER, so requests reach a phone behind NAT or on a
//     TCP/TLS/WS connection over the flow it opened.
//   - A REGISTER without Contact lists the current bindings (§10.3 step 8).
//   - The 200 carries every current binding with its remaining expiry and a Date
//     header (§10.3 step 8, §20.17).
//   - A database error is answered 500 and logged; nothing is half-applied.
package registrar
