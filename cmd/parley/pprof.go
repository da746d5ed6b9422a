//go:build pprof

// Built only with -tags pprof, for profiling: serves net/http/pprof on
// 127.0.0.1:6061 (or PARLEY_PPROF). Release builds do not contain it.
package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("PARLEY_PPROF")
	if addr == "" {
		addr = "127.0.0.1:6061"
	}
	go func() { _ = http.ListenAndServe(addr, nil) }()
}
