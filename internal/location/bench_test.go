package location_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/db/dbtest"
	"github.com/parley-sip/parley/internal/location"
)

const benchAORs = 10_000

// benchStores returns the stores the benchmarks compare, each filled with
// benchAORs realistic bindings.
func benchStores(b *testing.B) []struct {
	name string
	new  func(b *testing.B) location.Store
} {
	cached := func(writeThrough bool) func(b *testing.B) location.Store {
		return func(b *testing.B) location.Store {
			c, err := location.NewCached(backend(b, dbtest.Open(b, "sqlite")), location.CachedOptions{WriteThrough: writeThrough}, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Close() })
			return c
		}
	}
	return []struct {
		name string
		new  func(b *testing.B) location.Store
	}{
		{"memory", func(*testing.B) location.Store { return location.NewMemory() }},
		{"cached-writeback-sqlite", cached(false)},
		{"cached-writethrough-sqlite", cached(true)},
	}
}

func filled(b *testing.B, newStore func(b *testing.B) location.Store) (location.Store, []string) {
	s := newStore(b)
	fill(b, s, benchAORs)
	if f, ok := s.(interface{ Flush(context.Context) error }); ok {
		if err := f.Flush(bg); err != nil {
			b.Fatal(err)
		}
	}
	aors := make([]string, benchAORs)
	for i := range aors {
		aors[i] = realistic(i, time.Now()).AOR
	}
	return s, aors
}

// BenchmarkLookup: the INVITE path, one AOR with one binding.
func BenchmarkLookup(b *testing.B) {
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			s, aors := filled(b, st.new)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if bs, err := s.Lookup(bg, aors[i%len(aors)]); err != nil || len(bs) != 1 {
					b.Fatal(len(bs), err)
				}
			}
		})
	}
}

// BenchmarkUpdate: a REGISTER refresh (new CSeq and expiry) of one AOR.
func BenchmarkUpdate(b *testing.B) {
	for _, st := range benchStores(b) {
		b.Run(st.name, func(b *testing.B) {
			s, aors := filled(b, st.new)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				_, err := s.Update(bg, aors[i%len(aors)], func(cur []location.Binding) ([]location.Binding, error) {
					cur[0].CSeq++
					cur[0].Expires = time.Now().Add(time.Hour)
					return cur, nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
