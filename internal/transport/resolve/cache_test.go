package resolve

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/parley-sip/parley/internal/transport"
	"github.com/parley-sip/parley/internal/transport/resolve/resolvetest"
)

// fakeClock is a settable time for the cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestCache_TTL: answers are reused until their TTL runs out, the TTL is
// bounded by MaxTTL, and negative answers are cached for the SOA minimum
// (RFC 2308 §5).
func TestCache_TTL(t *testing.T) {
	srv := resolvetest.Start(t,
		`short.test. 5 IN A 127.0.0.41`,
		`long.test. 86400 IN A 127.0.0.42`)
	r := New(Config{Servers: []string{srv.Addr}, Timeout: time.Second, MaxTTL: time.Minute})
	clock := &fakeClock{t: time.Now()}
	r.cache.now = clock.now
	resolve := func(host string) {
		t.Helper()
		r.Resolve(context.Background(), transport.Target{Host: host, Port: 5060})
	}
	steps := []struct {
		name    string
		advance time.Duration
		host    string
		qtype   uint16
		want    int // queries so far for host/qtype
	}{
		{"first asks", 0, "short.test", dns.TypeA, 1},
		{"within TTL cached", 4 * time.Second, "short.test", dns.TypeA, 1},
		{"after TTL asks again", 2 * time.Second, "short.test", dns.TypeA, 2},
		{"long TTL asks", 0, "long.test", dns.TypeA, 1},
		{"long TTL bounded by max_ttl", 61 * time.Second, "long.test", dns.TypeA, 2},
		{"NXDOMAIN asks", 0, "gone.test", dns.TypeA, 1},
		{"NXDOMAIN cached", 20 * time.Second, "gone.test", dns.TypeA, 1},
		{"NXDOMAIN after SOA minimum", 11 * time.Second, "gone.test", dns.TypeA, 2},
	}
	for _, s := range steps {
		clock.add(s.advance)
		resolve(s.host)
		if got := srv.Queries(s.host, s.qtype); got != s.want {
			t.Errorf("%s: %d queries, want %d", s.name, got, s.want)
		}
	}
}

// TestCache_Bounded: the cache never holds more than CacheSize answers, and
// a negative CacheSize turns it off.
func TestCache_Bounded(t *testing.T) {
	c := newCache(3, time.Minute)
	for i := range 10 {
		c.put(cacheKey{name: string(rune('a'+i)) + ".test.", qtype: dns.TypeA}, answer{}, time.Duration(i+1)*time.Second)
		if n := c.len(); n > 3 {
			t.Fatalf("after %d puts the cache holds %d, want at most 3", i+1, n)
		}
	}
	if _, ok := c.get(cacheKey{"j.test.", dns.TypeA}); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := c.get(cacheKey{"a.test.", dns.TypeA}); ok {
		t.Error("the entry closest to expiry was kept")
	}
	srv := resolvetest.Start(t, `x.test. 60 IN A 127.0.0.43`)
	r := New(Config{Servers: []string{srv.Addr}, CacheSize: -1})
	for range 3 {
		r.Resolve(context.Background(), transport.Target{Host: "x.test", Port: 5060})
	}
	if q := srv.Queries("x.test", dns.TypeA); q != 3 {
		t.Errorf("cache off: %d queries for 3 resolutions, want 3", q)
	}
}

// TestConfig_ResolvConf: without configured servers, the nameservers of the
// resolv.conf file are used, with port 53.
func TestConfig_ResolvConf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resolv.conf")
	data := "# comment\nsearch example.com\nnameserver 192.0.2.1\nnameserver 2001:db8::1\noptions ndots:1\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	r := New(Config{ResolvConf: path})
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	if got, want := r.Servers(), []string{"192.0.2.1:53", "[2001:db8::1]:53"}; !slices.Equal(got, want) {
		t.Errorf("servers %v, want %v", got, want)
	}
	r = New(Config{Servers: []string{"127.0.0.1:5353", "::1"}, ResolvConf: path})
	if got, want := r.Servers(), []string{"127.0.0.1:5353", "[::1]:53"}; !slices.Equal(got, want) {
		t.Errorf("configured servers %v, want %v (resolv.conf ignored)", got, want)
	}
	for _, bad := range []string{"dns.example:53", "127.0.0.1:0", "127.0.0.1:x", ""} {
		if _, err := ServerAddr(bad); err == nil {
			t.Errorf("ServerAddr(%q) accepted", bad)
		}
	}
}
