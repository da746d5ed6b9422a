package baresipctl

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"time"

	"github.com/parley-sip/parley/internal/proctest"
)

// FreeBase returns a base port for a phone whose ports (BlockFree) were free
// a moment ago, or 0 when 64 tries found none. Bases are 40 apart, so two
// phones' blocks (Base..Base+29) never overlap.
func FreeBase() int {
	for range 64 {
		if base := 20000 + 40*rand.IntN(750); BlockFree(base) {
			return base
		}
	}
	return 0
}

// DialTimeout bounds how long Start waits for ctrl_tcp to come up.
const DialTimeout = 10 * time.Second

// Start writes c into dir, runs bin -f dir with args after them, and
// connects to its ctrl_tcp as name. When the connection fails, baresip is
// killed and the error carries the end of its log. Otherwise the caller ends
// both: Client.Close, and Proc.Kill or Proc.Stop.
func (c Config) Start(name, bin, dir string, args ...string) (*proctest.Proc, *Client, error) {
	if err := c.Write(dir); err != nil {
		return nil, nil, err
	}
	p, err := proctest.Start(name, exec.Command(bin, append([]string{"-f", dir}, args...)...))
	if err != nil {
		return nil, nil, err
	}
	ctl, err := Dial(name, c.CtrlAddr(), DialTimeout, p.Done())
	if err != nil {
		p.Kill()
		return nil, nil, fmt.Errorf("%w; log:\n%s", err, proctest.Tail(p.Log(), 2000))
	}
	return p, ctl, nil
}
