// Package location is the location service of the registrar (RFC 3261 §10,
// like Kamailio's usrloc): for each address-of-record it keeps the contacts
// registered for it, and answers "where is alice@example.test now?" for
// proxying (§16.5) and redirecting.
//
// # Data
//
// A [Binding] is keyed by AOR and Contact URI (§10.3 step 7: a contact
// already bound is updated, a new one added). It records what routing needs
// later: the Path of the REGISTER (RFC 3327 §5.3, used as a preloaded Route
// set towards the contact), the address, transport, local socket and
// connection it came over, so that requests reach a client behind NAT or on
// the flow it opened (RFC 5626 §5, RFC 7118), and +sip.instance / reg-id
// (RFC 5626 §4.1, §4.2). Call-ID and CSeq are kept for §10.3 step 7: the
// registrar refuses an out-of-order REGISTER by returning an error from the
// function it passes to [Store.Update], which then changes nothing.
//
// Decisions where the RFCs leave a choice:
//   - A binding is alive while Expires is after now; an expired one is never
//     returned, even before [Store.Expire] (or [Sweep]) removes it.
//   - Lookup orders by q (highest first, §16.6 step 1 / §10.2.1.2), then by
//     most recent refresh, then by contact, identically on every backend.
//   - Times are kept to the millisecond; every backend enforces the same size
//     limits and text rules ([Prepare]), so a binding one backend accepts,
//     all accept.
//   - The AOR is compared byte for byte: the registrar builds it with the
//     domain lowercased and the user part as is (§19.1.4).
//
// # Stores
//
// All implement [Store] and pass storetest.Run (one conformance suite):
//
//   - [NewMemory]: memory only, for tests and --db none. AORs are spread over
//     256 mutex-guarded shards; a binding takes about 400 bytes (measured in
//     TestMemoryFootprint with 100,000 typical bindings), because its strings
//     share one allocation and transport and instance names are interned.
//   - sqlstore: every call is a query on the "location" table. This is the
//     shared-database mode, where several Parley instances serve one domain
//     and each sees the others' registrations at once.
//   - [NewCached] over sqlstore, the default for one instance: reads from
//     memory, writes to the database, everything loaded at start so a restart
//     keeps the registrations.
//
// # Write-back and write-through
//
// [Cached] writes behind by default (Kamailio usrloc db_mode 2): Update
// changes memory and queues the AOR; a background writer writes the current
// bindings of the queued AORs every CachedOptions.Interval (100ms), or as
// soon as BatchSize (500) AORs are queued, in one transaction per batch. A
// database error is logged and retried with backoff; the queue keeps only
// AOR names, so repeated refreshes of one AOR while the database is down cost
// nothing more. Update blocks only when MaxPending AORs are queued and the one
// it changes is not: it then waits up to PendingWait for the writer and fails
// with [ErrBacklog], changing nothing, so a dead database turns into 500
// responses instead of unbounded memory. [Cached.Flush] and [Cached.Close]
// write everything queued, so a graceful shutdown loses nothing.
//
// The trade-off: REGISTER never waits for the database, and a database
// outage does not stop registrations, but a crash (or kill -9) loses the
// changes of up to the last Interval, plus everything queued while the
// database was failing. The phones re-register on their next refresh, so the
// loss is temporary unreachability, never corrupt data.
//
// With CachedOptions.WriteThrough (db_mode 1) each Update writes the database
// first and returns its error, and memory changes only when that worked: no
// loss on a crash, but every REGISTER waits for a commit, and fails while the
// database is down.
//
// Cached assumes it is the only writer of its database; for several
// instances on one database use sqlstore directly.
//
// # Example
//
//	d, _ := db.Open(ctx, "sqlite:/var/lib/parley/parley.db")
//	_ = d.Migrate(ctx)
//	backend, _ := sqlstore.New(d, sqlstore.Options{})
//	store, _ := location.NewCached(backend, location.CachedOptions{}, log)
//	defer store.Close() // writes what is queued
//	go location.Sweep(ctx, store, 10*time.Second, log)
//
// # Lock order
//
// Memory: one shard mutex at a time. Cached: a shard mutex is released
// before Cached.mu is taken; the writer never holds Cached.mu while it reads
// memory or writes the database. In write-through mode the database write
// happens under the AOR's shard mutex, which is what keeps memory and the
// database in the same order.
package location
