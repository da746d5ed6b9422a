package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	"github.com/parley-sip/parley/internal/api"
	"github.com/parley-sip/parley/internal/config"
	"github.com/parley-sip/parley/internal/db"
)

// adminCmd runs `parley admin add|del NAME --password PW`: administrator
// accounts of the management API and web console.
func adminCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || (args[0] != "add" && args[0] != "del") {
		fmt.Fprintln(stderr, "usage: parley admin add|del NAME [--password PW] [--db DSN] [--config FILE]")
		return 2
	}
	fs := flag.NewFlagSet("parley admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	flags := config.RegisterFlags(fs)
	password := fs.String("password", os.Getenv("PARLEY_ADMIN_PASSWORD"), "the administrator's `PASSWORD` (or $PARLEY_ADMIN_PASSWORD)")
	if err := fs.Parse(args[2:]); err != nil {
		return 2
	}
	cfg, err := flags.Load()
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := db.Open(ctx, cfg.DB)
	if err == nil {
		defer d.Close()
		err = d.Migrate(ctx)
	}
	if err == nil {
		admins := api.NewAdmins(d)
		if args[0] == "add" {
			err = admins.Add(ctx, args[1], *password)
		} else {
			err = admins.Delete(ctx, args[1])
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %s\n", map[string]string{"add": "added", "del": "deleted"}[args[0]], args[1])
	return 0
}

// callsCmd runs `parley calls [end ID]` against a running server's API.
func callsCmd(args []string, stdout, stderr io.Writer) int {
	end := ""
	if len(args) >= 2 && args[0] == "end" {
		end, args = args[1], args[2:]
	}
	fs := flag.NewFlagSet("parley calls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("http", "127.0.0.1:8080", "the server's management `ADDR`")
	name := fs.String("admin", os.Getenv("PARLEY_ADMIN"), "administrator `NAME` (or $PARLEY_ADMIN)")
	password := fs.String("password", os.Getenv("PARLEY_ADMIN_PASSWORD"), "administrator `PASSWORD` (or $PARLEY_ADMIN_PASSWORD)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c := &apiClient{base: "http://" + *addr}
	if err := c.login(*name, *password); err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	if end != "" {
		if err := c.do("DELETE", "/api/v1/calls/"+end, nil); err != nil {
			fmt.Fprintln(stderr, "parley:", err)
			return 1
		}
		fmt.Fprintf(stdout, "ended %s\n", end)
		return 0
	}
	items, err := c.allCalls()
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	if *asJSON {
		json.NewEncoder(stdout).Encode(items)
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCALLER\tCALLEE\tSTARTED\tANSWERED")
	for _, c := range items {
		fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\t%v\n", c["id"], c["state"], c["caller"], c["callee"], c["invite_at"], c["answer_at"])
	}
	tw.Flush()
	return 0
}

// allCalls reads every page of GET /api/v1/calls (at most maxCallPages).
func (c *apiClient) allCalls() ([]map[string]any, error) {
	items := []map[string]any{}
	for range maxCallPages {
		var out struct {
			Items []map[string]any `json:"items"`
			Total int              `json:"total"`
		}
		if err := c.do("GET", fmt.Sprintf("/api/v1/calls?offset=%d&limit=1000", len(items)), &out); err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if len(out.Items) == 0 || len(items) >= out.Total {
			break
		}
	}
	return items, nil
}

// maxCallPages bounds the pages `parley calls` reads (a million calls).
const maxCallPages = 1000

type apiClient struct {
	base  string
	token string
}

func (c *apiClient) login(name, password string) error {
	var out struct {
		Token string `json:"token"`
	}
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	if err := c.request("POST", "/api/v1/login", body, &out); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	c.token = out.Token
	return nil
}

func (c *apiClient) do(method, path string, out any) error { return c.request(method, path, nil, out) }

func (c *apiClient) request(method, path string, body []byte, out any) error {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	hc := &http.Client{Timeout: 15 * time.Second}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		json.NewDecoder(res.Body).Decode(&e)
		return fmt.Errorf("%s: %s", res.Status, e.Error)
	}
	if out != nil {
		return json.NewDecoder(res.Body).Decode(out)
	}
	return nil
}
