package users

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/parley-sip/parley/internal/auth"
)

// Defaults of the last-read credentials kept for database outages (doc.go).
const (
	// DefaultCacheSize bounds the users whose credentials are kept.
	DefaultCacheSize = 10000
	// DefaultCacheMaxAge is how long after it was read a copy may stand in
	// for a database that fails.
	DefaultCacheMaxAge = 5 * time.Minute
	// DefaultLookupTimeout bounds one credentials query, so that a database
	// that hangs instead of failing does not hold a request longer.
	DefaultLookupTimeout = 5 * time.Second
)

// evictSample is how many entries a full cache looks at to pick the one to
// drop (the one read longest ago), like Redis's approximated LRU.
const evictSample = 8

// credKey names a user as Credentials is asked for it: the username as sent
// (case-sensitive) and the lowercase domain.
type credKey struct{ user, domain string }

type credEntry struct {
	c       auth.Credentials
	read    time.Time
	version int64   // users_version when it was read; -1 unknown
	spread  float32 // of the maxAge of getAt, the share this copy may use: 0.5 to 1, at random
}

// lastGood keeps the credentials last read from the database for each user,
// so that Credentials can answer from them while the database fails. It is
// never read while the database answers, and keeps no "unknown user" answers,
// so a user added by anyone counts at once. Safe for concurrent use.
type lastGood struct {
	mu      sync.Mutex
	entries map[credKey]credEntry
	size    int
	maxAge  time.Duration
}

func newLastGood(size int, maxAge time.Duration) *lastGood {
	return &lastGood{entries: make(map[credKey]credEntry), size: size, maxAge: maxAge}
}

// put records c as read at now while the users version was version (-1:
// unknown), dropping the entry read longest ago (among a sample) when the
// cache is full.
func (g *lastGood) put(k credKey, c auth.Credentials, now time.Time, version int64) {
	if g.size <= 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.entries[k]; !ok && len(g.entries) >= g.size {
		g.evictLocked()
	}
	// A random spread, so that the copies of users read together (a crowd of
	// phones after a restart) are not all read again together either.
	g.entries[k] = credEntry{c: c, read: now, version: version, spread: 0.5 + rand.Float32()/2}
}

// evictLocked drops the oldest of a few entries. g.mu must be held.
func (g *lastGood) evictLocked() {
	var victim credKey
	var oldest time.Time
	n := 0
	for k, e := range g.entries { // map order is random: a random sample
		if n == 0 || e.read.Before(oldest) {
			victim, oldest = k, e.read
		}
		if n++; n == evictSample {
			break
		}
	}
	delete(g.entries, victim)
}

// get returns the credentials of k and when they were read, if they were
// read at most maxAge before now.
func (g *lastGood) get(k credKey, now time.Time) (auth.Credentials, time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.entries[k]
	if !ok {
		return auth.Credentials{}, time.Time{}, false
	}
	if now.Sub(e.read) > g.maxAge {
		delete(g.entries, k)
		return auth.Credentials{}, time.Time{}, false
	}
	return e.c, e.read, true
}

// getAt returns the credentials of k if they were read while the users
// version was version, at most maxAge before now: for each copy a random
// 50 to 100 % of maxAge (credEntry.spread).
func (g *lastGood) getAt(k credKey, version int64, now time.Time, maxAge time.Duration) (auth.Credentials, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.entries[k]
	if !ok || e.version < 0 || e.version != version || now.Sub(e.read) > time.Duration(float64(maxAge)*float64(e.spread)) {
		return auth.Credentials{}, false
	}
	return e.c, true
}

// forget drops what is kept about k: the user changed or is gone.
func (g *lastGood) forget(k credKey) {
	g.mu.Lock()
	delete(g.entries, k)
	g.mu.Unlock()
}

// len returns the number of users kept.
func (g *lastGood) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.entries)
}
