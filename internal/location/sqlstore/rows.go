package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/parley-sip/parley/internal/location"
)

const selectCols = "aor, contact, q, expires, call_id, cseq, path, received, transport, " +
	"source_addr, local_addr, conn_id, instance, user_agent, sip_instance, reg_id, updated"

const insertCols = "aor, contact_hash, contact, q, expires, call_id, cseq, path, received, transport, " +
	"source_addr, local_addr, conn_id, instance, user_agent, sip_instance, reg_id, updated"

const (
	ncols     = 18  // in insertCols
	rowsChunk = 64  // at most this many rows per INSERT (a power of two): 1152 parameters, below every database's limit
	aorsChunk = 128 // at most this many AORs per DELETE (a power of two)
)

// scanAll reads bindings from the result of a query on selectCols.
func scanAll(rows *sql.Rows, err error) ([]location.Binding, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []location.Binding
	for rows.Next() {
		b, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func scan(rows *sql.Rows) (location.Binding, error) {
	var (
		b                       location.Binding
		expires, updated, cseq  int64
		connID                  int64
		path, source, localAddr string
	)
	err := rows.Scan(&b.AOR, &b.Contact, &b.Q, &expires, &b.CallID, &cseq, &path, &b.Received, &b.Transport,
		&source, &localAddr, &connID, &b.Instance, &b.UserAgent, &b.SIPInstance, &b.RegID, &updated)
	if err != nil {
		return b, err
	}
	b.Expires, b.Updated = time.UnixMilli(expires), time.UnixMilli(updated)
	b.CSeq, b.ConnID = uint32(cseq), uint64(connID)
	if path != "" {
		b.Path = strings.Split(path, "\n")
	}
	if b.Source, err = parseAddr(source); err == nil {
		b.Local, err = parseAddr(localAddr)
	}
	if err != nil {
		return b, fmt.Errorf("sqlstore: binding %s %s: %w", b.AOR, b.Contact, err)
	}
	return b, nil
}

func parseAddr(s string) (netip.AddrPort, error) {
	if s == "" {
		return netip.AddrPort{}, nil
	}
	return netip.ParseAddrPort(s)
}

func formatAddr(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func contactHash(contact string) string {
	h := sha256.Sum256([]byte(contact))
	return hex.EncodeToString(h[:])
}

func appendArgs(args []any, b *location.Binding) []any {
	return append(args, b.AOR, contactHash(b.Contact), b.Contact, b.Q, b.Expires.UnixMilli(), b.CallID,
		int64(b.CSeq), strings.Join(b.Path, "\n"), b.Received, b.Transport, formatAddr(b.Source),
		formatAddr(b.Local), int64(b.ConnID), b.Instance, b.UserAgent, b.SIPInstance, b.RegID,
		b.Updated.UnixMilli())
}

// replace deletes every row of the changed AORs and inserts their new
// bindings (already prepared), in few statements of power-of-two sizes.
func (s *Store) replace(ctx context.Context, tx *sql.Tx, changes []location.Change) error {
	for rest := changes; len(rest) > 0; {
		part := rest[:chunk(len(rest), aorsChunk)]
		rest = rest[len(part):]
		args := make([]any, len(part))
		for j, ch := range part {
			args[j] = ch.AOR
		}
		if err := s.exec(ctx, tx, s.deleteAORs(len(part)), args...); err != nil {
			return err
		}
	}
	var rows []*location.Binding
	for i := range changes {
		for j := range changes[i].Bindings {
			rows = append(rows, &changes[i].Bindings[j])
		}
	}
	for rest := rows; len(rest) > 0; {
		part := rest[:chunk(len(rest), rowsChunk)]
		rest = rest[len(part):]
		args := make([]any, 0, len(part)*ncols)
		for _, b := range part {
			args = appendArgs(args, b)
		}
		if err := s.exec(ctx, tx, s.insertRows(len(part)), args...); err != nil {
			return err
		}
	}
	return nil
}

// list returns k comma-separated placeholders: "?,?,?".
func list(k int) string { return strings.TrimSuffix(strings.Repeat("?,", k), ",") }

// groups returns n parenthesized groups of k placeholders: "(?,?),(?,?)".
func groups(n, k int) string {
	return strings.TrimSuffix(strings.Repeat("("+list(k)+"),", n), ",")
}
