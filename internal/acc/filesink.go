package acc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
)

// FileSink appends records to a file as JSON lines: one json.Marshal(Record)
// per line. Each batch is written with one write call and synced to disk
// before Write returns. To rotate, move the file away and call Reopen (Parley
// does on SIGHUP): later batches go to a new file at the same path.
type FileSink struct {
	path string

	mu sync.Mutex // guards f; held across a batch's write and sync, and by Reopen's swap
	f  *os.File   // nil after Close
}

var (
	_ Sink     = (*FileSink)(nil)
	_ Reopener = (*FileSink)(nil)
)

// NewFileSink opens path for appending, creating it (mode 0640) if needed.
func NewFileSink(path string) (*FileSink, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	return &FileSink{path: path, f: f}, nil
}

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
}

// Name is "file:" and the path.
func (s *FileSink) Name() string { return "file:" + s.path }

// Write appends rs and syncs the file. If the write or the sync fails, the
// file is cut back to where the batch began, so a retry does not leave a
// partial line or a second copy.
func (s *FileSink) Write(ctx context.Context, rs []Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, r := range rs {
		line, err := json.Marshal(storable(r))
		if err != nil { // cannot happen for a storable Record; skip it rather than retry for ever
			continue
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return os.ErrClosed
	}
	return appendSynced(s.f, buf.Bytes())
}

// appendSynced writes b at the end of f and syncs it, or truncates f back
// to its previous size and returns the error.
func appendSynced(f *os.File, b []byte) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		if terr := f.Truncate(fi.Size()); terr != nil {
			err = errors.Join(err, fmt.Errorf("undo partial write: %w", terr))
		}
	}
	return err
}

// Reopen opens the path again and switches to it, closing the old file; a
// Write in progress finishes on the old file first. If the path cannot be
// opened, the old file stays in use and the error is returned.
func (s *FileSink) Reopen() error {
	f, err := openAppend(s.path)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := s.f
	if old == nil { // closed meanwhile
		s.mu.Unlock()
		return errors.Join(os.ErrClosed, f.Close())
	}
	s.f = f
	s.mu.Unlock()
	return old.Close()
}

// Close closes the file. Later writes fail with os.ErrClosed.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
