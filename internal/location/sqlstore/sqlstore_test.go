package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-sip/parley/internal/db"
	"github.com/parley-sip/parley/internal/db/dbtest"
	"github.com/parley-sip/parley/internal/location"
	"github.com/parley-sip/parley/internal/location/sqlstore"
	"github.com/parley-sip/parley/internal/location/storetest"
)

func newStore(t *testing.T, d *db.DB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(d, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) location.Store { return newStore(t, dbtest.Open(t, dialect)) })
		})
	}
}

// TestSharedDatabase: two Parley instances (two connection pools) updating
// one AOR on one database never lose a change.
func TestSharedDatabase(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			dsn := dbtest.DSN(t, dialect)
			var stores [2]*sqlstore.Store
			for i := range stores {
				d, err := db.Open(context.Background(), dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Close() })
				if err := d.Migrate(context.Background()); err != nil {
					t.Fatal(err)
				}
				stores[i] = newStore(t, d)
			}
			const n = 40
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					b := location.Binding{Contact: fmt.Sprintf("sip:bob@192.0.2.%d", i), Expires: time.Now().Add(time.Hour)}
					_, err := stores[i%2].Update(context.Background(), "bob@example.test",
						func(cur []location.Binding) ([]location.Binding, error) { return append(cur, b), nil })
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for i, s := range stores {
				if bs, err := s.Lookup(context.Background(), "bob@example.test"); err != nil || len(bs) != n {
					t.Fatalf("instance %d: %d bindings, %v; want %d", i, len(bs), err, n)
				}
			}
		})
	}
}
