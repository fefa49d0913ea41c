#!/usr/bin/env bash
# bench/run.sh: the plain-proxy benchmark.
#
# It measures, in one run and interleaved, a request for a 1 KiB static file
#   (a) sent directly to the origin (nginx, 1 worker),
#   (b) through nginx as a plain reverse proxy (1 worker, upstream keepalive),
#   (c) through edgefn as a plain proxy (threads: 1, no functions),
# with the method in BENCH.md: wrk pinned on CPU 0, every server process pinned on
# CPU 1, a 5 s unrecorded warm-up per target, interleaved rounds, medians, server
# CPU µs per request from /proc, and disturbed runs rejected and repeated.
# It prints a table and writes its section of bench/RESULTS.md.
#
# Usage (as root, on Debian 12):      bench/run.sh
# Quick smoke test (no RESULTS.md):   ROUNDS=1 DURATION=3s WARMUP=1s bench/run.sh
#
# Settings (environment):
#   ROUNDS=5          interleaved rounds (BENCH.md: at least 3)
#   DURATION=10s      length of each recorded wrk run
#   WARMUP=5s         unrecorded warm-up per target
#   CONNECTIONS=50    wrk -c
#   TARGETS="..."     ids of the rows to run (default: all rows of TARGET_ROWS)
#   LOAD_CPU=0        the CPU for wrk
#   SERVER_CPU=1      the CPU for every server process
#   MAX_OTHER_PCT=10  a run is disturbed when CPU used by neither wrk nor the
#                     target's servers exceeds this % of one core
#   MAX_SPREAD_PCT=10 a target whose req/s spread over the rounds, (max-min)/median,
#                     exceeds this is noisy (BENCH.md: 1-8% on a quiet machine); then the
#                     results are printed but RESULTS.md is not written (exit status 4)
#   MAX_REPEATS=3     repeats of one disturbed run before giving up
#   MAX_DISCARDS=10   discarded runs in all before giving up (machine too busy)
#   QUIET_WAIT=120    at most this many seconds waiting for a quiet machine at start
#   BACKOFF=30        at most this many seconds waiting for a quiet machine before each run
#   RESULTS_FILE=...  where to write the section (default bench/RESULTS.md, but only
#                     for a run that follows the full method: ROUNDS>=3, DURATION=10s,
#                     WARMUP=5s, CONNECTIONS=50; otherwise nothing is written unless set)
#   KEEP_TMP=1        keep the temporary directory (configs, logs, wrk outputs)
#
# Other suites reuse this script: bench/lua.sh defines suite_config and sources it
# (see "the suite" below).
#
# Adding a benchmark target: write a start_<something> function (see the existing
# ones: it starts its processes with start_server, which pins them and records them
# for the cleanup, and sets T_PORT, T_ROOTS (its root pids; empty for none) and,
# optionally, T_CHECK, a function given the headers and body files of the check
# request, e.g. to see that a hook's header arrived), then add a row to
# TARGET_ROWS, and a row to RATIOS if it has a goal.
#
# Exit status: 0 ok; 1 setup failure; 2 a target answered wrongly or wrk reported
# errors; 3 the machine was too busy (disturbed runs could not be repeated); 4 the
# rounds spread more than MAX_SPREAD_PCT (noise that the CPU check cannot see, such
# as a busy host: check that the origin's CPU µs/req stayed flat).

set -uo pipefail
[[ ${BASH_VERSINFO[0]} -ge 5 ]] || { echo "needs bash 5 (EPOCHREALTIME)" >&2; exit 1; }

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
# Its own build, always an optimized one: a benchmark of whatever build/ happens to hold
# (a Debug build, say) would measure the wrong program.
BUILD_DIR=$REPO_ROOT/build-bench
BUILD_TYPE=Release
SECTION_ID=plain-proxy

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-5s}
CONNECTIONS=${CONNECTIONS:-50}
WRK_THREADS=1
LOAD_CPU=${LOAD_CPU:-0}
SERVER_CPU=${SERVER_CPU:-1}
MAX_OTHER_PCT=${MAX_OTHER_PCT:-10}
MAX_SPREAD_PCT=${MAX_SPREAD_PCT:-10}
MAX_REPEATS=${MAX_REPEATS:-3}
MAX_DISCARDS=${MAX_DISCARDS:-10}
QUIET_WAIT=${QUIET_WAIT:-120}
BACKOFF=${BACKOFF:-30}
KEEP_TMP=${KEEP_TMP:-0}
BODY_SIZE=1024
BODY_PATH=/1k.bin

# ---- the targets ---------------------------------------------------------------
# One row per target: id, start function, label. Rows run in this order in every
# round. Every target's server CPU includes the shared origin.
TARGET_ROWS=(
    "origin        start_origin_direct  direct to origin (nginx, 1 worker, 1 KiB file)"
    "nginx-plain   start_nginx_plain    nginx plain reverse proxy (1 worker, upstream keepalive 64)"
    "edgefn-plain  start_edgefn_plain   edgefn plain proxy (threads: 1, access-log: off)"
)
# Ratios of median req/s to report: numerator, denominator, goal (×), what it is.
RATIOS=(
    "edgefn-plain  nginx-plain  1.0  plain proxy, no functions"
)

# ---- the suite -----------------------------------------------------------------
# Run directly, this is the plain-proxy benchmark. A script that sources this one
# (bench/lua.sh) defines a function suite_config first, which is called here and
# replaces what it needs of the above (SECTION_ID, TARGET_ROWS, RATIOS) and of this:
SCRIPT=bench/run.sh                                           # the command, for RESULTS.md
SECTION_TITLE="Plain proxy: edgefn vs nginx, no functions"    # its heading in RESULTS.md
EXTRA_PACKAGES=()   # Debian packages its targets need besides nginx, wrk, curl
ORIGIN_SERVER_CONF= # lines added to the origin's nginx server block
# the paragraph of RESULTS.md that describes the targets' configs
SECTION_CONFIGS="The origin is nginx with 1 worker and \`access_log off\`. The nginx proxy has 1 worker,
\`upstream { keepalive 64; }\`, \`proxy_http_version 1.1\`, an empty Connection header and
\`access_log off\`. edgefn has \`threads: 1\`, one listener, one url origin, one behavior \`\"*\"\`
and \`access-log: off\`."
SUITE_NOTES= # a function that prints markdown for after the ratios (a suite's own notes), if any
if [[ ${BASH_SOURCE[0]} != "$0" ]] && declare -F suite_config >/dev/null; then
    suite_config
fi

# ---- small helpers ---------------------------------------------------------------
log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; FAILED=1; exit 1; }
to_seconds() { # 10s, 10, 2m -> seconds (anything else -> itself, rejected below)
    case $1 in
    *[0-9]s) echo "${1%s}" ;;
    *[0-9]m) echo $((${1%m} * 60)) ;;
    *) echo "$1" ;;
    esac
}
text_table() { # a markdown table on stdin -> aligned plain text
    awk -F'|' '!/^\|[-:|]+\|$/ { n++; for (i = 2; i < NF; i++) { c = $i; gsub(/^ +| +$/, "", c); gsub(/\*\*/, "", c)
            cell[n, i] = c; if (length(c) > w[i]) w[i] = length(c) }; nf = NF }
        END { for (r = 1; r <= n; r++) { line = ""; for (i = 2; i < nf; i++) line = line sprintf("%-*s  ", w[i], cell[r, i])
            sub(/ +$/, "", line); print line } }'
}
commas() { sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/;ta'; }
median() { # numbers on stdin -> median
    sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
        if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
number_word() { # 3 -> three
    local w=(zero one two three four five six seven eight nine ten)
    if [[ $1 -le 10 ]]; then echo "${w[$1]}"; else echo "$1"; fi
}
fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "nan" || v == "") print "n/a"; else printf "%.*f\n", d, v }'; }

[[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer" >&2; exit 1; }
[[ $CONNECTIONS =~ ^[1-9][0-9]*$ ]] || { echo "CONNECTIONS must be a positive integer" >&2; exit 1; }
DURATION_S=$(to_seconds "$DURATION")
WARMUP_S=$(to_seconds "$WARMUP")
[[ $DURATION_S =~ ^[1-9][0-9]*$ && $WARMUP_S =~ ^[0-9]+$ ]] ||
    { echo "DURATION and WARMUP must be whole seconds, like 10s" >&2; exit 1; }
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc --all)

FULL_METHOD=0
[[ $ROUNDS -ge 3 && $DURATION_S -eq 10 && $WARMUP_S -eq 5 && $CONNECTIONS -eq 50 ]] && FULL_METHOD=1
if [[ -z ${RESULTS_FILE+x} ]]; then
    if [[ $FULL_METHOD == 1 ]]; then RESULTS_FILE=$BENCH_DIR/RESULTS.md; else RESULTS_FILE=; fi
fi

# ---- process bookkeeping and cleanup ---------------------------------------------------
# Every process this script starts is recorded as "pid:starttime" (starttime guards
# against a reused pid), and so are the children a server forks (nginx workers).
STARTED=()
WRK_PID=
FAILED=0
TMP=

proc_starttime() { # pid -> field 22 of /proc/pid/stat, or nothing
    local line rest
    read -r line 2>/dev/null <"/proc/$1/stat" || return 1
    rest=${line##*) }
    set -- $rest
    echo "${20}"
}
still_ours() { # pid:starttime -> true if that very process is alive
    local pid=${1%%:*} st=${1##*:} now
    now=$(proc_starttime "$pid") || return 1
    [[ $now == "$st" ]]
}
record_started() { # pid...
    local p st
    for p in "$@"; do
        st=$(proc_starttime "$p") || continue
        STARTED+=("$p:$st")
    done
}
cleanup() {
    local rc=$? e i alive
    trap - EXIT INT TERM HUP
    if [[ -n $WRK_PID ]]; then kill -TERM "$WRK_PID" 2>/dev/null; wait "$WRK_PID" 2>/dev/null; fi
    if [[ ${#STARTED[@]} -gt 0 ]]; then
        # stop in reverse order of start: proxies first, origin last
        for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
            e=${STARTED[i]}
            still_ours "$e" && kill -TERM "${e%%:*}" 2>/dev/null
        done
        for i in $(seq 50); do
            alive=0
            for e in "${STARTED[@]}"; do still_ours "$e" && alive=1; done
            [[ $alive == 0 ]] && break
            sleep 0.1
        done
        for e in "${STARTED[@]}"; do
            if still_ours "$e"; then
                log "pid ${e%%:*} did not stop on SIGTERM; killing it"
                kill -KILL "${e%%:*}" 2>/dev/null
            fi
        done
        wait 2>/dev/null
        alive=0
        for e in "${STARTED[@]}"; do still_ours "$e" && alive=1; done
        [[ $alive == 1 ]] && log "warning: a started process is still alive: ${STARTED[*]}"
    fi
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ $KEEP_TMP == 1 || $FAILED == 1 || $FAILED == 2 ]]; then
            log "temporary files kept in $TMP"
        else
            rm -rf "$TMP"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM HUP

# ---- prerequisites ---------------------------------------------------------------
[[ $(id -u) == 0 ]] || { echo "run this as root (it installs packages and runs nginx as www-data)" >&2; exit 1; }
[[ $LOAD_CPU =~ ^[0-9]+$ && $SERVER_CPU =~ ^[0-9]+$ && $LOAD_CPU != "$SERVER_CPU" && $LOAD_CPU -lt $NCPU && $SERVER_CPU -lt $NCPU ]] ||
    { echo "LOAD_CPU and SERVER_CPU must be two different CPUs below $NCPU" >&2; exit 1; }
[[ $NCPU -ge 2 ]] || { echo "needs at least 2 CPUs (wrk on CPU $LOAD_CPU, servers on CPU $SERVER_CPU)" >&2; exit 1; }

install_missing() {
    local missing=() pkgs=()
    command -v wrk >/dev/null || { missing+=(wrk); pkgs+=(wrk); }
    command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || { missing+=(nginx); pkgs+=(nginx); }
    command -v curl >/dev/null || { missing+=(curl); pkgs+=(curl); }
    command -v taskset >/dev/null || { missing+=(taskset); pkgs+=(util-linux); }
    local p
    for p in "${EXTRA_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || pkgs+=("$p")
    done
    if ! command -v cmake >/dev/null || [[ ! -x $BUILD_DIR/edgefn ]]; then
        # what CMakeLists.txt needs
        for p in cmake make gcc pkg-config libh2o-evloop-dev libyaml-dev libssl-dev libjansson-dev liblua5.4-dev; do
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || pkgs+=("$p")
        done
    fi
    [[ ${#pkgs[@]} -eq 0 ]] && return 0
    log "installing from Debian: ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update || die "apt-get update failed"
    apt-get install -y --no-install-recommends "${pkgs[@]}" || die "apt-get install ${pkgs[*]} failed"
}
install_missing
PATH=$PATH:/usr/sbin:/sbin
NGINX=$(command -v nginx)

log "building edgefn ($BUILD_TYPE) in $BUILD_DIR"
{ cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=$BUILD_TYPE -DEDGEFN_TESTS=OFF -DEDGEFN_BENCH=ON >/dev/null &&
    cmake --build "$BUILD_DIR" -j"$NCPU" >/dev/null; } || die "building edgefn failed"

# ---- /proc readings ---------------------------------------------------------------
# The readings below use only builtins (no forks), so that they do not disturb the
# accounting of wrk's CPU time, which comes from this shell's cutime+cstime.
# Busy time is the wall-clock time of all CPUs minus their idle and iowait time:
# /proc/stat's busy columns are sampled at each tick and, with a tickless idle,
# miss up to a tenth of a busy core here, while its idle time is exact.
read_cpu_total() { # sets CPU_BUSY, CPU_ALL, CPU_IRQ, CPU_STEAL in 1/1000 ticks (all CPUs)
    local name user nice sys idle iowait irq softirq steal rest now=${EPOCHREALTIME/[.,]/}
    read -r name user nice sys idle iowait irq softirq steal rest </proc/stat
    CPU_ALL=$((NCPU * now * CLK_TCK / 1000))
    CPU_BUSY=$((CPU_ALL - (idle + iowait) * 1000))
    CPU_IRQ=$(((irq + softirq) * 1000))
    CPU_STEAL=$((steal * 1000))
}
read_proc_ticks() { # pid -> sets TICKS to utime+stime (all threads), 0 if gone
    local line rest f
    TICKS=0
    read -r line 2>/dev/null <"/proc/$1/stat" || return 1
    rest=${line##*) }
    read -r -a f <<<"$rest"
    TICKS=$((f[11] + f[12]))
}
read_children_ticks() { # sets CHILD_TICKS to this shell's cutime+cstime (reaped children)
    local line rest f
    read -r line </proc/$$/stat
    rest=${line##*) }
    read -r -a f <<<"$rest"
    CHILD_TICKS=$((f[13] + f[14]))
}
descendants() { # pid... -> those pids and all their descendants, one per line
    local -A parent=()
    local d line rest f p q queue=("$@") seen=()
    for d in /proc/[0-9]*; do
        read -r line 2>/dev/null <"$d/stat" || continue
        rest=${line##*) }
        read -r -a f <<<"$rest"
        parent[${d#/proc/}]=${f[1]}
    done
    while [[ ${#queue[@]} -gt 0 ]]; do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        seen+=("$p")
        for q in "${!parent[@]}"; do [[ ${parent[$q]} == "$p" ]] && queue+=("$q"); done
    done
    printf '%s\n' "${seen[@]}" | sort -n
}
sum_ticks() { # pid... -> sets SUM_TICKS
    local p
    SUM_TICKS=0
    for p in "$@"; do read_proc_ticks "$p"; SUM_TICKS=$((SUM_TICKS + TICKS)); done
}

# Wait (at most $1 seconds) until the machine is quiet: over a 1 s sample, busy
# CPU below MAX_OTHER_PCT of one core. Returns 1 if it never was.
wait_quiet() {
    local limit=$1 t=0 b0 a0 pct
    while :; do
        read_cpu_total; b0=$CPU_BUSY; a0=$CPU_ALL
        sleep 1
        read_cpu_total
        pct=$(( (CPU_BUSY - b0) * 100 * NCPU / (CPU_ALL - a0 > 0 ? CPU_ALL - a0 : 1) ))
        [[ $pct -le $MAX_OTHER_PCT ]] && return 0
        t=$((t + 1))
        [[ $t -ge $limit ]] && { log "machine still busy (${pct}% of a core) after ${limit}s"; return 1; }
        [[ $((t % 10)) == 1 ]] && log "machine busy (${pct}% of a core used by others); waiting"
    done
}

# ---- servers ---------------------------------------------------------------------
USED_PORTS=
free_port() { # sets FREE_PORT to a TCP port on 127.0.0.1 that nothing answers on
    local p i
    for i in $(seq 100); do
        p=$((20000 + RANDOM % 20000))
        [[ " $USED_PORTS " == *" $p "* ]] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            USED_PORTS+=" $p"
            FREE_PORT=$p
            return 0
        fi
    done
    die "no free port found"
}

# start_server NAME COMMAND... : runs COMMAND pinned on SERVER_CPU in the background,
# stdout/stderr to $TMP/logs/NAME.log; sets SERVER_PID.
start_server() {
    local name=$1
    shift
    taskset -c "$SERVER_CPU" "$@" >"$TMP/logs/$name.log" 2>&1 </dev/null &
    SERVER_PID=$!
    record_started "$SERVER_PID"
}

# wait_ready ID: the target answers within 10 s; records forked children; checks pinning.
wait_ready() {
    local id=$1 i p t cpus code pids
    for i in $(seq 100); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:${T_PORT[$id]}$BODY_PATH" 2>/dev/null)
        [[ $code == 200 ]] && break
        for p in ${T_ROOTS[$id]}; do kill -0 "$p" 2>/dev/null || die "$id: process $p exited; see $TMP/logs"; done
        sleep 0.1
    done
    [[ $code == 200 ]] || die "$id: no 200 on port ${T_PORT[$id]} within 10 s (last status $code); see $TMP/logs"
    sleep 0.2 # let nginx finish forking its workers
    pids=$(descendants ${T_ROOTS[$id]})
    record_started $(comm -13 <(printf '%s\n' ${T_ROOTS[$id]} | sort -n) <(echo "$pids"))
    for p in $pids; do
        for t in /proc/"$p"/task/*; do
            cpus=$(awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status" 2>/dev/null)
            [[ $cpus == "$SERVER_CPU" ]] ||
                die "$id: pid $p thread ${t##*/} may run on CPUs '$cpus', not only on CPU $SERVER_CPU"
        done
    done
    log "$id: ready on 127.0.0.1:${T_PORT[$id]} (pids $(echo $pids), all pinned on CPU $SERVER_CPU)"
}

nginx_common() { # the top of every nginx config; $1 = name, $2 = main-context lines (load_module), if any
    local name=$1 main=${2:-} m
    cat <<EOF
# written by $SCRIPT
user www-data;
worker_processes 1;
daemon off;
master_process on;
pid $TMP/$name/nginx.pid;
error_log $TMP/logs/$name.error.log warn;
${main:+$main
}events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/$name/client_body;
    proxy_temp_path $TMP/$name/proxy;
EOF
    for m in fastcgi uwsgi scgi; do
        "$NGINX" -V 2>&1 | grep -q -- "--without-http_${m}_module" || echo "    ${m}_temp_path $TMP/$name/$m;"
    done
}
start_nginx() { # name conf-file
    mkdir -p "$TMP/$1"
    "$NGINX" -t -q -p "$TMP/$1" -c "$2" -e "$TMP/logs/$1.startup.log" 2>"$TMP/logs/$1.test.log" ||
        die "nginx rejects $2: $(cat "$TMP/logs/$1.test.log")"
    start_server "$1" "$NGINX" -p "$TMP/$1" -c "$2" -e "$TMP/logs/$1.startup.log"
}

declare -A T_PORT T_ROOTS T_CHECK T_LABEL
ORIGIN_PORT=
ORIGIN_PIDS=

# The shared origin: nginx, 1 worker, access_log off, a 1 KiB static file.
start_origin() {
    free_port
    ORIGIN_PORT=$FREE_PORT
    mkdir -p "$TMP/www"
    yes 'edgefn bench: a 1 KiB static body.' | head -c "$BODY_SIZE" >"$TMP/www${BODY_PATH}"
    chmod 0644 "$TMP/www${BODY_PATH}"
    {
        nginx_common origin
        cat <<EOF
    server {
        listen 127.0.0.1:$ORIGIN_PORT;
        root $TMP/www;${ORIGIN_SERVER_CONF:+
$ORIGIN_SERVER_CONF}
    }
}
EOF
    } >"$TMP/origin.conf"
    start_nginx origin "$TMP/origin.conf"
    ORIGIN_PIDS=$SERVER_PID
    T_PORT[_origin]=$ORIGIN_PORT
    T_ROOTS[_origin]=$ORIGIN_PIDS
    wait_ready _origin
}

start_origin_direct() { # (a): no server of its own
    T_PORT[$1]=$ORIGIN_PORT
    T_ROOTS[$1]=
}

start_nginx_plain() { # (b)
    local id=$1 port
    free_port
    port=$FREE_PORT
    {
        nginx_common "$id"
        cat <<EOF
    upstream origin {
        server 127.0.0.1:$ORIGIN_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    } >"$TMP/$id.conf"
    start_nginx "$id" "$TMP/$id.conf"
    T_PORT[$id]=$port
    T_ROOTS[$id]=$SERVER_PID
}

start_edgefn_plain() { # (c)
    local id=$1 port
    free_port
    port=$FREE_PORT
    cat >"$TMP/$id.yaml" <<EOF
# written by bench/run.sh
threads: 1
listen:
  - port: $port
    address: 127.0.0.1
origins:
  o:
    url: "http://127.0.0.1:$ORIGIN_PORT"
behaviors:
  - path: "*"
    origin: o
access-log: off
EOF
    "$EDGEFN" check -c "$TMP/$id.yaml" >"$TMP/logs/$id.check.log" 2>&1 ||
        die "edgefn rejects $TMP/$id.yaml: $(cat "$TMP/logs/$id.check.log")"
    start_server "$id" "$EDGEFN" -c "$TMP/$id.yaml"
    T_PORT[$id]=$port
    T_ROOTS[$id]=$SERVER_PID
}

# check_target ID: one request; status 200, a 1 KiB body identical to the file, and
# the row's own check (T_CHECK, given the headers file and the body file) if any.
check_target() {
    local id=$1 out code size
    out=$(curl -s -D "$TMP/check.headers" -o "$TMP/check.body" -w '%{http_code} %{size_download}' \
        --max-time 5 "http://127.0.0.1:${T_PORT[$id]}$BODY_PATH")
    read -r code size <<<"$out"
    [[ $code == 200 && $size == "$BODY_SIZE" ]] || { log "$id: check failed: status '$code', body length '$size'"; return 1; }
    cmp -s "$TMP/check.body" "$TMP/www$BODY_PATH" || { log "$id: check failed: the body differs from the file"; return 1; }
    if [[ -n ${T_CHECK[$id]:-} ]]; then
        ${T_CHECK[$id]} "$TMP/check.headers" "$TMP/check.body" || { log "$id: check failed: ${T_CHECK[$id]}"; return 1; }
    fi
    return 0
}

# ---- one wrk run -----------------------------------------------------------------
wrk_cmd() { # id duration -> the command line
    echo "taskset -c $LOAD_CPU wrk -t$WRK_THREADS -c$CONNECTIONS -d$2 --latency http://127.0.0.1:${T_PORT[$1]}$BODY_PATH"
}
# the wrk output of the recorded run of ID in round R: the last attempt (earlier ones were discarded)
wrk_file() {
    local f n best=-1 last=
    for f in "$TMP"/wrk."$1".r"$2".a*.txt; do
        [[ -e $f ]] || continue
        n=${f##*.a}
        n=${n%.txt}
        [[ $n -gt $best ]] && { best=$n; last=$f; }
    done
    echo "$last"
}
to_us() { # 2.26ms / 845.00us / 1.02s -> µs
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) f = 1; else if (v ~ /ms$/) f = 1000;
        else if (v ~ /m$/) f = 60e6; else if (v ~ /s$/) f = 1e6; else f = 1; printf "%.0f\n", n * f }'
}

# run_wrk ID TAG DURATION: sets R_RPS R_P99 R_REQS R_ERRS R_SRV_US R_OWN_US R_OTHER_PCT R_OUT
run_wrk() {
    local id=$1 tag=$2 dur=$3 pids own_pids p rc
    local b0 a0 c0 s0 o0 i0 st0 b1 a1 c1 s1 o1 i1 st1 pids_after
    R_OUT=$TMP/wrk.$id.$tag.txt
    pids=$(descendants $ORIGIN_PIDS ${T_ROOTS[$id]})
    own_pids=$( [[ -n ${T_ROOTS[$id]} ]] && descendants ${T_ROOTS[$id]})
    sum_ticks $own_pids; o0=$SUM_TICKS
    sum_ticks $pids; s0=$SUM_TICKS
    read_children_ticks; c0=$CHILD_TICKS
    read_cpu_total; b0=$CPU_BUSY; a0=$CPU_ALL; i0=$CPU_IRQ; st0=$CPU_STEAL
    taskset -c "$LOAD_CPU" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$dur" --latency \
        "http://127.0.0.1:${T_PORT[$id]}$BODY_PATH" >"$R_OUT" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID"
    rc=$?
    WRK_PID=
    read_cpu_total; b1=$CPU_BUSY; a1=$CPU_ALL; i1=$CPU_IRQ; st1=$CPU_STEAL
    read_children_ticks; c1=$CHILD_TICKS
    sum_ticks $pids; s1=$SUM_TICKS
    sum_ticks $own_pids; o1=$SUM_TICKS
    pids_after=$(descendants $ORIGIN_PIDS ${T_ROOTS[$id]})
    R_ERRS=
    [[ $rc == 0 ]] || R_ERRS="wrk exited with $rc;"
    [[ $pids == "$pids_after" ]] || R_ERRS+=" server processes changed during the run ($(echo $pids) -> $(echo $pids_after));"
    R_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$R_OUT")
    R_REQS=$(awk '/ requests in / { print $1 }' "$R_OUT")
    R_P99=$(to_us "$(awk '$1 == "99%" { print $2 }' "$R_OUT")")
    if grep -q 'Non-2xx or 3xx responses' "$R_OUT"; then
        R_ERRS+=" $(grep 'Non-2xx or 3xx responses' "$R_OUT" | sed 's/^ *//');"
    fi
    if grep -q 'Socket errors' "$R_OUT"; then
        R_ERRS+=" $(grep 'Socket errors' "$R_OUT" | sed 's/^ *//');"
    fi
    [[ -n $R_RPS && -n $R_REQS && $R_REQS -gt 0 ]] || { R_ERRS+=" no result from wrk;"; R_RPS=0; R_REQS=1; }
    # µs per request: ticks * 1e6 / CLK_TCK / requests
    R_SRV_US=$(awk -v t=$((s1 - s0)) -v hz="$CLK_TCK" -v n="$R_REQS" 'BEGIN { printf "%.2f\n", t * 1e6 / hz / n }')
    R_OWN_US=$(awk -v t=$((o1 - o0)) -v hz="$CLK_TCK" -v n="$R_REQS" -v own="$own_pids" \
        'BEGIN { if (own == "") print "nan"; else printf "%.2f\n", t * 1e6 / hz / n }')
    # CPU used by neither wrk nor the target's servers, in % of one core
    R_OTHER_PCT=$(awk -v busy=$((b1 - b0)) -v all=$((a1 - a0)) -v w=$(((c1 - c0) * 1000)) -v s=$(((s1 - s0) * 1000)) -v ncpu="$NCPU" \
        'BEGIN { wall = all / ncpu; if (wall <= 0) wall = 1; printf "%.1f\n", (busy - w - s) * 100 / wall }')
    R_WRK_PCT=$(awk -v w=$(((c1 - c0) * 1000)) -v all=$((a1 - a0)) -v ncpu="$NCPU" 'BEGIN { printf "%.0f\n", w * 100 * ncpu / (all > 0 ? all : 1) }')
    R_SRV_PCT=$(awk -v s=$(((s1 - s0) * 1000)) -v all=$((a1 - a0)) -v ncpu="$NCPU" 'BEGIN { printf "%.0f\n", s * 100 * ncpu / (all > 0 ? all : 1) }')
    # of the whole machine, as seen in /proc/stat: irq+softirq ticks and steal, in % of one core
    R_IRQ_PCT=$(awk -v t=$((i1 - i0)) -v all=$((a1 - a0)) -v ncpu="$NCPU" 'BEGIN { printf "%.1f\n", t * 100 * ncpu / (all > 0 ? all : 1) }')
    R_STEAL_PCT=$(awk -v t=$((st1 - st0)) -v all=$((a1 - a0)) -v ncpu="$NCPU" 'BEGIN { printf "%.1f\n", t * 100 * ncpu / (all > 0 ? all : 1) }')
    R_ERRS=${R_ERRS# }
}

# ---- the run ---------------------------------------------------------------------
declare -A RPS P99 SRV OWN OTHER REQS ERRS
DISCARDS=()
ERRORS=()
TOTAL_DISCARDS=0
BUSY_GIVEUP=0

IDS=()
declare -A START_FN
for row in "${TARGET_ROWS[@]}"; do
    read -r id fn label <<<"$row"
    if [[ -n ${TARGETS:-} && " $TARGETS " != *" $id "* ]]; then continue; fi
    IDS+=("$id")
    T_LABEL[$id]=$label
    START_FN[$id]=$fn
done
[[ ${#IDS[@]} -gt 0 ]] || { echo "no targets selected (TARGETS='${TARGETS:-}')" >&2; exit 1; }

N=${#IDS[@]}
NOMINAL=$((3 + N * (WARMUP_S + 1) + N * ROUNDS * (DURATION_S + 2)))
MAXIMUM=$((NOMINAL + QUIET_WAIT + MAX_DISCARDS * (DURATION_S + 2 + BACKOFF) + N * ROUNDS * BACKOFF))
log "$SECTION_ID benchmark: targets ${IDS[*]}; $ROUNDS rounds x $DURATION, warm-up $WARMUP each"
log "expected duration: about $((NOMINAL / 60)) min $((NOMINAL % 60)) s (at most $((MAXIMUM / 60)) min if the machine is busy)"

TMP=$(mktemp -d /tmp/edgefn-bench.XXXXXX) || die "mktemp failed"
chmod 0755 "$TMP" # nginx workers run as www-data
mkdir -p "$TMP/logs"
# run a copy of the binary, so that a rebuild during the run changes nothing
cp "$BUILD_DIR/edgefn" "$TMP/edgefn" || die "no $BUILD_DIR/edgefn"
EDGEFN=$TMP/edgefn

start_origin
for id in "${IDS[@]}"; do
    ${START_FN[$id]} "$id"
    [[ -n ${T_ROOTS[$id]} ]] && wait_ready "$id"
    check_target "$id" || { FAILED=2; die "$id answers wrongly; not loading it"; }
done

wait_quiet "$QUIET_WAIT" || { BUSY_GIVEUP=1; FAILED=3; log "the machine is too busy to benchmark; try again later"; exit 3; }

for id in "${IDS[@]}"; do
    log "$id: warm-up $WARMUP (not recorded)"
    run_wrk "$id" warmup "$WARMUP"
    if [[ -n $R_ERRS ]]; then ERRORS+=("$id warm-up: $R_ERRS"); FAILED=2; log "$id: warm-up: ERRORS: $R_ERRS"; fi
done

for ((r = 1; r <= ROUNDS; r++)); do
    for id in "${IDS[@]}"; do
        attempt=0
        while :; do
            wait_quiet "$BACKOFF" || true
            if ! check_target "$id"; then
                ERRORS+=("$id round $r: the check request failed before the run")
                FAILED=2
            fi
            run_wrk "$id" "r$r.a$attempt" "$DURATION"
            if awk -v o="$R_OTHER_PCT" -v m="$MAX_OTHER_PCT" 'BEGIN { exit !(o > m) }'; then
                TOTAL_DISCARDS=$((TOTAL_DISCARDS + 1))
                DISCARDS+=("$id round $r: $(fmt "$R_RPS") req/s discarded, other CPU ${R_OTHER_PCT}% of a core")
                log "$id round $r: DISCARDED (other CPU ${R_OTHER_PCT}% of a core > ${MAX_OTHER_PCT}%; $(fmt "$R_RPS") req/s; wrk ${R_WRK_PCT}% / servers ${R_SRV_PCT}%, irq+softirq ${R_IRQ_PCT}%, steal ${R_STEAL_PCT}%)"
                attempt=$((attempt + 1))
                if [[ $attempt -gt $MAX_REPEATS || $TOTAL_DISCARDS -ge $MAX_DISCARDS ]]; then
                    BUSY_GIVEUP=1
                    break 3
                fi
                continue
            fi
            break
        done
        RPS[$id,$r]=$R_RPS; P99[$id,$r]=$R_P99; SRV[$id,$r]=$R_SRV_US; OWN[$id,$r]=$R_OWN_US
        OTHER[$id,$r]=$R_OTHER_PCT; REQS[$id,$r]=$R_REQS; ERRS[$id,$r]=$R_ERRS
        if [[ -n $R_ERRS ]]; then ERRORS+=("$id round $r: $R_ERRS"); FAILED=2; fi
        log "$id round $r: $(fmt "$R_RPS") req/s, p99 ${R_P99} µs, server ${R_SRV_US} µs/req (proxy ${R_OWN_US}), wrk ${R_WRK_PCT}% / servers ${R_SRV_PCT}% / other ${R_OTHER_PCT}% of a core (irq+softirq ${R_IRQ_PCT}%, steal ${R_STEAL_PCT}%)${R_ERRS:+, ERRORS: $R_ERRS}"
    done
done

if [[ $BUSY_GIVEUP == 1 ]]; then
    FAILED=3
    log "the machine is too busy: $TOTAL_DISCARDS disturbed runs; no results written. Try again later."
    printf '  %s\n' "${DISCARDS[@]}" >&2
    exit 3
fi

# ---- results ---------------------------------------------------------------------
declare -A M_RPS M_P99 M_SRV M_OWN SPREAD
NOISY=()
for id in "${IDS[@]}"; do
    M_RPS[$id]=$(for ((r = 1; r <= ROUNDS; r++)); do echo "${RPS[$id,$r]}"; done | median)
    M_P99[$id]=$(for ((r = 1; r <= ROUNDS; r++)); do echo "${P99[$id,$r]}"; done | median)
    M_SRV[$id]=$(for ((r = 1; r <= ROUNDS; r++)); do echo "${SRV[$id,$r]}"; done | median)
    M_OWN[$id]=$(for ((r = 1; r <= ROUNDS; r++)); do [[ ${OWN[$id,$r]} != nan ]] && echo "${OWN[$id,$r]}"; done | median)
    SPREAD[$id]=$(for ((r = 1; r <= ROUNDS; r++)); do echo "${RPS[$id,$r]}"; done | sort -g |
        awk -v m="${M_RPS[$id]}" 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f\n", (m > 0 ? (hi - lo) * 100 / m : 0) }')
    awk -v x="${SPREAD[$id]}" -v m="$MAX_SPREAD_PCT" 'BEGIN { exit !(x > m) }' && NOISY+=("$id (${SPREAD[$id]}%)")
done

summary_table() { # markdown table of medians
    local id raw
    echo "| target | median req/s | median p99 µs | median server CPU µs/req | proxy's own CPU µs/req | req/s per round | spread |"
    echo "|---|---:|---:|---:|---:|---|---:|"
    for id in "${IDS[@]}"; do
        raw=$(for ((r = 1; r <= ROUNDS; r++)); do fmt "${RPS[$id,$r]}"; done | commas | paste -sd' ' | sed 's/ /, /g')
        printf '| %s | %s | %s | %s | %s | %s | %s%% |\n' "${T_LABEL[$id]}" "$(fmt "${M_RPS[$id]}" | commas)" \
            "$(fmt "${M_P99[$id]}" | commas)" "$(fmt "${M_SRV[$id]}" 1)" "$(fmt "${M_OWN[$id]}" 1 | sed 's#n/a#—#')" "$raw" "${SPREAD[$id]}"
    done
}
ratio_lines() { # one line per RATIOS row
    local row num den goal what ratio per lo hi verdict
    for row in "${RATIOS[@]}"; do
        read -r num den goal what <<<"$row"
        [[ -n ${M_RPS[$num]:-} && -n ${M_RPS[$den]:-} ]] || continue
        ratio=$(awk -v a="${M_RPS[$num]}" -v b="${M_RPS[$den]}" 'BEGIN { printf "%.3f\n", a / b }')
        per=$(for ((r = 1; r <= ROUNDS; r++)); do
            awk -v a="${RPS[$num,$r]}" -v b="${RPS[$den,$r]}" 'BEGIN { printf "%.3f\n", a / b }'; done | sort -g)
        lo=$(echo "$per" | head -1)
        hi=$(echo "$per" | tail -1)
        # each round runs the two back to back, so their ratio cancels most of a slow host's drift
        paired=$(echo "$per" | median)
        if awk -v x="$ratio" -v g="$goal" 'BEGIN { exit !(x >= g) }'; then
            verdict="meets the goal"
        elif awk -v x="$hi" -v g="$goal" 'BEGIN { exit !(x >= g) }'; then
            verdict="misses the goal in the median, but the goal is within the per-round spread"
        else
            verdict="misses the goal in every round"
        fi
        printf -- '- **%s / %s (req/s): %s×** (per round %s–%s×, median of the per-round ratios %s×). Goal for %s: ≥ %s×; this %s.\n' \
            "$num" "$den" "$(fmt "$ratio" 3)" "$(fmt "$lo" 3)" "$(fmt "$hi" 3)" "$(fmt "$paired" 3)" "$what" "$goal" "$verdict"
    done
}
target_table() { # per-round table for one target
    local id=$1
    local origin_us
    echo "| round | req/s | p99 µs | server CPU µs/req | proxy's own CPU µs/req | origin's CPU µs/req | requests | other CPU (% of a core) | errors |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for ((r = 1; r <= ROUNDS; r++)); do
        origin_us=$(awk -v s="${SRV[$id,$r]}" -v o="${OWN[$id,$r]}" 'BEGIN { printf "%.2f\n", o == "nan" ? s : s - o }')
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$r" "$(fmt "${RPS[$id,$r]}" | commas)" \
            "$(echo "${P99[$id,$r]}" | commas)" "${SRV[$id,$r]}" "$(fmt "${OWN[$id,$r]}" 2 | sed 's#n/a#—#')" \
            "$origin_us" "$(echo "${REQS[$id,$r]}" | commas)" "${OTHER[$id,$r]}" "${ERRS[$id,$r]:-none}"
    done
    printf '| **median** | **%s** | **%s** | **%s** | **%s** | | | | |\n' "$(fmt "${M_RPS[$id]}" | commas)" \
        "$(fmt "${M_P99[$id]}" | commas)" "$(fmt "${M_SRV[$id]}" 2)" "$(fmt "${M_OWN[$id]}" 2 | sed 's#n/a#—#')"
}

# the command that reproduces this run
CMD=$SCRIPT
CMD_ENV=
for v in ROUNDS DURATION WARMUP CONNECTIONS TARGETS LOAD_CPU SERVER_CPU MAX_OTHER_PCT MAX_SPREAD_PCT; do
    case $v in
    ROUNDS) d=5 ;; DURATION) d=10s ;; WARMUP) d=5s ;; CONNECTIONS) d=50 ;; TARGETS) d= ;;
    LOAD_CPU) d=0 ;; SERVER_CPU) d=1 ;; MAX_OTHER_PCT) d=10 ;; MAX_SPREAD_PCT) d=10 ;;
    esac
    [[ ${!v:-} != "$d" ]] && CMD_ENV+="$v=${!v} "
done
CMD="${CMD_ENV:-}$CMD"

GIT_REV=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ", with uncommitted changes" || true)
CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: nginx\///')
EDGEFN_BUILT=$(date -u -r "$BUILD_DIR/edgefn" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || echo '?')
WRK_VERSION=$(wrk -v 2>&1 | head -1 | awk '{ print $2 }')
EDGEFN_VERSION=$("$EDGEFN" --version 2>&1 | head -1)

noise_note() { # a warning when the rounds spread more than a quiet machine's
    local id worst=0 lo hi
    for id in "${IDS[@]}"; do
        awk -v x="${SPREAD[$id]}" -v w="$worst" 'BEGIN { exit !(x > w) }' && worst=${SPREAD[$id]}
    done
    awk -v w="$worst" 'BEGIN { exit !(w > 10) }' || return 0
    lo=$(for ((r = 1; r <= ROUNDS; r++)); do echo "${SRV[origin,$r]:-nan}"; done | sort -g | head -1)
    hi=$(for ((r = 1; r <= ROUNDS; r++)); do echo "${SRV[origin,$r]:-nan}"; done | sort -g | tail -1)
    printf '**This run was noisy:** req/s spread up to %s%% over the rounds of one target, where\n' "$worst"
    printf 'BENCH.md finds 1-8%% on a quiet machine, and the origin alone, the same work in every round,\n'
    printf 'cost from %s to %s µs/req: the host slowed the CPUs down at times, which the\n' "$(fmt "$lo" 1)" "$(fmt "$hi" 1)"
    printf 'disturbed-run check cannot see. Read the median of the per-round ratios (each round runs\n'
    printf 'the targets back to back) and the CPU µs/req columns rather than the medians of req/s.\n'
}

section() {
    cat <<EOF
<!-- section:$SECTION_ID (written by $SCRIPT; rerunning it replaces this section) -->
## $SECTION_TITLE

Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`$CMD\` (from the repository root, as root).

**What:** GET of a 1 KiB static file ($BODY_PATH, status 200, body checked with one curl before
every run), over HTTP/1.1 keep-alive, $CONNECTIONS connections, to $(number_word ${#IDS[@]}) targets:
$(for id in "${IDS[@]}"; do echo "- \`$id\`: ${T_LABEL[$id]}"; done)

$SECTION_CONFIGS

**Method** (BENCH.md): per run \`$(wrk_cmd "${IDS[-1]}" "$DURATION" | sed 's#http://.*#URL#')\`; every
server process (origin, nginx master and worker, edgefn) pinned on CPU $SERVER_CPU (checked in
/proc/PID/task/*/status). A $WARMUP warm-up per target, not recorded, then $ROUNDS interleaved
rounds ($(echo "${IDS[*]}" | sed 's/ /, /g'), then again). Medians over the rounds.
Server CPU µs/req = utime+stime of all server processes of the target (the origin included)
over the run, divided by the requests wrk completed; "proxy's own" is the same without the origin.
A run is discarded and repeated when CPU used by neither wrk nor the target's servers exceeds
$MAX_OTHER_PCT% of a core ("other CPU": the wall-clock time of all CPUs minus their idle time in
/proc/stat, minus wrk's and the servers' utime+stime; it can be slightly negative, since those
are rounded to ticks). A run whose rounds spread more than $MAX_SPREAD_PCT% in req/s for any target,
(max-min)/median, is not written here: that is noise the CPU check cannot see, such as a busy
host. The origin's CPU µs/req, the same work in every target, shows such slow phases.

**Machine:** $NCPU CPUs, $CPU_MODEL; kernel $(uname -r); Debian $(cat /etc/debian_version 2>/dev/null || echo '?');
nginx $NGINX_VERSION; wrk $WRK_VERSION; $EDGEFN_VERSION (\`$(basename "$BUILD_DIR")/edgefn\`, a $BUILD_TYPE build of $EDGEFN_BUILT; repository at git $GIT_REV$GIT_DIRTY).

### Summary (medians of $ROUNDS rounds)

$(summary_table)

$(ratio_lines)
$([[ -n $SUITE_NOTES ]] && { echo; $SUITE_NOTES; })

$(noise_note)

Absolute figures depend on the machine; compare ratios from the same run.

$(for id in "${IDS[@]}"; do
    echo "### ${T_LABEL[$id]}"
    echo
    target_table "$id"
    echo
done)

**Discarded runs (disturbed):** $(if [[ ${#DISCARDS[@]} -eq 0 ]]; then echo none; else echo "${#DISCARDS[@]}"; printf -- '\n- %s' "${DISCARDS[@]}"; fi)

**Errors (non-2xx, socket errors, failed checks):** $(if [[ ${#ERRORS[@]} -eq 0 ]]; then echo none; else printf -- '\n- %s' "${ERRORS[@]}"; fi)
<!-- /section:$SECTION_ID -->
EOF
}

write_results() { # replace our section of $1, or append it; keep every other section
    local file=$1 new=$TMP/section.md
    # the section is written to a temporary file moved into place: that would replace /dev/null, say
    if [[ -e $file && ! -f $file ]]; then
        log "$file is not a regular file: the results are not written there"
        return 1
    fi
    section >"$new"
    if [[ ! -f $file ]]; then
        cat >"$file" <<'EOF'
# edgefn benchmark results

Written by the scripts in bench/, with the project's benchmarking method (wrk on CPU 0,
every server process on CPU 1, a warm-up per target, interleaved rounds, medians, disturbed
runs discarded). Each section belongs to one benchmark script, which replaces it when run
again and leaves the others alone. Absolute figures are comparable only within one section,
because they depend on the machine; compare the ratios.

EOF
    fi
    if grep -q "^<!-- section:$SECTION_ID " "$file"; then
        awk -v id="$SECTION_ID" -v new="$new" '
            index($0, "<!-- section:" id " ") == 1 { while ((getline l < new) > 0) print l; skip = 1; next }
            skip && index($0, "<!-- /section:" id " -->") == 1 { skip = 0; next }
            !skip { print }' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
    else
        { cat "$file"; [[ -n $(tail -c1 "$file") ]] && echo; cat "$new"; } >"$file.tmp" && mv "$file.tmp" "$file"
    fi
}

echo
echo "$SECTION_TITLE, medians of $ROUNDS rounds x $DURATION ($CMD)"
echo
summary_table | text_table
echo
ratio_lines | sed 's/\*\*//g'
[[ -n $SUITE_NOTES ]] && $SUITE_NOTES | sed 's/\*\*//g'
echo "discarded runs: ${#DISCARDS[@]}"
[[ ${#DISCARDS[@]} -gt 0 ]] && printf '  %s\n' "${DISCARDS[@]}"
echo "errors: ${#ERRORS[@]}"
[[ ${#ERRORS[@]} -gt 0 ]] && printf '  %s\n' "${ERRORS[@]}"

if [[ ${#NOISY[@]} -gt 0 ]]; then
    log "NOISY: req/s spread over the rounds above ${MAX_SPREAD_PCT}% for ${NOISY[*]}; RESULTS.md not written. Try again when the machine (or its host) is quieter."
    [[ $FAILED == 0 ]] && FAILED=4
    RESULTS_FILE=
    exit "$FAILED"
fi
if [[ -n $RESULTS_FILE ]]; then
    write_results "$RESULTS_FILE"
    log "wrote the $SECTION_ID section of $RESULTS_FILE"
else
    log "not the full method (ROUNDS>=3, DURATION=10s, WARMUP=5s, CONNECTIONS=50): RESULTS.md not written (set RESULTS_FILE to force)"
fi
exit "$FAILED"
