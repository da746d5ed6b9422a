package baresipctl

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/parley-sip/parley/internal/proctest"
)

// Config is one phone's config directory: SIP on 127.0.0.1:Base (UDP and
// TCP; baresip also listens for TLS on Base+1), ctrl_tcp on Base+5, RTP on
// Base+10..Base+29, G.711 with a 440 Hz sine as microphone and no speaker.
type Config struct {
	Base int
	// Certificate, when set, is a PEM file with certificate and key for
	// baresip's TLS transport (sip_certificate).
	Certificate string
	// Tag names the aubridge devices ("nowhere-<Tag>"), which must differ
	// between the phones on one host; the decimal Base when empty.
	Tag string
	// Extra lines are appended to the config (modules for video, say).
	Extra string
}

// CtrlAddr is the ctrl_tcp address.
func (c Config) CtrlAddr() string { return "127.0.0.1:" + strconv.Itoa(c.Base+5) }

// RTPMin and RTPMax bound the RTP ports.
func (c Config) RTPMin() int { return c.Base + 10 }
func (c Config) RTPMax() int { return c.Base + 29 }

// BlockFree reports whether the ports of a phone with this base are free at
// this moment: SIP over UDP and TCP, TLS and ctrl_tcp over TCP, and the first
// RTP ports.
func BlockFree(base int) bool {
	return proctest.PortsFree([]int{base, base + 10, base + 12, base + 14}, []int{base, base + 1, base + 5})
}

// Write writes the config and an empty accounts file into dir: accounts are
// added with uanew, so that no REGISTER_OK can come before the test looks.
func (c Config) Write(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(c.text()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "accounts"), nil, 0o644)
}

func (c Config) text() string {
	tag := c.Tag
	if tag == "" {
		tag = strconv.Itoa(c.Base)
	}
	cert := ""
	if c.Certificate != "" {
		cert = "sip_certificate " + c.Certificate + "\n"
	}
	return fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
%snet_interface 127.0.0.1
dns_server 127.0.0.1:53
rtp_ports %d-%d
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aubridge.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen %s
module_tmp uuid.so
module_tmp account.so
audio_player aubridge,nowhere-%s
audio_source ausine,440
audio_alert aubridge,nowhere-%s
ausrc_srate 48000
ausrc_channels 2
`, c.Base, cert, c.RTPMin(), c.RTPMax(), c.CtrlAddr(), tag, tag) + c.Extra
}
