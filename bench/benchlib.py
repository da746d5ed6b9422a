#!/usr/bin/env python3
"""Helpers for bench/run.sh (Python 3 standard library only).

  cpu PID                 CPU seconds (user+system) used so far by PID and its descendants
  kamdb FILE --users CSV --realm R
                          creates Kamailio's SQLite database for parley-equivalent.cfg
                          (version, subscriber with HA1, location, acc_cdrs, dialog tables)
  pcaplat FILE --port P   REGISTER -> final response and INVITE -> 180 latency from a loopback capture
  report --raw DIR --out FILE.md --chart-json FILE.json
                          writes the Markdown report (and the chart's input) from the
                          JSON lines that run.sh and sipbench.py wrote into DIR

SIPp measures response times in whole milliseconds, which says little on loopback
(nearly every REGISTER is answered in "0 ms"); pcaplat reads the tcpdump capture
taken during the fixed-rate step instead: the time between the REGISTER leaving
SIPp and the server's final response, per transaction (Via branch), in microseconds,
as the loopback interface saw them.
"""

import argparse
import json
import math
import os
import struct
import sys

CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------
# cpu

def proc_tree(root):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2:].split()
        children.setdefault(int(rest[1]), []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu_seconds(root):
    tot = 0
    for p in proc_tree(root):
        try:
            with open("/proc/%d/stat" % p) as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2:].split()
        tot += int(rest[11]) + int(rest[12])
    return tot / float(CLK_TCK)


def cmd_cpu(o):
    print("%.2f" % tree_cpu_seconds(o.pid))


# --------------------------------------------------------------------------
# kamdb

KAM_SQL = "/usr/share/kamailio/db_sqlite"


def cmd_kamdb(o):
    """The database parley-equivalent.cfg reads: Kamailio's own schema files
    (package kamailio-sqlite-modules) and one subscriber row per users.csv line,
    HA1 only, as `parley user import` stores them."""
    import hashlib
    import sqlite3
    if os.path.exists(o.file):
        os.remove(o.file)
    db = sqlite3.connect(o.file)
    # WAL (persistent in the file): the workers' auth_db reads then do not
    # fail with "database is locked" while the timer process writes usrloc
    # back; Parley's SQLite database runs in WAL mode too.
    db.execute("PRAGMA journal_mode=WAL")
    for name in ("standard", "auth_db", "usrloc", "acc", "dialog"):
        with open(os.path.join(KAM_SQL, name + "-create.sql")) as f:
            db.executescript(f.read())
    rows = []
    with open(o.users) as f:
        for line in f:
            parts = line.strip().split(";")
            if len(parts) < 2 or parts[0] in ("SEQUENTIAL", "RANDOM", "USER"):
                continue
            user, pw = parts[0], parts[1]
            ha1 = hashlib.md5(("%s:%s:%s" % (user, o.realm, pw)).encode()).hexdigest()
            rows.append((user, o.realm, ha1))
    db.executemany("INSERT INTO subscriber (username, domain, ha1) VALUES (?, ?, ?)", rows)
    db.commit()
    db.close()
    print(len(rows))


# --------------------------------------------------------------------------
# pcaplat

def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, int(math.ceil(p / 100.0 * len(sorted_vals))) - 1))
    return sorted_vals[k]


def read_pcap(path):
    """Yields (ts_seconds, src_port, dst_port, payload) of UDP/IPv4 and UDP/IPv6 packets."""
    with open(path, "rb") as f:
        gh = f.read(24)
        if len(gh) < 24:
            return
        magic = struct.unpack("<I", gh[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            endian = "<"
        else:
            endian = ">"
            magic = struct.unpack(">I", gh[:4])[0]
        nano = magic == 0xa1b23c4d
        linktype = struct.unpack(endian + "I", gh[20:24])[0]
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            sec, frac, incl, _orig = struct.unpack(endian + "IIII", rh)
            data = f.read(incl)
            ts = sec + frac / (1e9 if nano else 1e6)
            if linktype == 1:        # Ethernet (Linux lo)
                off = 14
                etype = struct.unpack(">H", data[12:14])[0]
            elif linktype == 113:    # Linux cooked (any)
                off = 16
                etype = struct.unpack(">H", data[14:16])[0]
            elif linktype == 276:    # Linux cooked v2
                off = 20
                etype = struct.unpack(">H", data[0:2])[0]
            else:
                continue
            if etype == 0x0800:
                ihl = (data[off] & 0x0F) * 4
                if data[off + 9] != 17:
                    continue
                u = off + ihl
            elif etype == 0x86DD:
                if data[off + 6] != 17:
                    continue
                u = off + 40
            else:
                continue
            sport, dport = struct.unpack(">HH", data[u:u + 4])
            yield ts, sport, dport, data[u + 8:]


def first_branch(payload):
    for line in payload.split(b"\r\n")[1:]:
        if not line:
            break
        low = line.lower()
        if low.startswith(b"via:") or low.startswith(b"v:"):
            i = low.find(b"branch=")
            if i < 0:
                return None
            b = line[i + 7:]
            for sep in (b";", b",", b" "):
                j = b.find(sep)
                if j >= 0:
                    b = b[:j]
            return b
    return None


def has_auth(payload):
    for line in payload.split(b"\r\n")[1:]:
        if not line:
            break
        if line.lower().startswith(b"authorization:"):
            return True
    return False


def cmd_pcaplat(o):
    """REGISTER -> final response, and INVITE -> 180 (the first 180 for the
    INVITE's branch; a proxy relays the 180 with the caller's Via on top)."""
    req = {}      # branch -> (t_first, key prefix)
    resp = {}     # branch -> (t_first answer, code)
    retrans_req = 0
    for ts, sport, dport, pl in read_pcap(o.file):
        if dport == o.port and (pl.startswith(b"REGISTER ") or pl.startswith(b"INVITE ")):
            br = first_branch(pl)
            if br is None:
                continue
            if br in req:
                retrans_req += 1
            elif pl.startswith(b"INVITE "):
                req[br] = (ts, "INVITE")
            else:
                req[br] = (ts, "REGISTER+auth" if has_auth(pl) else "REGISTER")
        elif sport == o.port and pl.startswith(b"SIP/2.0 "):
            try:
                code = int(pl[8:11])
            except ValueError:
                continue
            br = first_branch(pl)
            if br is None or br in resp or br not in req:
                continue
            if req[br][1] == "INVITE":
                if code == 180 or code >= 200:
                    resp[br] = (ts, code)
            elif code >= 200:
                resp[br] = (ts, code)
    groups = {}
    unanswered = 0
    for br, (t0, kind) in req.items():
        r = resp.get(br)
        if r is None:
            unanswered += 1
            continue
        groups.setdefault("%s->%d" % (kind, r[1]), []).append((r[0] - t0) * 1e6)
    out = {"requests": len(req), "unanswered": unanswered, "request_retransmissions": retrans_req,
           "latency_us": {}}
    for k, v in sorted(groups.items()):
        v.sort()
        out["latency_us"][k] = {
            "n": len(v), "median": round(pct(v, 50), 1), "p90": round(pct(v, 90), 1),
            "p99": round(pct(v, 99), 1), "p999": round(pct(v, 99.9), 1), "max": round(v[-1], 1),
            "mean": round(sum(v) / len(v), 1)}
    print(json.dumps(out))


# --------------------------------------------------------------------------
# report

def load_jsonl(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    return rows


def ramp_result(rows, label, scenario):
    """(sustained max clean rate, the step at that rate, first unclean step, all steps)."""
    steps = [r for r in rows if r.get("label") == label and r.get("scenario") == scenario
             and "target_rate" in r]
    if not steps:
        return None
    last = {}
    for r in steps:   # a repeated step: the last attempt counts
        last[r["target_rate"]] = r
    sust, best, first = 0, None, None
    for rate in sorted(last):
        if last[rate]["clean"]:
            sust, best = rate, last[rate]
        else:
            first = last[rate]
            break
    return {"sustained": sust, "best": best, "first_unclean": first,
            "steps": [last[k] for k in sorted(last)], "attempts": steps}


def us_per_op(step):
    if not step or not step.get("server_cpu_pct") or not step.get("achieved_rate"):
        return None
    return 1e6 * step["server_cpu_pct"] / 100.0 / step["achieved_rate"]


def fmt_num(v, nd=0):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if nd == 0:
        return "{:,.0f}".format(v)
    return ("{:,.%df}" % nd).format(v)


def ratio(a, b, nd=2):
    if a is None or b is None or not b:
        return "–"
    return "%.*f" % (nd, a / float(b))


def cmd_report(o):
    raw = o.raw
    sb = load_jsonl(os.path.join(raw, "results.jsonl"))      # sipbench.py rows
    ex = load_jsonl(os.path.join(raw, "extra.jsonl"))        # run.sh rows
    env = {}
    if os.path.exists(os.path.join(raw, "env.json")):
        with open(os.path.join(raw, "env.json")) as f:
            env = json.load(f)
    servers = ["parley", "kamailio"]

    def ex_get(kind, server, mode=None):
        out = [r for r in ex if r.get("kind") == kind and r.get("server") == server
               and (mode is None or r.get("mode") == mode)]
        return out[-1] if out else None

    def mem_get(label):
        m = [r for r in sb if r.get("label") == label and "pss_sum_kb" in r]
        return m[-1] if m else None

    fig = {s: {} for s in servers}
    notes = []
    for s in servers:
        f = fig[s]
        for mode, scen in (("noauth", "reg_noauth"), ("auth", "reg_auth")):
            rr = ramp_result(sb, "%s-%s" % (s, mode), scen)
            f["ramp_" + mode] = rr
            if rr:
                f["max_" + mode] = rr["sustained"]
                f["usop_max_" + mode] = us_per_op(rr["best"])
            fx = ex_get("fixed", s, mode)
            f["fixed_" + mode] = fx
        f["fixed_call"] = ex_get("fixed", s, "call")
        during = [r for r in sb if r.get("label", "").startswith("%s during calls" % s) and "pss_sum_kb" in r]
        f["mem_calls"] = during[-1]["pss_sum_kb"] / 1024.0 if during else None
        rr = ramp_result(sb, "%s-noauth" % s, "call")
        f["ramp_call"] = rr
        if rr:
            f["max_call"] = rr["sustained"]
            f["usop_max_call"] = us_per_op(rr["best"])
        idle = mem_get("%s idle" % s)
        filled = mem_get("%s filled" % s)
        f["mem_idle"] = idle["pss_sum_kb"] / 1024.0 if idle else None
        f["mem_filled"] = filled["pss_sum_kb"] / 1024.0 if filled else None
        f["rss_idle"] = idle["rss_sum_kb"] / 1024.0 if idle else None
        f["rss_filled"] = filled["rss_sum_kb"] / 1024.0 if filled else None
        fill = ex_get("fill", s)
        f["fill"] = fill
        n = fill.get("bindings") if fill else None
        if idle and filled and n:
            f["per_binding"] = (filled["pss_sum_kb"] - idle["pss_sum_kb"]) * 1024.0 / n
        else:
            f["per_binding"] = None
        f["mem_after_noauth"] = mem_get("%s after noauth load" % s)
        rs = mem_get("%s restarted with the bindings" % s)
        f["mem_restarted"] = rs["pss_sum_kb"] / 1024.0 if rs else None
        f["per_binding_restarted"] = ((rs["pss_sum_kb"] - idle["pss_sum_kb"]) * 1024.0 / n) if (rs and idle and n) else None
        f["mem_auth_idle"] = mem_get("%s auth idle" % s)
        f["mem_after_auth"] = mem_get("%s after auth load" % s)
        f["stops"] = [r for r in ex if r.get("kind") == "stop" and r.get("server") == s]

    P, K = fig["parley"], fig["kamailio"]
    P["fixed_call_nocdr"] = ex_get("fixed", "parley-nocdr", "call")
    fill_n = (P.get("fill") or K.get("fill") or {}).get("bindings") or env.get("fill")

    def fixed_val(f, mode, key):
        fx = f.get("fixed_" + mode)
        if not fx:
            return None
        return fx.get(key)

    def lat(f, mode, key, stat):
        fx = f.get("fixed_" + mode)
        if not fx or not fx.get("pcap"):
            return None
        g = fx["pcap"].get("latency_us", {}).get(key)
        return g.get(stat) if g else None

    fr_na = env.get("fixed_rate_noauth")
    fr_au = env.get("fixed_rate_auth")
    rows = []
    # (figure, parley, kamailio, digits, better)
    rows.append(("REGISTER/s, no auth, highest clean rate (ramp)", P.get("max_noauth"), K.get("max_noauth"), 0, "higher"))
    rows.append(("REGISTER/s with digest (401 + 200 = 1 registration), highest clean rate", P.get("max_auth"), K.get("max_auth"), 0, "higher"))
    rows.append(("server CPU s per 1,000 registrations, no auth, at %s/s" % fmt_num(fr_na),
                 fixed_val(P, "noauth", "cpu_s_per_1000"), fixed_val(K, "noauth", "cpu_s_per_1000"), 3, "lower"))
    rows.append(("server CPU s per 1,000 registrations, digest, at %s/s" % fmt_num(fr_au),
                 fixed_val(P, "auth", "cpu_s_per_1000"), fixed_val(K, "auth", "cpu_s_per_1000"), 3, "lower"))
    rows.append(("server CPU s per 1,000 registrations, no auth, at the highest clean rate",
                 (P.get("usop_max_noauth") or 0) / 1000.0 or None, (K.get("usop_max_noauth") or 0) / 1000.0 or None, 3, "lower"))
    rows.append(("server CPU s per 1,000 registrations, digest, at the highest clean rate",
                 (P.get("usop_max_auth") or 0) / 1000.0 or None, (K.get("usop_max_auth") or 0) / 1000.0 or None, 3, "lower"))
    rows.append(("memory idle, PSS MiB (no-auth server, just started)", P.get("mem_idle"), K.get("mem_idle"), 1, "lower"))
    rows.append(("memory 5 s after registering %s users, PSS MiB (Parley: includes the fill's transactions, held 32 s)" % fmt_num(fill_n),
                 P.get("mem_filled"), K.get("mem_filled"), 1, "lower"))
    rows.append(("memory per binding then, bytes ((with N − idle) / N)", P.get("per_binding"), K.get("per_binding"), 0, "lower"))
    if P.get("mem_restarted"):
        rows.append(("memory with %s bindings, Parley restarted on its database (Kamailio: as above), PSS MiB"
                     % fmt_num(fill_n), P.get("mem_restarted"), K.get("mem_filled"), 1, "lower"))
        rows.append(("memory per binding after the restart, bytes (Kamailio: as above)", P.get("per_binding_restarted"),
                     K.get("per_binding"), 0, "lower"))

    def cap(f, mode):
        v = fixed_val(f, mode, "cpu_s_per_1000")
        return 1000.0 / v if v else None
    rows.append(("capacity estimate, no auth: registrations/s per CPU (1 / CPU per registration at the fixed rate)",
                 cap(P, "noauth"), cap(K, "noauth"), 0, "higher"))
    rows.append(("capacity estimate, digest: registrations/s per CPU", cap(P, "auth"), cap(K, "auth"), 0, "higher"))
    rows.append(("REGISTER→200 latency, no auth, median µs (at %s/s)" % fmt_num(fr_na),
                 lat(P, "noauth", "REGISTER->200", "median"), lat(K, "noauth", "REGISTER->200", "median"), 0, "lower"))
    rows.append(("REGISTER→200 latency, no auth, p99 µs", lat(P, "noauth", "REGISTER->200", "p99"),
                 lat(K, "noauth", "REGISTER->200", "p99"), 0, "lower"))
    rows.append(("REGISTER→401 latency, digest, median µs (at %s/s)" % fmt_num(fr_au),
                 lat(P, "auth", "REGISTER->401", "median"), lat(K, "auth", "REGISTER->401", "median"), 0, "lower"))
    rows.append(("REGISTER→401 latency, digest, p99 µs", lat(P, "auth", "REGISTER->401", "p99"),
                 lat(K, "auth", "REGISTER->401", "p99"), 0, "lower"))
    rows.append(("REGISTER with credentials→200 latency, digest, median µs", lat(P, "auth", "REGISTER+auth->200", "median"),
                 lat(K, "auth", "REGISTER+auth->200", "median"), 0, "lower"))
    rows.append(("REGISTER with credentials→200 latency, digest, p99 µs", lat(P, "auth", "REGISTER+auth->200", "p99"),
                 lat(K, "auth", "REGISTER+auth->200", "p99"), 0, "lower"))
    calls_ran = P.get("ramp_call") or K.get("ramp_call") or P.get("fixed_call") or K.get("fixed_call")
    fr_call = env.get("fixed_rate_call")
    if calls_ran:
        rows.append(("calls/s through the proxy (INVITE..BYE), highest clean rate", P.get("max_call"), K.get("max_call"), 0, "higher"))
        rows.append(("server CPU s per 1,000 calls at %s calls/s" % fmt_num(fr_call),
                     fixed_val(P, "call", "cpu_s_per_1000"), fixed_val(K, "call", "cpu_s_per_1000"), 3, "lower"))
        rows.append(("server CPU ms per call at the highest clean rate",
                     (P.get("usop_max_call") or 0) / 1000.0 or None, (K.get("usop_max_call") or 0) / 1000.0 or None, 3, "lower"))
        rows.append(("INVITE→180 latency through the proxy, median µs (at %s calls/s)" % fmt_num(fr_call),
                     lat(P, "call", "INVITE->180", "median"), lat(K, "call", "INVITE->180", "median"), 0, "lower"))
        rows.append(("INVITE→180 latency through the proxy, p99 µs", lat(P, "call", "INVITE->180", "p99"),
                     lat(K, "call", "INVITE->180", "p99"), 0, "lower"))
        rows.append(("memory during the calls at %s calls/s, PSS MiB" % fmt_num(fr_call), P.get("mem_calls"), K.get("mem_calls"), 1, "lower"))

    L = []
    w = L.append
    w("# Parley and Kamailio side by side: registrations%s" % (" and calls" if calls_ran else ""))
    w("")
    w("Produced by `bench/run.sh%s` on %s (%s). Loopback only, UDP, one server at a time on %s." % (
        (" " + env.get("args")) if env.get("args") else "", env.get("date", "?"), env.get("host", "?"), env.get("target", "?")))
    w("Server pinned to CPU %s, SIPp (and the driver, tcpdump) to CPU %s with `taskset`. "
      "Every figure comes from the same SIPp scenarios (`../shared/bench/sipp/`) driven by `../shared/bench/sipbench.py`." % (
          env.get("server_cpu", "1"), env.get("client_cpu", "0")))
    w("")
    w("| figure | Parley | Kamailio | Parley/Kamailio |")
    w("| --- | ---: | ---: | ---: |")
    for name, a, b, nd, better in rows:
        w("| %s | %s | %s | %s %s |" % (name, fmt_num(a, nd), fmt_num(b, nd), ratio(a, b),
                                         "(higher is better)" if better == "higher" else "(lower is better)"))
    w("")
    w("![chart](%s)" % os.path.basename(o.chart_png))
    w("")
    targets(w, P, K, rows)

    # how each figure was measured
    w("## How")
    w("")
    w("* **Highest clean rate**: `sipbench.py ramp`, %s s per step; a step is clean with 0 failed registrations, "
      "0 retransmissions and ≥ 95 %% of the target rate achieved; the figure is the highest rate up to which every step "
      "was clean (an unclean step is repeated %s time(s) when other processes used more than %s %% CPU meanwhile). "
      "Rates tried: no auth %s; digest %s." % (
          env.get("duration", "?"), env.get("retries", "?"), env.get("max_other", "?"), env.get("rates_noauth", "?"),
          env.get("rates_auth", "?")))
    w("* **CPU per 1,000 registrations**: utime+stime of the server's processes (all Kamailio processes; the one Parley "
      "process) from `/proc`, from just before a fixed-rate step (%s registrations/s no auth, %s/s digest, %s s) until "
      "3 s after it, so that work deferred after the responses (Parley's batched SQLite writes) is counted; the server's "
      "idle CPU in that window is not subtracted. At the highest clean rate it is sipbench's own figure (CPU during the step "
      "only)." % (fmt_num(fr_na), fmt_num(fr_au), env.get("fixed_duration", "?")))
    w("* **CPU per 1,000 calls**: the same, around a fixed-rate call step (%s calls/s for %s s, INVITE..BYE, UDP); it "
      "includes the callee's one registration and the CDR writes after the last BYE." % (fmt_num(env.get("fixed_rate_call")),
                                                                                    env.get("fixed_duration", "?")))
    w("* **Latency**: SIPp only measures whole milliseconds, so the fixed-rate steps are also captured with `tcpdump -i lo` "
      "and each REGISTER is matched with the server's final response, each INVITE with the 180 relayed back to the caller, "
      "by Via branch: the time between SIPp's request and the server's response on the loopback interface, in µs (first "
      "transmission of each; the capture runs on the SIPp core). INVITE→180 includes the callee SIPp's own time to answer.")
    w("* **Memory during calls**: PSS halfway through the fixed-rate call step.")
    w("* **Memory**: PSS summed over the server's processes (`/proc/PID/smaps_rollup`; Kamailio's shared memory is "
      "counted once), 2 s after start, and 5 s after `sipbench.py fill` registered %s distinct users (no auth, %s/s) "
      "from a generated users file. Per binding = (with N − idle) / N." % (fmt_num(fill_n), fmt_num(env.get("fill_rate"))))
    w("* **SIPp processes**: one SIPp UAC per registration step (REGISTER scenario, `-buff_size 4194304`); "
      "the call ramp uses two (UAC and UAS) plus one to register the callee. SIPp runs one step at a time.")
    w("")
    w("## What each server did per request")
    w("")
    w("| | Parley | Kamailio |")
    w("| --- | --- | --- |")
    w("| version | %s | %s |" % (env.get("parley_version", "?"), env.get("kamailio_version", "?")))
    w("| processes / threads | 1 process, GOMAXPROCS = 1 (affinity to one CPU) | main + 2 UDP workers + timers (`children=2`), all on one CPU |")
    equivalent = env.get("kamailio_config", "shared") == "equivalent"
    w("| no-auth REGISTER | `--auth=false`; parse, sanity checks, server transaction (kept 32 s after the 200 to absorb "
      "retransmissions: Timer J = 64·T1, RFC 3261 §17.2.2), To → AOR, location update in memory, AOR queued for the "
      "write-back writer (SQLite, batches of ≤ 500 every 100 ms, one transaction each), 200 with Contact;expires and Date | "
      + ("`parley-equivalent.cfg` without `WITH_AUTH`: sanity, `t_precheck_trans`/`t_check_trans`, `save(\"location\")` "
         "in memory with usrloc `db_mode 2` (written back to SQLite every second), 200 sent statelessly (no tm transaction kept) |"
         if equivalent else
         "`kamailio-bench.cfg` without `WITH_AUTH`: sanity, `t_precheck_trans`/`t_check_trans`, `save(\"location\")` in memory "
         "(usrloc `db_mode 0`, no database), 200 sent statelessly (no tm transaction kept) |"))
    w("| digest REGISTER | challenge: 401 with **two** WWW-Authenticate (MD5 first, then SHA-256), `qop=\"auth\"`, stateless "
      "HMAC nonce, sent statelessly before any transaction exists (RFC 3261 §8.2.7); answer: nonce MAC and age check, user's HA1 from SQLite (users table, %s users imported from "
      "`users.csv`; kept in memory after the first read and used while the database's `users_version` counter, read at most once a second, is unchanged, and for at most a minute), MD5 digest with qop (cnonce, nc), nc replay check, then the no-auth path | " % fmt_num(env.get("users_imported"))
      + ("`-A WITH_AUTH`: 401 with one WWW-Authenticate (MD5, `qop=\"auth\"`), stateless nonce; answer: `www_authorize` "
         "(auth_db) reading the HA1 from SQLite table `subscriber` (the same users), `nonce_count 1` replay check, "
         "`consume_credentials`, then `save` as above |" if equivalent else
         "`-A WITH_AUTH`: 401 with one WWW-Authenticate (MD5, **no qop**), stateless nonce; answer: "
         "`pv_www_authenticate` against the fixed password `secret` from the config (**no user database**), "
         "`consume_credentials`, then `save` as above |"))
    w("| INVITE (calls) | `--auth=false`: sanity, server transaction, Record-Route, location lookup, one branch (client "
      "transaction), dialog tracking, a CDR row per call written to SQLite by a buffered writer; ACK and BYE by the route set | "
      + ("record_route, `dlg_manage()` (dialog module), lookup, `t_relay()`; a CDR per dialog written to SQLite `acc_cdrs` by "
         "acc; ACK and BYE by `loose_route()` |" if equivalent else
         "record_route, lookup, `t_relay()` (no dialog tracking, no accounting); ACK and BYE by `loose_route()` |"))
    w("| database | fresh SQLite file per run (`--db sqlite:...`, pure Go driver), users imported with `parley user import` | "
      + ("fresh SQLite file per run (`db_sqlite`), Kamailio's own schema, the same users as HA1 (`benchlib.py kamdb`) |"
         if equivalent else "none |"))
    w("| logging | `--log-level warn` | `debug=1` (warnings and errors) |")
    w("")
    if equivalent:
        w("Kamailio ran `bench/kamailio/parley-equivalent.cfg`: the shared reference configuration plus what Parley does "
          "on every request here (users and HA1 in SQLite, qop and nonce-count, location written back to SQLite, dialog "
          "tracking and a CDR per call in SQLite). What still differs: Parley offers two challenges (MD5 and SHA-256) "
          "where Kamailio offers one; Parley keeps the transaction of each REGISTER it answers 200 for Timer J where Kamailio "
          "answers statelessly (both send the 401 challenge statelessly).")
    else:
        w("Kamailio ran the shared reference configuration, which does less than Parley: no database for users or "
          "locations, no qop, no dialog tracking or accounting.")
    w("")

    # per server detail
    w("## Steps")
    w("")
    for s in servers:
        f = fig[s]
        for key, title in (("ramp_noauth", "REGISTER, no auth"), ("ramp_auth", "REGISTER, digest"), ("ramp_call", "calls")):
            rr = f.get(key)
            if not rr:
                continue
            w("**%s, %s** (highest clean %s/s%s)" % (s.capitalize(), title, fmt_num(rr["sustained"]),
                                                    ", first unclean %s/s" % fmt_num(rr["first_unclean"]["target_rate"]) if rr["first_unclean"] else ""))
            w("")
            w("| target/s | achieved/s | ok | failed | retrans UAC/UAS | server CPU % | µs CPU/op | SIPp CPU % | other CPU % | UDP drops server/other | clean |")
            w("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
            for r in rr["attempts"]:
                w("| %s | %s | %s | %s | %s/%s | %s | %s | %s | %s | %s/%s | %s |" % (
                    fmt_num(r["target_rate"]), fmt_num(r["achieved_rate"]), fmt_num(r["ok"]),
                    fmt_num(r["failed"] + r.get("failed_uas", 0)), r["retrans_uac"], r.get("retrans_uas", 0),
                    fmt_num(r.get("server_cpu_pct")), fmt_num(us_per_op(r), 1),
                    fmt_num((r.get("uac_cpu_pct") or 0) + (r.get("uas_cpu_pct") or 0)),
                    fmt_num(r.get("other_cpu_pct")), r.get("udp_drops_target", 0), r.get("udp_drops_other", 0),
                    "yes" if r["clean"] else "**no**"))
            w("")
    w("**Fixed-rate steps** (CPU and latency):")
    w("")
    w("| server | mode | rate/s | ok (registrations or calls) | failed | retrans | CPU s | CPU s / 1,000 | other CPU % | captured requests | unanswered | latencies µs (median / p99 / max) |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for s in servers:
        for mode in ("noauth", "auth", "call"):
            fx = fig[s].get("fixed_" + mode)
            if not fx:
                continue
            st = fx.get("step") or {}
            pc = fx.get("pcap") or {}
            lats = "; ".join("%s: %s / %s / %s" % (k, fmt_num(v["median"]), fmt_num(v["p99"]), fmt_num(v["max"]))
                             for k, v in sorted((pc.get("latency_us") or {}).items()))
            w("| %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %s | %s |" % (
                s, mode, fmt_num(fx.get("rate")), fmt_num(st.get("ok")), fmt_num(st.get("failed")),
                fmt_num(st.get("retrans_uac")), fx.get("cpu_s") or 0, fmt_num(fx.get("cpu_s_per_1000"), 3),
                fmt_num(st.get("other_cpu_pct")), fmt_num(pc.get("requests")), fmt_num(pc.get("unanswered")), lats or "–"))
    w("")
    w("**Memory** (MiB, summed over the server's processes):")
    w("")
    w("| server | moment | processes | RSS | PSS | extra |")
    w("| --- | --- | ---: | ---: | ---: | --- |")
    for r in sb:
        if "pss_sum_kb" not in r:
            continue
        extra = ", ".join("%s=%s" % (k, v) for k, v in r.items()
                          if k not in ("label", "processes", "rss_sum_kb", "pss_sum_kb") and v not in ("", None))
        srv, _, moment = r["label"].partition(" ")
        w("| %s | %s | %d | %.1f | %.1f | %s |" % (srv, moment, r["processes"], r["rss_sum_kb"] / 1024.0,
                                                r["pss_sum_kb"] / 1024.0, extra))
    w("")
    fills = [r for r in ex if r.get("kind") == "fill"]
    if fills:
        w("Fill: " + "; ".join("%s registered %s of %s distinct users at %s/s (%s failed, %s retransmissions)" % (
            r["server"], fmt_num(r.get("ok")), fmt_num(r.get("count")), fmt_num(r.get("rate")),
            fmt_num(r.get("failed")), fmt_num(r.get("retrans"))) for r in fills) + ".")
        w("")
    stops = [r for r in ex if r.get("kind") == "stop"]
    if stops:
        w("Server exits: " + "; ".join("%s (%s) %s" % (r["server"], r.get("mode"), r.get("how")) for r in stops) + ".")
        w("")
    probs = [r for r in ex if r.get("kind") == "problem"]
    for s in servers:
        for mode in ("noauth", "auth", "call"):
            fx = fig[s].get("fixed_" + mode)
            st = (fx or {}).get("step") or {}
            if fx and not st.get("clean"):
                probs.append({"server": s, "mode": mode, "text": "the fixed-rate step at %s/s was not clean: %s ok, %s failed, "
                              "%s retransmissions, other processes %s %% CPU" % (fmt_num(fx.get("rate")), fmt_num(st.get("ok")),
                                                                                fmt_num(st.get("failed")), fmt_num(st.get("retrans_uac")),
                                                                                fmt_num(st.get("other_cpu_pct")))})
        a, b = fig[s].get("mem_filled"), fig[s].get("mem_after_noauth")
        if a and b and b["pss_sum_kb"] / 1024.0 > a * 1.25 + 5:
            later = [r for r in sb if r.get("label", "").startswith(s + " ") and "s after noauth load" in r.get("label", "")]
            probs.append({"server": s, "mode": "noauth", "text": "memory grew from %.1f MiB (after the fill) to %.1f MiB after the "
                          "REGISTER ramp%s" % (a, b["pss_sum_kb"] / 1024.0, "; %s: %.1f MiB" % (
                              later[-1]["label"].split(" ", 1)[1], later[-1]["pss_sum_kb"] / 1024.0) if later else "")})
    others = [r.get("other_cpu_pct") for r in sb if "other_cpu_pct" in r]
    if others and median(others) > float(env.get("max_other") or 25):
        probs.append({"server": "machine", "mode": "-", "text": "other processes used %s %% CPU (median over the steps): "
                      "the figures are noisier and lower than on an idle machine" % fmt_num(median(others))})
    if probs:
        w("**Problems seen**:")
        w("")
        for r in probs:
            w("* %s (%s): %s" % (r.get("server"), r.get("mode"), r.get("text")))
        w("")
    w("## Machine")
    w("")
    for k in ("cpu_model", "cpus", "kernel", "mem", "os", "go", "sipp", "kamailio_version", "parley_version",
              "parley_commit", "build", "load_before"):
        if env.get(k):
            w("* %s: %s" % (k.replace("_", " "), env[k]))
    w("* other processes' CPU during the measured steps (sipbench's `other`, %% of one CPU): median %s, max %s" % (
        fmt_num(median([r.get("other_cpu_pct") for r in sb if "other_cpu_pct" in r and r.get("label") != "fill"])),
        fmt_num(max([r.get("other_cpu_pct") or 0 for r in sb if "other_cpu_pct" in r] or [0]))))
    w("")
    w("Raw SIPp statistics (`*_stat.csv`, `*.out`, error logs), sipbench's JSON lines and the server logs are in `raw/`.")
    w("")
    with open(o.out, "w") as f:
        f.write("\n".join(L))

    # chart input
    panels = []
    if calls_ran and (P.get("max_call") or K.get("max_call")):
        panels.append({"title": "CALLS/S THROUGH THE PROXY", "groups": [
            {"label": "UDP INVITE..BYE", "parley": P.get("max_call") or 0, "kamailio": K.get("max_call") or 0}]})
        panels.append({"title": "SERVER CPU MS PER CALL", "decimals": 3, "groups": [
            {"label": "AT %s/S" % fmt_num(fr_call), "parley": fixed_val(P, "call", "cpu_s_per_1000") or 0,
             "kamailio": fixed_val(K, "call", "cpu_s_per_1000") or 0},
            {"label": "AT MAX CLEAN", "parley": (P.get("usop_max_call") or 0) / 1000.0,
             "kamailio": (K.get("usop_max_call") or 0) / 1000.0}]})
    panels.append({"title": "REGISTER/S, HIGHEST CLEAN RATE", "groups": [
        {"label": "NO AUTH", "parley": P.get("max_noauth") or 0, "kamailio": K.get("max_noauth") or 0},
        {"label": "DIGEST", "parley": P.get("max_auth") or 0, "kamailio": K.get("max_auth") or 0}]})
    panels.append({"title": "CPU S PER 1000 REGISTRATIONS", "decimals": 3, "groups": [
        {"label": "NO AUTH %s/S" % fmt_num(fr_na), "parley": fixed_val(P, "noauth", "cpu_s_per_1000") or 0,
         "kamailio": fixed_val(K, "noauth", "cpu_s_per_1000") or 0},
        {"label": "DIGEST %s/S" % fmt_num(fr_au), "parley": fixed_val(P, "auth", "cpu_s_per_1000") or 0,
         "kamailio": fixed_val(K, "auth", "cpu_s_per_1000") or 0}]})
    panels.append({"title": "MEMORY PSS MIB", "decimals": 1, "groups": [
        {"label": "IDLE", "parley": P.get("mem_idle") or 0, "kamailio": K.get("mem_idle") or 0},
        {"label": "%sK BINDINGS" % fmt_num((fill_n or 0) / 1000.0), "parley": P.get("mem_filled") or 0,
         "kamailio": K.get("mem_filled") or 0}]})
    with open(o.chart_json, "w") as f:
        json.dump({"title": "PARLEY VS KAMAILIO 5.6 - LOOPBACK UDP, SERVER ON 1 CPU", "series": ["PARLEY", "KAMAILIO"],
                   "panels": panels}, f, indent=1)


def targets(w, P, K, rows):
    """The project's goals (issue #8), each judged from the figures above."""
    def r(a, b):
        return (a / float(b)) if (a is not None and b) else None

    def fixed(f, mode):
        fx = f.get("fixed_" + mode) or {}
        return fx.get("cpu_s_per_1000")
    goals = [
        ("CPU per call at most 0.8× Kamailio's (fixed rate)", r(fixed(P, "call"), fixed(K, "call")), "<=", 0.8),
        ("CPU per registration with digest at most 0.8× Kamailio's (fixed rate)", r(fixed(P, "auth"), fixed(K, "auth")), "<=", 0.8),
        ("highest clean calls/s at least 1.2× Kamailio's", r(P.get("max_call"), K.get("max_call")), ">=", 1.2),
        ("highest clean registrations/s with digest at least 1.2× Kamailio's", r(P.get("max_auth"), K.get("max_auth")), ">=", 1.2),
        ("registrations/s with digest at least Kamailio's (issue #3)", r(P.get("max_auth"), K.get("max_auth")), ">=", 1.0),
        ("CPU per call at most Kamailio's (issue #4)", r(fixed(P, "call"), fixed(K, "call")), "<=", 1.0),
        ("highest clean calls/s at least Kamailio's (issue #4)", r(P.get("max_call"), K.get("max_call")), ">=", 1.0),
    ]
    w("## Targets")
    w("")
    w("| goal | Parley/Kamailio | met |")
    w("| --- | ---: | --- |")
    for name, v, op, lim in goals:
        met = "–" if v is None else ("yes" if (v <= lim if op == "<=" else v >= lim) else "**no**")
        w("| %s | %s | %s |" % (name, "–" if v is None else "%.2f" % v, met))
    nocdr = (P.get("fixed_call_nocdr") or {}).get("cpu_s_per_1000")
    if nocdr and fixed(P, "call"):
        v = fixed(P, "call") / nocdr
        w("| CDR path at most 5 %% of the proxy's cost (issue #5): Parley's CPU per call with CDRs in SQLite ÷ "
          "without (%.3f ÷ %.3f s per 1,000 calls) | %.2f | %s |" % (fixed(P, "call"), nocdr, v, "yes" if v <= 1.05 else "**no**"))
    pb = P.get("per_binding_restarted") or P.get("per_binding")
    w("| memory per binding at most 1 KB (Parley, %s) | %s B | %s |" % (
        "after a restart on its database" if P.get("per_binding_restarted") else "after the fill",
        fmt_num(pb), "–" if pb is None else ("yes" if pb <= 1024 else "**no**")))
    w("")
    w("A ratio at the highest clean rate is only as fine as the rate steps; where SIPp (on its one core) is the "
      "bottleneck for both servers, the CPU figures are the ones that tell them apart.")
    w("")


def median(vals):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    return vals[len(vals) // 2]


# --------------------------------------------------------------------------
# quiet, records

def all_ticks():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2:].split()
        if d == "2" or rest[1] == "2":
            continue
        out[int(d)] = sum(int(x) for x in rest[11:15])
    return out


def cmd_quiet(o):
    """Wait (bounded) until processes other than the server use less than --limit % CPU;
    prints the last measured % (as sipbench.py does before each step)."""
    import time
    excl = set(proc_tree(o.server_pid)) if o.server_pid else set()
    excl.add(os.getpid())
    t_end = time.time() + o.max_wait
    busy = 0.0
    while True:
        a0 = all_ticks()
        time.sleep(1.0)
        a1 = all_ticks()
        busy = 100.0 * sum(max(0, t - a0.get(p, 0)) for p, t in a1.items() if p not in excl) / CLK_TCK
        if busy < o.limit or time.time() >= t_end:
            break
    print("%.0f" % busy)


def last_json(path):
    rows = load_jsonl(path)
    return rows[-1] if rows else None


def cmd_fixedrec(o):
    step = last_json(o.step_json) or {}
    pc = None
    if o.pcap_json and os.path.exists(o.pcap_json):
        with open(o.pcap_json) as f:
            try:
                pc = json.load(f)
            except ValueError:
                pc = None
    cpu = o.cpu1 - o.cpu0
    ok = step.get("ok") or 0
    rec = {"kind": "fixed", "server": o.server, "mode": o.mode, "rate": o.rate, "cpu_s": round(cpu, 2),
           "window_s": o.window, "cpu_s_per_1000": round(1000.0 * cpu / ok, 4) if ok else None,
           "step": step, "pcap": pc}
    print(json.dumps(rec))


def cmd_fillrec(o):
    step = last_json(o.step_json) or {}
    rec = {"kind": "fill", "server": o.server, "count": o.count, "rate": o.rate, "ok": step.get("ok"),
           "failed": step.get("failed"), "retrans": step.get("retrans_uac"),
           "bindings": step.get("ok"), "server_count": o.server_count or None}
    print(json.dumps(rec))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("cpu")
    p.add_argument("pid", type=int)
    p.set_defaults(fn=cmd_cpu)
    p = sub.add_parser("kamdb")
    p.add_argument("file")
    p.add_argument("--users", required=True)
    p.add_argument("--realm", required=True)
    p.set_defaults(fn=cmd_kamdb)
    p = sub.add_parser("pcaplat")
    p.add_argument("file")
    p.add_argument("--port", type=int, required=True)
    p.set_defaults(fn=cmd_pcaplat)
    p = sub.add_parser("report")
    p.add_argument("--raw", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--chart-json", required=True)
    p.add_argument("--chart-png", default="chart.png", dest="chart_png")
    p.set_defaults(fn=cmd_report)
    p = sub.add_parser("quiet")
    p.add_argument("--server-pid", type=int, default=0)
    p.add_argument("--max-wait", type=float, default=20.0)
    p.add_argument("--limit", type=float, default=25.0)
    p.set_defaults(fn=cmd_quiet)
    p = sub.add_parser("fixedrec")
    for a in ("--server", "--mode", "--step-json", "--pcap-json"):
        p.add_argument(a, default="")
    for a in ("--rate", "--cpu0", "--cpu1", "--window"):
        p.add_argument(a, type=float, default=0.0)
    p.set_defaults(fn=cmd_fixedrec)
    p = sub.add_parser("fillrec")
    for a in ("--server", "--step-json"):
        p.add_argument(a, default="")
    for a in ("--count", "--rate", "--server-count"):
        p.add_argument(a, type=int, default=0)
    p.set_defaults(fn=cmd_fillrec)
    o = ap.parse_args()
    o.fn(o)


if __name__ == "__main__":
    main()
