#!/usr/bin/env bash
# bench/observability/cost.sh: the cost of observability measured in two ways that a noisy
# host does not change. bench/observability.sh measures req/s, and on a host whose own
# speed swings by a third from one round to the next (its origin-alone target says so) a
# 5% difference is lost in the noise; but the instructions edgefn executes per request,
# and the share of its CPU time that observability takes within one run, are the same
# whatever the host does.
#
# 1. Instructions (callgrind):
# It runs one edgefn binary (a Release build) with bench/lua.sh's edgefn + Lua config
# (threads: 1; bench/lua/viewer_request.lua and viewer_response.lua), twice, under
# valgrind's callgrind:
#   quiet      access-log: off, no admin listener (the counters alone: they are always on)
#   observed   access-log: FILE, an admin listener, and GET /metrics scraped every
#              SCRAPE_EVERY requests
# in front of nginx (1 worker, a 1 KiB file). After WARMUP requests the counts are zeroed
# (callgrind_control -z), N requests are sent (h2load, HTTP/1.1, 4 connections), and the
# counts dumped: user-space instructions (Ir) per request of edgefn, its libraries
# included. What this does not count: the kernel's work for edgefn's system calls (the
# access log is written in 48 KiB blocks, one write(2) per ~90 requests). The top of
# callgrind_annotate's inclusive profile of the observed run is printed too.
# 2. Time (perf): the observed configuration under load, as bench/observability.sh runs it
# (wrk -t1 -c50 on CPU 0, edgefn and the origin on CPU 1, GET /metrics every second), is
# sampled by perf (-F 999, DWARF call graphs) for PERF_SECONDS, and the share of edgefn's
# samples (user and kernel) spent in the functions that exist for observability is
# printed, inclusive of what they call: ef_accesslog_write (the access log line, its
# buffer's write(2) included), ef_metrics_scrape (GET /metrics), ef_metrics_count_invocation
# and ef_histogram_observe (the counters that are not inlined; their sum counts the histograms
# of an invocation twice, so it is an upper bound). The inlined counter increments are not
# visible to either measure; their instructions are in the quiet run too.
#
# Usage (as root, on Debian 12):  bench/observability/cost.sh [EDGEFN]   (about 2 minutes)
#   EDGEFN      default: build-bench-rev/<HEAD>/build/edgefn if bench/observability.sh built it, else build-bench/edgefn
# Settings (environment): N=5000 WARMUP=300 SCRAPE_EVERY=1000 PERF_SECONDS=8
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
N=${N:-5000}
WARMUP=${WARMUP:-300}
SCRAPE_EVERY=${SCRAPE_EVERY:-1000}
HEAD_HASH=$(git -C "$REPO" rev-parse HEAD)
EDGEFN=${1:-}
if [[ -z $EDGEFN ]]; then
    EDGEFN=$REPO/build-bench-rev/$HEAD_HASH/build/edgefn
    [[ -x $EDGEFN ]] || EDGEFN=$REPO/build-bench/edgefn
fi
[[ -x $EDGEFN ]] || { echo "no edgefn binary at $EDGEFN (build a Release build, or run bench/observability.sh once)" >&2; exit 1; }
PERF_SECONDS=${PERF_SECONDS:-8}
for tool in valgrind callgrind_control callgrind_annotate h2load nginx curl perf wrk taskset; do
    command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || { echo "$tool is missing (apt-get install valgrind nghttp2-client nginx curl linux-perf wrk util-linux)" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/edgefn-instructions.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ -n ${KEEP:-} ]] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; return 1; }

# the origin: nginx, 1 worker, a 1 KiB file
ORIGIN_PORT=$(free_port)
mkdir -p "$TMP/www" "$TMP/nginx"
head -c 1024 /dev/zero | tr '\0' x >"$TMP/www/index.html"
chmod -R a+rX "$TMP"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    server { listen 127.0.0.1:$ORIGIN_PORT; root $TMP/www; keepalive_requests 1000000; }
}
EOF
$(command -v nginx || echo /usr/sbin/nginx) -c "$TMP/nginx/nginx.conf" &
PIDS+=($!)
wait_port "$ORIGIN_PORT"

# write_config ID OBSERVED: $TMP/ID.yaml; sets PORT and ADMIN_PORT (empty when not OBSERVED)
write_config() {
    local id=$1 observed=$2 access=off
    PORT=$(free_port)
    ADMIN_PORT=
    mkdir -p "$TMP/lua"
    cp "$REPO/bench/lua/viewer_request.lua" "$REPO/bench/lua/viewer_response.lua" "$TMP/lua/"
    if [[ $observed == 1 ]]; then
        ADMIN_PORT=$(free_port)
        access=$TMP/$id.access.log
    fi
    local port=$PORT admin_port=$ADMIN_PORT
    cat >"$TMP/$id.yaml" <<EOF
threads: 1
listen:
  - port: $port
    address: 127.0.0.1
origins:
  o: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  add-request-header: { runtime: lua, code: $TMP/lua/viewer_request.lua }
  add-response-header: { runtime: lua, code: $TMP/lua/viewer_response.lua }
behaviors:
  - path: "*"
    origin: o
    viewer-request: add-request-header
    viewer-response: add-response-header
access-log: $access
EOF
    [[ -z $admin_port ]] || printf 'admin:\n  listen: 127.0.0.1:%s\n' "$admin_port" >>"$TMP/$id.yaml"
}

# run ID OBSERVED: prints the instructions counted, leaves $TMP/ID.dump
run() {
    local id=$1 observed=$2 port admin_port access=$TMP/$1.access.log
    write_config "$id" "$observed"
    port=$PORT admin_port=$ADMIN_PORT
    valgrind --tool=callgrind --callgrind-out-file="$TMP/$id.callgrind" "$EDGEFN" -c "$TMP/$id.yaml" >"$TMP/$id.log" 2>&1 &
    local pid=$!
    PIDS+=($pid)
    wait_port "$port"
    h2load --h1 -n "$WARMUP" -c 4 "http://127.0.0.1:$port/index.html" >/dev/null
    callgrind_control -z "$pid" >/dev/null
    local sent=0
    while ((sent < N)); do
        local batch=$((N - sent < SCRAPE_EVERY ? N - sent : SCRAPE_EVERY))
        h2load --h1 -n "$batch" -c 4 "http://127.0.0.1:$port/index.html" | grep -q "succeeded, 0 failed" ||
            { echo "$id: requests failed" >&2; return 1; }
        [[ -n $admin_port ]] && curl -sf -o /dev/null "http://127.0.0.1:$admin_port/metrics"
        sent=$((sent + batch))
    done
    callgrind_control -d "$pid" >/dev/null
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    # the dump after zeroing: the file with the highest part number
    local dump
    dump=$(ls -v "$TMP/$id.callgrind"* | grep -v '\.callgrind$' | tail -1)
    [[ -n $dump ]] || dump=$TMP/$id.callgrind
    cp "$dump" "$TMP/$id.dump"
    local ir
    ir=$(awk '/^summary:/ { print $2 } /^totals:/ { t = $2 } END { if (!NR) print 0 }' "$TMP/$id.dump" | head -1)
    [[ $observed == 1 ]] && echo "$id: access log lines: $(wc -l <"$access")" >&2
    echo "$ir"
}

quiet=$(run quiet 0)
observed=$(run observed 1)
echo "edgefn: $EDGEFN ($(git -C "$REPO" log -1 --format=%h))"
echo "requests counted: $N (after $WARMUP unrecorded), GET /metrics every $SCRAPE_EVERY in the observed run"
awk -v q="$quiet" -v o="$observed" -v n="$N" 'BEGIN {
    printf "quiet:    %.0f instructions per request\n", q / n
    printf "observed: %.0f instructions per request\n", o / n
    printf "observed / quiet: %.3f (observability costs %.1f%% more instructions per request)\n", o / q, (o / q - 1) * 100
}'
echo
echo "observed run, inclusive, the top (callgrind_annotate --inclusive=yes):"
callgrind_annotate --inclusive=yes "$TMP/observed.dump" 2>/dev/null | grep -E "ef_accesslog|ef_metrics|ef_histogram|PROGRAM TOTALS" | head -8

# ---- 2. time: perf's samples of the observed configuration under load ----
write_config perf 1
taskset -c 1 "$EDGEFN" -c "$TMP/perf.yaml" >"$TMP/perf.log" 2>&1 &
EDGEFN_PID=$!
PIDS+=($EDGEFN_PID)
wait_port "$PORT"
# the origin on CPU 1 too, as bench/observability.sh has it
for pid in $(pgrep -f "nginx.*$TMP/nginx/nginx.conf" || true) $(pgrep -P "$(pgrep -f "nginx.*$TMP/nginx/nginx.conf" | head -1)" || true); do
    taskset -pc 1 "$pid" >/dev/null 2>&1 || true
done
taskset -c 0 wrk -t1 -c50 -d$((PERF_SECONDS + 5))s "http://127.0.0.1:$PORT/index.html" >"$TMP/wrk.txt" &
WRK_PID=$!
PIDS+=($WRK_PID)
(while kill -0 "$WRK_PID" 2>/dev/null; do curl -sf -o /dev/null "http://127.0.0.1:$ADMIN_PORT/metrics"; sleep 1; done) &
PIDS+=($!)
sleep 3
perf record -q -F 999 --call-graph dwarf,16384 -p "$EDGEFN_PID" -o "$TMP/perf.data" -- sleep "$PERF_SECONDS" 2>/dev/null
wait "$WRK_PID" || true
perf report -i "$TMP/perf.data" --children --stdio -g none --percent-limit 0 --sort symbol 2>/dev/null >"$TMP/perf.txt"
echo
echo "observed under load ($(awk '/Requests\/sec/ { print $2 }' "$TMP/wrk.txt") req/s), share of edgefn's samples, inclusive (perf, ${PERF_SECONDS}s at 999 Hz, $(awk '/^# Samples:/ { print $3 }' "$TMP/perf.txt" | head -1) samples):"
awk '$3 ~ /^\[/ && $4 ~ /^(ef_accesslog_write|ef_metrics_scrape|ef_metrics_count_invocation|ef_histogram_observe)$/ {
        gsub("%", "", $1); printf "  %-30s %6.2f%%\n", $4, $1; sum += $1 }
     END { printf "  %-30s %6.2f%% (an upper bound: the histograms of an invocation are counted twice)\n", "together", sum }' "$TMP/perf.txt"
