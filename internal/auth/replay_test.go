package auth

import (
	"encoding/binary"
	"testing"
)

func keyAt(issuedMs int64, rnd byte) nonceKey {
	var k nonceKey
	binary.BigEndian.PutUint64(k[:8], uint64(issuedMs))
	k[8], k[9] = rnd, rnd^0x5a
	return k
}

func TestReplayGuardCounts(t *testing.T) {
	g := newReplayGuard(300_000, 100)
	k := keyAt(1000, 7)
	steps := []struct {
		nc   uint32
		want ncVerdict
	}{{1, ncOK}, {1, ncReplay}, {2, ncOK}, {5, ncOK}, {3, ncReplay}, {5, ncReplay}, {6, ncOK}}
	for i, s := range steps {
		if got := g.advance(k, s.nc, 2000); got != s.want {
			t.Fatalf("step %d nc=%d: %v, want %v", i, s.nc, got, s.want)
		}
	}
	if got := g.advance(keyAt(1000, 8), 1, 2000); got != ncOK {
		t.Fatalf("another nonce: %v", got)
	}
}

func TestReplayGuardDropsExpired(t *testing.T) {
	g := newReplayGuard(1000, 100)
	for i := range 64 {
		g.advance(keyAt(0, byte(i)), 1, 10)
	}
	if n := g.len(); n != 64 {
		t.Fatalf("len = %d", n)
	}
	// Much later every shard sweeps on its next insert.
	for i := range 64 {
		g.advance(keyAt(5000, byte(i)), 1, 5000)
	}
	if n := g.len(); n != 64 {
		t.Fatalf("after expiry len = %d, want only the 64 new nonces", n)
	}
}

func TestReplayGuardBounded(t *testing.T) {
	g := newReplayGuard(1_000_000, 8)
	shard := byte(3) // k[8] picks the shard: the same for every key
	for i := range 8 {
		g.advance(keyAt(int64(100+i), shard), 1, 200)
	}
	// The shard is full: the next insert evicts the oldest quarter (issued 100, 101, 102).
	if got := g.advance(keyAt(300, shard), 1, 300); got != ncOK {
		t.Fatalf("insert into full shard: %v", got)
	}
	if n := g.len(); n > 8 {
		t.Fatalf("len = %d, bound is 8", n)
	}
	// An evicted nonce is not forgotten as "never seen": it is answered stale.
	if got := g.advance(keyAt(100, shard), 2, 300); got != ncForgotten {
		t.Fatalf("evicted nonce: %v, want ncForgotten", got)
	}
	if got := g.advance(keyAt(107, shard), 2, 300); got != ncOK {
		t.Fatalf("kept nonce: %v", got)
	}
}
