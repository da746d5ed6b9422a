package acc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/parley-sip/parley/internal/acc"
)

// readLines decodes a JSON-lines file.
func readLines(t *testing.T, path string) []acc.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []acc.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r acc.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v: %s", len(out)+1, err, sc.Bytes())
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFileSinkLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cdr.jsonl")
	s, err := acc.NewFileSink(path)
	if err != nil {
		t.Fatal(err)
	}
	full := fullRecord("full", t0)
	writeRecords(t, s, full, acc.Record{ID: "bare", Code: 404})
	writeRecords(t, s, acc.Record{ID: "nan", Duration: math.NaN()}) // json.Marshal would fail on NaN
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := readLines(t, path)
	if len(got) != 3 || !reflect.DeepEqual(got[0], full) || got[1].ID != "bare" || got[2].ID != "nan" || got[2].Duration != 0 {
		t.Fatalf("lines = %+v", got)
	}
	line, _ := json.Marshal(full)
	data, _ := os.ReadFile(path)
	if string(data[:len(line)+1]) != string(line)+"\n" {
		t.Errorf("first line is not json.Marshal(Record):\n%s", data)
	}
	if err := s.Write(context.Background(), recs(1)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close = %v, want os.ErrClosed", err)
	}
	if s.Name() != "file:"+path {
		t.Errorf("Name = %q", s.Name())
	}
}

func TestFileSinkAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cdr.jsonl")
	for i := range 2 { // a restart appends to what is there
		s, err := acc.NewFileSink(path)
		if err != nil {
			t.Fatal(err)
		}
		writeRecords(t, s, recs(2)[i])
		s.Close()
	}
	if got := readLines(t, path); ids(got) != "r00000,r00001" {
		t.Errorf("lines = %s", ids(got))
	}
}

func TestFileSinkReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cdr.jsonl")
	s, err := acc.NewFileSink(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rs := recs(4)
	writeRecords(t, s, rs[0], rs[1])
	if err := os.Rename(path, path+".1"); err != nil { // the operator rotates
		t.Fatal(err)
	}
	writeRecords(t, s, rs[2]) // before SIGHUP: still the moved file
	if err := s.Reopen(); err != nil {
		t.Fatal(err)
	}
	writeRecords(t, s, rs[3])
	if got := ids(readLines(t, path+".1")); got != "r00000,r00001,r00002" {
		t.Errorf("rotated file has %s", got)
	}
	if got := ids(readLines(t, path)); got != "r00003" {
		t.Errorf("new file has %s", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil { // the path cannot be created
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if os.Geteuid() != 0 {
		if err := s.Reopen(); err == nil {
			t.Error("Reopen succeeded in a read-only directory")
		}
	}
}

// TestFileSinkReopenConcurrent rotates while a Writer writes: every record
// ends up in exactly one of the files, as a whole line.
func TestFileSinkReopenConcurrent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cdr.jsonl")
	s, err := acc.NewFileSink(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fast()
	cfg.BatchSize = 7
	w := acc.NewWriter(cfg, []acc.Sink{s}, nil)
	want := recs(2000)
	var wg sync.WaitGroup
	wg.Go(func() { recordAll(w, want) })
	var rotated []string
	for i := range 20 {
		name := filepath.Join(dir, "old"+string(rune('a'+i)))
		if err := os.Rename(path, name); err != nil {
			t.Fatal(err)
		}
		rotated = append(rotated, name)
		if err := w.Reopen(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	closeWriter(t, w)
	var got []acc.Record
	for _, name := range append(rotated, path) {
		got = append(got, readLines(t, name)...)
	}
	exactlyOnce(t, got, want)
}
