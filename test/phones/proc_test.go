package phones

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parley-sip/parley/internal/proctest"
)

// startProc starts bin; env (if not nil) is added to the environment; stdin
// (if not nil) becomes its standard input. It is killed by its PID when the
// test ends, if it is still running, and its output saved (saveLog).
func startProc(t *testing.T, name string, env []string, stdin io.Reader, bin string, args ...string) (*proctest.Proc, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if stdin != nil {
		cmd.Stdin = stdin
	}
	p, err := proctest.Start(name, cmd)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		p.Kill()
		saveLog(name, p.Log())
	})
	return p, nil
}

// portPlan hands out non-overlapping port blocks to the phones of one run.
type portPlan struct {
	mu   sync.Mutex
	next int
}

func newPortPlan() *portPlan { return &portPlan{next: 20000 + 100*rand.IntN(300)} }

// block returns the first port of a block of size ports for which check
// succeeds.
func (pp *portPlan) block(size int, check func(base int) bool) (int, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for range 200 {
		base := pp.next
		pp.next += size
		if pp.next > 60000 {
			pp.next = 20000
		}
		if check(base) {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no free block of %d ports", size)
}

// saveLog writes a log into $PHONES_LOGDIR (if set), for looking at the SIP
// traces after a run.
func saveLog(name, text string) {
	dir := os.Getenv("PHONES_LOGDIR")
	if dir == "" {
		return
	}
	os.MkdirAll(dir, 0o755)
	file := strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '(' || r == ')' {
			return '_'
		}
		return r
	}, name)
	for i := 0; ; i++ {
		path := filepath.Join(dir, fmt.Sprintf("%s.%d.log", file, i))
		if _, err := os.Stat(path); err == nil {
			continue
		}
		os.WriteFile(path, []byte(text), 0o644)
		return
	}
}
