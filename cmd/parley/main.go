// Command parley is the Parley SIP server. `parley serve` runs it; see README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parley-sip/parley/internal/app"
	"github.com/parley-sip/parley/internal/config"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{"serve"}
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "user":
		return userCmd(args[1:], stdout, stderr)
	case "cdr":
		return cdrCmd(args[1:], stdout, stderr)
	case "admin":
		return adminCmd(args[1:], stdout, stderr)
	case "calls":
		return callsCmd(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "parley", app.Version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "parley: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, "usage: parley <command> [flags]\n\ncommands:\n  serve     run the SIP server (default)\n  user      add|list|del|passwd users: parley user add alice@example.test --password PW\n  cdr       list call records: parley cdr list --since 24h --user alice@example.test [--json|--csv]\n  admin     add|del administrators of the management API: parley admin add NAME --password PW\n  calls     list active calls of a running server, or end one: parley calls [end ID]\n  version   print the version\n\nRun `parley serve -h` for the flags.\n")
}

// serve runs until SIGTERM or SIGINT (drain, exit 0); SIGHUP reloads the configuration.
func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("parley serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := config.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := flags.Load()
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	level := new(slog.LevelVar)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	a, err := app.New(cfg, log, level)
	if err == nil {
		err = a.Start()
	}
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	log.Info("parley started", "version", app.Version)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	for sig := range sigs {
		if sig == syscall.SIGHUP {
			reload(a, flags, log)
			continue
		}
		log.Info("draining", "signal", sig.String())
		ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
		err := a.Shutdown(ctx)
		cancel()
		if err != nil {
			log.Warn("drain incomplete", "err", err)
		}
		return 0
	}
	return 0
}

func reload(a *app.App, flags *config.Flags, log *slog.Logger) {
	next, err := flags.Load()
	if err == nil {
		err = a.Reload(next)
	}
	if err != nil {
		log.Error("reload refused; the previous configuration stays in effect", "err", err)
		return
	}
	log.Info("configuration reloaded")
}
