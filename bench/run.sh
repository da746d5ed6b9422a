#!/usr/bin/env bash
# Parley and Kamailio side by side, on loopback, with the same SIPp scenarios.
#
#   bench/run.sh [--only reg|calls|all] [--quick] [options]
#
# Needs ../shared/bench beside the repository (the checked SIPp scenarios,
# sipbench.py and kamailio-bench.cfg; override with SHARED=DIR) and Go.
# Installs sip-tester (SIPp), kamailio and tcpdump with apt-get if missing.
#
# For each mode, Kamailio 5.6 (shared config) and then Parley (built here with
# CGO_ENABLED=0, fresh SQLite database, users imported from users.csv) are
# started one after the other on TARGET_IP:PORT, the server pinned to CPU 1 and
# SIPp (with the driver and tcpdump) to CPU 0, and measured:
#   no-auth server: memory idle, fill N distinct users (default 100,000),
#                   memory with N bindings, a fixed-rate REGISTER step (CPU per
#                   1,000 registrations, latency from a loopback capture), the
#                   REGISTER ramp, [the call ramp], memory after the load
#   digest server:  fixed-rate digest step, digest REGISTER ramp
# Results: bench/results/report.md, bench/results/chart.png, raw data in
# bench/results/raw/. Each server is stopped by its PID; every SIPp run is
# bounded (sipbench.py); nothing leaves 127.0.0.0/8.
#
# Options (environment variables of the same name in capitals work too):
#   --only reg|calls|all   parts to run (default all; the proxy is young: --only reg)
#   --servers "parley kamailio"   which servers (default both)
#   --quick                5 s steps, 20,000-user fill (about 6 minutes)
#   --port N               SIP port of the server under test (default 5060)
#   --uac-port N / --uas-port N   SIPp's ports (default 5091 / 5090)
#   --duration S           seconds per ramp step (default 8)
#   --fill N               distinct users registered for the memory figure (default 100000)
#   --fixed-noauth R / --fixed-auth R / --fixed-call R
#                          rates of the fixed-rate steps (default 4000 / 2000 registrations/s, 500 calls/s)
#   --rates-noauth L / --rates-auth L / --rates-call L   comma lists for the ramps
#   --max-other PCT        repeat an unclean step (RETRIES=1 times) if other processes used more CPU (default 25)
#   --quiet-wait S         before each step, wait up to S s for other processes to calm down (default 8)
#   --out DIR              where report.md, chart.png and raw/ go (default bench/results)
#   --nice N               run the server and SIPp at this nice value (e.g. -10 on a machine
#                          others use; default 0: as the brief of the shared baseline)
#   --kamailio-config equivalent|shared
#                          equivalent (default): bench/kamailio/parley-equivalent.cfg, Kamailio doing
#                          Parley's work (auth_db and usrloc write-back on SQLite, qop and nonce-count,
#                          dialog tracking, CDRs to SQLite); shared: the reference configuration in
#                          ../shared/bench (usrloc in memory, fixed password, no CDRs)
#   --no-cdr-compare       skip the extra fixed-rate call step of Parley without CDRs in the database
#                          (by default it runs after the others: the CDR path's share of CPU per call)
#   --no-install           do not call apt-get
set -u -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
SHARED="${SHARED:-$REPO/../shared/bench}"
ARGS="$*"

ONLY="${ONLY:-all}"
SERVERS="${SERVERS:-kamailio parley}"
TARGET_IP="${TARGET_IP:-127.0.0.1}"
PORT="${PORT:-5060}"
UAS_PORT="${UAS_PORT:-5090}"
UAC_PORT="${UAC_PORT:-5091}"
SERVER_CPU="${SERVER_CPU:-1}"
CLIENT_CPU="${CLIENT_CPU:-0}"
DURATION="${DURATION:-8}"
QUIET_WAIT="${QUIET_WAIT:-8}"
RETRIES="${RETRIES:-1}"
HOLD_WAIT="${HOLD_WAIT:-0}"
NICE="${NICE:-0}"
FIXED_DURATION="${FIXED_DURATION:-10}"
FILL="${FILL:-100000}"
FILL_RATE="${FILL_RATE:-4000}"
FIXED_NOAUTH="${FIXED_NOAUTH:-4000}"
FIXED_AUTH="${FIXED_AUTH:-2000}"
FIXED_CALL="${FIXED_CALL:-500}"
RATES_NOAUTH="${RATES_NOAUTH:-4000,8000,12000,16000,20000,24000,28000}"
RATES_AUTH="${RATES_AUTH:-2000,4000,6000,8000,10000,12000}"
RATES_CALL="${RATES_CALL:-500,1000,1250,1500,1750,2000,2250,2500,3000}"
MAX_OTHER="${MAX_OTHER:-25}"
SHM_MB="${SHM_MB:-1024}"
PKG_MB="${PKG_MB:-16}"
OUT="${OUT:-$HERE/results}"
INSTALL="${INSTALL:-1}"
KAMAILIO_CONFIG="${KAMAILIO_CONFIG:-equivalent}"
CDR_COMPARE="${CDR_COMPARE:-1}"

usage() { sed -n '2,/^set -u/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY="$2"; shift ;;
    --servers) SERVERS="$2"; shift ;;
    --quick) DURATION=5; FIXED_DURATION=5; FILL=20000 ;;
    --port) PORT="$2"; shift ;;
    --uas-port) UAS_PORT="$2"; shift ;;
    --uac-port) UAC_PORT="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --fill) FILL="$2"; shift ;;
    --fixed-noauth) FIXED_NOAUTH="$2"; shift ;;
    --fixed-auth) FIXED_AUTH="$2"; shift ;;
    --fixed-call) FIXED_CALL="$2"; shift ;;
    --rates-noauth) RATES_NOAUTH="$2"; shift ;;
    --rates-auth) RATES_AUTH="$2"; shift ;;
    --rates-call) RATES_CALL="$2"; shift ;;
    --max-other) MAX_OTHER="$2"; shift ;;
    --quiet-wait) QUIET_WAIT="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --nice) NICE="$2"; shift ;;
    --kamailio-config) KAMAILIO_CONFIG="$2"; shift ;;
    --no-cdr-compare) CDR_COMPARE=0 ;;
    --no-install) INSTALL=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$ONLY" in reg|calls|all) ;; *) echo "--only reg|calls|all" >&2; exit 2 ;; esac
case "$TARGET_IP" in 127.*|::1) ;; *) echo "TARGET_IP must be a loopback address" >&2; exit 2 ;; esac
want_reg() { [ "$ONLY" != calls ]; }
want_calls() { [ "$ONLY" != reg ]; }

RAW="$OUT/raw"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/parley-bench.XXXXXX")"
JSON="$RAW/results.jsonl"   # sipbench.py rows
EXTRA="$RAW/extra.jsonl"    # fixed-rate steps, fills, server exits, problems
case "$KAMAILIO_CONFIG" in
  equivalent) CFG="$HERE/kamailio/parley-equivalent.cfg" ;;
  shared) CFG="$SHARED/kamailio/kamailio-bench.cfg" ;;
  *) echo "--kamailio-config equivalent|shared" >&2; exit 2 ;;
esac
CTL_SOCK="/tmp/kamailio-bench-ctl.sock"   # fixed in kamailio-bench.cfg
USERS="$SHARED/sipp/users.csv"
LIB=(python3 "$HERE/benchlib.py")
PIN_C=(nice -n "$NICE" taskset -c "$CLIENT_CPU")
PIN_S=(nice -n "$NICE" taskset -c "$SERVER_CPU")
SB=("${PIN_C[@]}" python3 "$SHARED/sipbench.py")
SPID=""; SNAME=""; SMODE=""; TPID=""; LOGSUFFIX=""

log() { echo "== $(date +%H:%M:%S) $*" | tee -a "$RAW/run.log" >&2; }
die() { log "ERROR: $*"; exit 1; }
problem() {  # server mode text
  log "PROBLEM $1 $2: $3"
  python3 -c 'import json,sys; print(json.dumps({"kind":"problem","server":sys.argv[1],"mode":sys.argv[2],"text":sys.argv[3]}))' \
    "$1" "$2" "$3" >> "$EXTRA"
}

cleanup() {
  if [ -n "$TPID" ] && kill -0 "$TPID" 2>/dev/null; then kill -INT "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; fi
  TPID=""
  declare -F stop_server >/dev/null && stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- setup
[ -f "$SHARED/sipbench.py" ] && [ -f "$CFG" ] || { echo "$SHARED/sipbench.py not found: put shared/bench beside the repository or set SHARED=" >&2; exit 2; }
rm -rf "$RAW"
mkdir -p "$RAW"
: > "$JSON"; : > "$EXTRA"

install_deps() {
  local need=()
  command -v sipp >/dev/null || need+=(sip-tester)
  if [[ " $SERVERS " == *" kamailio "* ]]; then
    command -v kamailio >/dev/null && command -v kamcmd >/dev/null || need+=(kamailio)
    if [ "$KAMAILIO_CONFIG" = equivalent ]; then
      ls /usr/lib/x86_64-linux-gnu/kamailio/modules/db_sqlite.so >/dev/null 2>&1 || need+=(kamailio-sqlite-modules)
    fi
  fi
  command -v tcpdump >/dev/null || need+=(tcpdump)
  command -v taskset >/dev/null || need+=(util-linux)
  command -v python3 >/dev/null || need+=(python3)
  command -v ss >/dev/null || need+=(iproute2)
  [ ${#need[@]} -eq 0 ] && return 0
  [ "$INSTALL" = 1 ] || die "missing: ${need[*]} (run without --no-install, or apt-get install them)"
  log "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null || die "apt-get install ${need[*]} failed"
}
install_deps
command -v go >/dev/null || die "Go is needed to build Parley"
[ "$(nproc)" -ge 2 ] || log "only $(nproc) CPU: server and SIPp will share it"

port_busy() { ss -Hlun "( sport = :$1 )" | grep -q .; }
for p in "$PORT" "$UAS_PORT" "$UAC_PORT"; do
  port_busy "$p" && die "UDP port $p is in use; choose --port (or UAS_PORT/UAC_PORT)"
done

log "building Parley (CGO_ENABLED=0)"
BIN="$WORK/parley"
(cd "$REPO" && CGO_ENABLED=0 go build -o "$BIN" ./cmd/parley) > "$RAW/build.log" 2>&1 || { cat "$RAW/build.log" >&2; die "go build failed"; }
CHART="$WORK/chart"
(cd "$REPO" && CGO_ENABLED=0 go build -o "$CHART" ./bench/chart) >> "$RAW/build.log" 2>&1 || { cat "$RAW/build.log" >&2; die "building bench/chart failed"; }

if want_reg; then
  log "generating $FILL users for the memory fill"
  python3 "$SHARED/sipbench.py" gen-users --out "$WORK/users-fill.csv" --count "$FILL"
fi

commit="$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(cd "$REPO" && git status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
python3 - "$RAW/env.json" <<EOF
import json, os, platform, subprocess, sys, datetime
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception: return ""
env = {
  "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
  "host": platform.node(), "args": """$ARGS""".strip(), "target": "$TARGET_IP:$PORT",
  "server_cpu": "$SERVER_CPU", "client_cpu": "$CLIENT_CPU",
  "cpu_model": sh("lscpu | sed -n 's/^Model name: *//p' | head -1"), "cpus": os.cpu_count(),
  "kernel": platform.release(), "mem": sh("free -g | awk '/Mem:/{print \$2\" GiB\"}'"),
  "os": sh(". /etc/os-release && echo \$PRETTY_NAME"), "go": sh("go version"),
  "sipp": sh("sipp -v 2>&1 | grep -o 'SIPp v[^ ,]*' | head -1"),
  "kamailio_version": sh("kamailio -v 2>/dev/null | head -1 | sed 's/^version: //'"),
  "parley_version": sh("$BIN version"), "parley_commit": "$commit" + (" plus %s modified tracked files in the working tree" % "$dirty" if "$dirty" != "0" else ""),
  "build": "CGO_ENABLED=0 go build ./cmd/parley",
  "load_before": open("/proc/loadavg").read().strip(),
  "duration": $DURATION, "fixed_duration": $FIXED_DURATION, "fill": $FILL, "fill_rate": $FILL_RATE,
  "fixed_rate_noauth": $FIXED_NOAUTH, "fixed_rate_auth": $FIXED_AUTH, "fixed_rate_call": $FIXED_CALL, "kamailio_config": "$KAMAILIO_CONFIG", "max_other": $MAX_OTHER,
  "rates_noauth": "$RATES_NOAUTH", "quiet_wait": $QUIET_WAIT, "nice": $NICE, "retries": $RETRIES, "hold_wait": $HOLD_WAIT, "rates_auth": "$RATES_AUTH", "rates_call": "$RATES_CALL",
  "users_imported": max(0, sum(1 for _ in open("$USERS")) - 1), "only": "$ONLY",
}
json.dump(env, open(sys.argv[1], "w"), indent=1)
EOF
log "env: $(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["cpu_model"], e["cpus"], "CPUs;", e["kamailio_version"], ";", e["sipp"], "; parley", e["parley_version"], e["parley_commit"])' "$RAW/env.json")"

# ---------------------------------------------------------------- servers
start_server() {  # name mode [keep-db|calls]
  SNAME="$1"; SMODE="$2"
  case "${3:-}" in keep-db) LOGSUFFIX="-restart" ;; calls) LOGSUFFIX="-calls" ;; *) LOGSUFFIX="" ;; esac
  local logf="$RAW/$1-$2$LOGSUFFIX.log"
  port_busy "$PORT" && die "UDP port $PORT is in use"
  if [ "$1" = kamailio ]; then
    if kamcmd -s "unix:$CTL_SOCK" core.uptime >/dev/null 2>&1; then
      die "another kamailio answers on $CTL_SOCK (kamailio_baseline.sh running?)"
    fi
    local defs=()
    [ "$2" = auth ] && defs=(-A WITH_AUTH)
    if [ "$KAMAILIO_CONFIG" = equivalent ]; then
      # a fresh SQLite database per mode, users as HA1 (what `parley user import` does for Parley)
      local kdb="$WORK/kamailio-$2.db"
      "${LIB[@]}" kamdb "$kdb" --users "$USERS" --realm "$TARGET_IP" > /dev/null || die "creating $kdb failed"
      defs+=(-A "DBURL=\"sqlite://$kdb\"")
    fi
    "${PIN_S[@]}" kamailio -DD -E -f "$CFG" -l "udp:$TARGET_IP:$PORT" -m "$SHM_MB" -M "$PKG_MB" "${defs[@]}" \
      > "$logf" 2>&1 &
    SPID=$!
    local i
    for i in $(seq 1 50); do
      kamcmd -s "unix:$CTL_SOCK" core.uptime >/dev/null 2>&1 && break
      kill -0 "$SPID" 2>/dev/null || break
      sleep 0.2
    done
  else
    local db="$WORK/parley-$2.db"
    if [ "${3:-}" != keep-db ]; then
      rm -f "$db" "$db"-*
      "$BIN" user import "$USERS" --domain "$TARGET_IP" --db "sqlite:$db" >> "$RAW/parley-import.log" 2>&1 \
        || die "parley user import failed, see $RAW/parley-import.log"
    fi
    local auth=()
    [ "$2" = noauth ] && auth=(--auth=false)
    if [ "$1" = parley-nocdr ]; then
      # the same server without call records in the database: the CDR path's cost
      printf 'calls:\n  cdr_database: false\n' > "$WORK/nocdr.yaml"
      auth+=(--config "$WORK/nocdr.yaml")
    fi
    # gctrace: one line per GC cycle with the live heap, read by mem()
    GODEBUG=gctrace=1 "${PIN_S[@]}" "$BIN" serve --listen "udp:$TARGET_IP:$PORT" --domain "$TARGET_IP" --db "sqlite:$db" \
      --http off --log-level warn "${auth[@]}" > "$logf" 2>&1 &
    SPID=$!
    local i
    for i in $(seq 1 50); do
      port_busy "$PORT" && break
      kill -0 "$SPID" 2>/dev/null || break
      sleep 0.2
    done
  fi
  if ! kill -0 "$SPID" 2>/dev/null || ! port_busy "$PORT"; then
    tail -20 "$logf" >&2
    die "$1 ($2) did not start, see $logf"
  fi
  log "$1 ($2) pid $SPID, $(ps -o pid= --ppid "$SPID" | wc -l) children, CPUs $(taskset -cp "$SPID" | sed 's/.*: //')"
  sleep 2
}

server_alive() {
  if ! kill -0 "$SPID" 2>/dev/null; then
    problem "$SNAME" "$SMODE" "server process $SPID exited during the run (see raw/$SNAME-$SMODE.log)"
    return 1
  fi
}

stop_server() {
  [ -n "$SPID" ] || return 0
  local how t0 rc
  t0=$(date +%s.%N)
  if kill -0 "$SPID" 2>/dev/null; then
    log "stopping $SNAME pid $SPID"
    kill -TERM "$SPID" 2>/dev/null
    local i
    for i in $(seq 1 200); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$SPID" 2>/dev/null; then
      kill -KILL "$SPID" 2>/dev/null
      how="did not exit within 40 s of SIGTERM, killed"
    fi
    wait "$SPID" 2>/dev/null; rc=$?
    how="${how:-exit $rc $(python3 -c "import sys,time; print('%.1f s after SIGTERM' % (time.time()-float(sys.argv[1])))" "$t0")}"
  else
    wait "$SPID" 2>/dev/null; rc=$?
    how="had exited by itself (status $rc)"
  fi
  python3 -c 'import json,sys; print(json.dumps({"kind":"stop","server":sys.argv[1],"mode":sys.argv[2],"how":sys.argv[3]}))' \
    "$SNAME" "$SMODE" "$how" >> "$EXTRA"
  local logf="$RAW/$SNAME-$SMODE$LOGSUFFIX.log"
  if grep -qE '^panic:|fatal error:|SIGSEGV|core dumped' "$logf" 2>/dev/null; then
    problem "$SNAME" "$SMODE" "crash in the log: $(grep -m1 -E '^panic:|fatal error:|SIGSEGV|core dumped' "$logf")"
  fi
  if grep -q 'CRITICAL' "$logf" 2>/dev/null; then  # Kamailio's highest log level; not a crash
    problem "$SNAME" "$SMODE" "$(grep -c 'CRITICAL' "$logf") CRITICAL log lines, first: $(grep -m1 'CRITICAL' "$logf" | cut -c1-300)"
  fi
  if [ "$SNAME" = parley ] && grep -q 'level=ERROR' "$logf" 2>/dev/null; then
    problem parley "$SMODE" "$(grep -c 'level=ERROR' "$logf") ERROR log lines, first: $(grep -m1 'level=ERROR' "$logf" | cut -c1-300)"
  fi
  SPID=""
}

mem() {  # label-suffix
  local extra=()
  if [ "$SNAME" = kamailio ]; then
    extra+=(--extra "shm_used_mib=$(kamcmd -s "unix:$CTL_SOCK" core.shmmem 2>/dev/null | awk '/real_used/{printf "%.1f", $2/1048576}')")
    extra+=(--extra "contacts=$(kamcmd -s "unix:$CTL_SOCK" stats.get_statistics usrloc: 2>/dev/null | awk -F' = ' '/location_contacts/{print $2}')")
  else
    local db="$WORK/parley-$SMODE.db"
    extra+=(--extra "db_mib=$(du -cm "$db"* 2>/dev/null | awk 'END{print $1}')")
    extra+=(--extra "threads=$(awk '/^Threads:/{print $2}' "/proc/$SPID/status")")
    # live heap after the last GC cycle (GODEBUG=gctrace=1 line "... A->B->C MB, D MB goal ...")
    local gcl
    gcl=$(grep -h '^gc [0-9]' "$RAW/$SNAME-$SMODE$LOGSUFFIX.log" 2>/dev/null | tail -1)
    if [ -n "$gcl" ]; then
      extra+=(--extra "go_live_heap_mb_last_gc=$(echo "$gcl" | sed -E 's/.*->([0-9]+) MB, ([0-9]+) MB goal.*/\1/')")
      extra+=(--extra "go_heap_goal_mb=$(echo "$gcl" | sed -E 's/.*->([0-9]+) MB, ([0-9]+) MB goal.*/\2/')")
    fi
    if command -v sqlite3 >/dev/null; then
      extra+=(--extra "rows_location=$(sqlite3 "file:$db?mode=ro" 'select count(*) from location' 2>/dev/null)")
    fi
  fi
  "${SB[@]}" mem --server-pid "$SPID" --label "$SNAME $1" --json "$JSON" "${extra[@]}" | tee -a "$RAW/run.log"
}

common=(--target "$TARGET_IP:$PORT" --local-ip "$TARGET_IP" --uas-port "$UAS_PORT" --uac-port "$UAC_PORT")

fill() {
  local wd="$RAW/$SNAME-fill"
  log "$SNAME: fill $FILL distinct users at $FILL_RATE/s"
  "${SB[@]}" fill "${common[@]}" --server-pid "$SPID" --count "$FILL" --rate "$FILL_RATE" --users "$WORK/users-fill.csv" \
    --scenario reg_noauth --workdir "$wd" --json "$wd.jsonl" --quiet-wait "$QUIET_WAIT" 2>&1 | tee -a "$RAW/run.log"
  sleep 5   # Parley: let the write-back writer store the last batches; both: settle
  local cnt=0
  if [ "$SNAME" = kamailio ]; then
    cnt=$(kamcmd -s "unix:$CTL_SOCK" stats.get_statistics usrloc: 2>/dev/null | awk -F' = ' '/location_contacts/{print $2}')
  elif command -v sqlite3 >/dev/null; then
    cnt=$(sqlite3 "file:$WORK/parley-$SMODE.db?mode=ro" 'select count(*) from location' 2>/dev/null)
  fi
  "${LIB[@]}" fillrec --server "$SNAME" --step-json "$wd.jsonl" --count "$FILL" --rate "$FILL_RATE" \
    --server-count "${cnt:-0}" >> "$EXTRA"
  local ok
  ok=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1]).get("ok",0))' "$wd.jsonl" 2>/dev/null || echo 0)
  [ "${ok:-0}" = "$FILL" ] || problem "$SNAME" "$SMODE" "fill registered ${ok:-0} of $FILL users (server counts ${cnt:-?})"
}

fixed_step() {  # scenario rate [record-mode]
  local scen="$1" rate="$2" rmode="${3:-$SMODE}"
  local wd="$RAW/$SNAME-$rmode-fixed"
  local pcap="$WORK/$SNAME-$rmode.pcap" mpid=""
  mkdir -p "$wd"
  log "$SNAME ($SMODE): fixed-rate step $scen at $rate/s for ${FIXED_DURATION}s, captured"
  "${PIN_C[@]}" tcpdump -i lo -n -s 600 -B 16384 -w "$pcap" "udp and port $PORT" 2> "$wd/tcpdump.log" &
  TPID=$!
  sleep 1
  "${LIB[@]}" quiet --server-pid "$SPID" --max-wait "$QUIET_WAIT" --limit "$MAX_OTHER" > /dev/null
  local c0 c1 t0 t1
  c0=$("${LIB[@]}" cpu "$SPID"); t0=$(date +%s.%N)
  if [ "$scen" = call ]; then
    # memory while the calls run: halfway through the step (the callee's
    # registration and SIPp's start take about 2 s before the first call)
    ( sleep $(( FIXED_DURATION / 2 + 2 )); mem "during calls at ${rate}/s" > /dev/null ) &
    mpid=$!
  fi
  "${SB[@]}" step "${common[@]}" --scenario "$scen" --rate "$rate" --calls $((rate * FIXED_DURATION)) \
    --server-pid "$SPID" --quiet-wait 0 --label "$SNAME-$rmode-fixed" --workdir "$wd" --json "$wd.jsonl" 2>&1 | tee -a "$RAW/run.log"
  [ -n "$mpid" ] && wait "$mpid"
  sleep 3
  c1=$("${LIB[@]}" cpu "$SPID"); t1=$(date +%s.%N)
  kill -INT "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; TPID=""
  "${LIB[@]}" pcaplat "$pcap" --port "$PORT" > "$wd/latency.json" || true
  rm -f "$pcap"
  "${LIB[@]}" fixedrec --server "$SNAME" --mode "$rmode" --rate "$rate" --cpu0 "$c0" --cpu1 "$c1" \
    --window "$(python3 -c "print(round($t1-$t0,1))")" --step-json "$wd.jsonl" --pcap-json "$wd/latency.json" >> "$EXTRA"
  log "$SNAME ($rmode): CPU $(python3 -c "print(round($c1-$c0,2))") s; latency $(cat "$wd/latency.json")"
}

ramp() {  # scenario rates
  log "$SNAME ($SMODE): ramp $1 $2"
  "${SB[@]}" ramp "${common[@]}" --duration "$DURATION" --json "$JSON" --label "$SNAME-$SMODE" --scenario "$1" \
    --rates "$2" --server-pid "$SPID" --max-other "$MAX_OTHER" --retries "$RETRIES" --quiet-wait "$QUIET_WAIT" --workdir "$RAW/$SNAME-$SMODE-$1" 2>&1 | tee -a "$RAW/run.log"
}

# ---------------------------------------------------------------- runs
t_start=$(date +%s)
for s in $SERVERS; do
  if want_calls; then
    # Calls on a server of their own, started fresh: neither the registration
    # runs' lingering transactions (Parley keeps them for Timer J, 32 s) and
    # garbage nor 100,000 bindings weigh on the call figures, and the run
    # without CDRs below starts from the same state.
    start_server "$s" noauth calls
    server_alive && fixed_step call "$FIXED_CALL" call
    server_alive && ramp call "$RATES_CALL"
    server_alive && mem "after the calls"
    stop_server
  fi
  want_reg || continue
  start_server "$s" noauth
  mem idle
  fill
  mem filled
  server_alive && fixed_step reg_noauth "$FIXED_NOAUTH"
  server_alive && ramp reg_noauth "$RATES_NOAUTH"
  server_alive && mem "after noauth load"
  if [ "$s" = parley ] && [ "$HOLD_WAIT" -gt 0 ]; then
    # Parley keeps each completed REGISTER transaction for Timer J (64*T1 = 32 s on
    # UDP, RFC 3261 17.2.2); Kamailio answers REGISTER statelessly. (Go returns
    # the memory to the system only after a GC cycle and the scavenger, so this
    # figure mostly shows the heap that stays reserved.)
    sleep "$HOLD_WAIT"
    server_alive && mem "${HOLD_WAIT} s after noauth load"
  fi
  if [ "$s" = parley ]; then
    # Parley restarted on the same database loads every binding: its memory
    # with N bindings, without the transactions of the fill (held for Timer J)
    # and the garbage they left.
    stop_server
    start_server parley noauth keep-db
    sleep 3
    mem "restarted with the bindings"
  fi
  stop_server
done
if want_reg; then
  for s in $SERVERS; do
    start_server "$s" auth
    mem "auth idle"
    server_alive && fixed_step reg_auth "$FIXED_AUTH"
    server_alive && ramp reg_auth "$RATES_AUTH"
    server_alive && mem "after auth load"
    stop_server
  done
fi
if want_calls && [ "$CDR_COMPARE" = 1 ] && [[ " $SERVERS " == *" parley "* ]]; then
  start_server parley-nocdr noauth calls
  server_alive && fixed_step call "$FIXED_CALL" call
  stop_server
fi
log "measurements took $(( $(date +%s) - t_start )) s"

# ---------------------------------------------------------------- report
# keep raw/ small: big SIPp error logs are compressed
find "$RAW" -type f \( -name '*_err.log' -o -name '*.out' -o -name '*.log' \) -size +256k -exec gzip -9 {} \;
"${SB[@]}" summary --json "$JSON" > "$RAW/summary.txt" 2>&1
"${LIB[@]}" report --raw "$RAW" --out "$OUT/report.md" --chart-json "$RAW/chart.json" --chart-png chart.png \
  || die "report failed"
"$CHART" -in "$RAW/chart.json" -out "$OUT/chart.png" || die "chart failed"
cat "$RAW/summary.txt"
log "report: $OUT/report.md, chart: $OUT/chart.png, raw: $RAW"
