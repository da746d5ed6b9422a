package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/db/dbtest"
	"github.com/parley-sip/parley/internal/location"
)

func TestChunk(t *testing.T) {
	tests := []struct{ n, limit, want int }{
		{1, 64, 1}, {2, 64, 2}, {3, 64, 2}, {63, 64, 32}, {64, 64, 64}, {65, 64, 64}, {1000, 128, 128}, {100, 128, 64},
	}
	for _, tt := range tests {
		if got := chunk(tt.n, tt.limit); got != tt.want {
			t.Errorf("chunk(%d, %d) = %d, want %d", tt.n, tt.limit, got, tt.want)
		}
	}
}

// TestReplaceUsesPreparedStatements checks that New prepares every statement
// replace can need (so a batch of any size runs on prepared statements) and
// that a Replace of sizes that are not powers of two stores every row.
func TestReplaceUsesPreparedStatements(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			s, err := New(dbtest.Open(t, dialect), Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			for n := 1; n <= aorsChunk; n <<= 1 {
				if s.stmts.get(s.deleteAORs(n)) == nil {
					t.Errorf("DELETE for %d AORs not prepared", n)
				}
			}
			for n := 1; n <= rowsChunk; n <<= 1 {
				if s.stmts.get(s.insertRows(n)) == nil {
					t.Errorf("INSERT of %d rows not prepared", n)
				}
			}
			ctx := context.Background()
			now := time.Now()
			var changes []location.Change
			for i := range 211 { // 128+64+16+2+1 AORs; 2 bindings each: 422 rows
				aor := fmt.Sprintf("sip:u%03d@example.test", i)
				changes = append(changes, location.Change{AOR: aor, Bindings: []location.Binding{
					{AOR: aor, Contact: "sip:a@192.0.2.1", Q: 1000, Expires: now.Add(time.Hour), CallID: "c", CSeq: 1},
					{AOR: aor, Contact: "sip:b@192.0.2.2", Q: 500, Expires: now.Add(time.Hour), CallID: "c", CSeq: 1},
				}})
			}
			if err := s.Replace(ctx, changes); err != nil {
				t.Fatal(err)
			}
			if n, err := s.Count(ctx); err != nil || n != 422 {
				t.Fatalf("Count = %d, %v; want 422", n, err)
			}
		})
	}
}
