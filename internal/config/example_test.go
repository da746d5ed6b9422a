package config_test

import (
	"flag"
	"fmt"
	"os"

	"github.com/parley-sip/parley/internal/config"
)

func ExampleParse() {
	_, err := config.Parse([]byte("listen: [udp:0.0.0.0:5060]\ntimers:\n  t3: 1s\n"), "parley.yaml")
	fmt.Println(err)
	// Output: parley.yaml:3: unknown key "t3" in section timers
}

func ExampleFlags_Load() {
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	flags := config.RegisterFlags(fs)
	_ = fs.Parse([]string{"--listen", "udp:127.0.0.1:5060", "--listen", "tcp:127.0.0.1:5060", "--log-level", "debug"})
	c, err := flags.Load()
	fmt.Println(c.Listen, c.LogLevel, err)
	// Output: [udp:127.0.0.1:5060 tcp:127.0.0.1:5060] debug <nil>
}

func ExampleRegisterFlags() {
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	fs.SetOutput(os.Stdout)
	config.RegisterFlags(fs)
	fs.PrintDefaults()
	// Output:
	//   -auth
	//     	challenge requests with digest authentication (--auth=false for closed networks and benchmarks) (default true)
	//   -cdr-file PATH
	//     	also write call records as JSON lines to PATH (SIGHUP reopens it)
	//   -config FILE
	//     	read the configuration from YAML FILE
	//   -db DSN
	//     	database DSN: sqlite:PATH, postgres://..., postgresql://... or mysql://...
	//   -domain DOMAIN
	//     	serve DOMAIN (repeatable; replaces the file's list)
	//   -http ADDR
	//     	management API ADDR (HOST:PORT), or off
	//   -listen SPEC
	//     	listen on SPEC, as udp:0.0.0.0:5060 or wss:[::]:443/sip (repeatable; replaces the file's list)
	//   -log-level LEVEL
	//     	log LEVEL: debug, info, warn or error
	//   -tls-cert FILE
	//     	TLS certificate chain FILE (PEM)
	//   -tls-key FILE
	//     	TLS private key FILE (PEM)
}
