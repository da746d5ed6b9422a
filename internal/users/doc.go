// Package users keeps Parley's SIP accounts in the users table of internal/db
// (SQLite, PostgreSQL or MySQL/MariaDB) and serves them to the auth middleware
// as its CredentialStore.
//
// Decisions:
//   - Only HA1 values are stored: MD5(user:realm:password) and
//     SHA-256(user:realm:password) with realm = the domain (RFC 7616 §3.4.2,
//     RFC 8760). The password itself is never written anywhere. A consequence:
//     renaming a domain means setting every password again.
//   - An AOR is "user@domain", optionally with a sip: or sips: scheme. The user
//     is a SIP user part (RFC 3261 §25.1: unreserved, user-unreserved and
//     %-escaped characters); it is stored unescaped, as phones send it in the
//     digest username, and compared case-sensitively. Unescaped, it must be
//     printable UTF-8 without spaces, at most 64 bytes. The domain is a hostname
//     (RFC 3261 §25.1 hostname) or an IPv4 address, stored lowercase, at most 190
//     bytes; a trailing dot is dropped.
//   - A password must have at least 6 characters and differ from the user name
//     and from the AOR (ErrWeakPassword).
//   - Every change through a Store (the API, `parley user`, another instance)
//     increments the users_version counter (migration 6). Credentials answers
//     from the copy it read while that counter stood still (at most
//     FreshMaxAge, 1 min, old; each copy a random 30 s to 1 min, so that
//     10,000 phones that registered together do not all cost a query again
//     in the same second) and reads the counter again at most every
//     VersionCheckInterval (1 s): a digest answer then costs no query. So a
//     password change or a deletion made by another process or instance
//     counts within a second, one made through this Store at once; a user
//     added anywhere counts at once, because "unknown user" answers are never
//     kept. An edit of the users table with plain SQL (which does not move
//     the counter) counts within FreshMaxAge. Measured on SQLite with SIPp:
//     the credentials query was a sixth of the CPU of a digest registration.
//   - Database outages: Credentials keeps a copy of the HA1 values it last
//     read for each user (at most DefaultCacheSize users; when full, the one
//     read longest ago among a few goes). When a credentials query fails, or
//     takes longer than DefaultLookupTimeout (5 s), and the user was read at
//     most DefaultCacheMaxAge (5 min) ago, it answers from that copy, marked
//     with the error (auth.Credentials.StoreErr; the auth middleware logs a
//     warning), so phones that authenticated in the last minutes can still
//     register and call while the database is briefly away. "Unknown user"
//     answers are never kept, so a new user is never refused from a cache.
//     SetPassword and Delete drop the copy; a change made elsewhere (another
//     instance, `parley user` in another process) while this instance cannot
//     read the database is not seen until it can: for up to
//     DefaultCacheMaxAge the old password, or a deleted user, still
//     authenticates here.
//   - MySQL/MariaDB: the table's default collation is case-insensitive, so
//     lookups add a binary comparison and stay case-sensitive; but two users
//     differing only in case (or accents) cannot both exist there, and the
//     second Add gets ErrExists.
//   - List orders by domain, then user; a limit of 0 or less means no limit.
package users
