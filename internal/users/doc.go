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
//   - No caching: every call queries the database, so a user added, changed or
//     deleted by `parley user add` in another process, or by another instance
//     sharing the database, counts at once.
//   - MySQL/MariaDB: the table's default collation is case-insensitive, so
//     lookups add a binary comparison and stay case-sensitive; but two users
//     differing only in case (or accents) cannot both exist there, and the
//     second Add gets ErrExists.
//   - List orders by domain, then user; a limit of 0 or less means no limit.
package users
