#!/usr/bin/env bash
# bench/observability.sh: the cost of observability (issue 6): "the Lua hook benchmark
# from bench/ rerun with metrics and access logging on: the cost of observability must
# stay under 5% of req/s".
#
# edgefn counts metrics on every request, always (per-thread counters; GET /metrics on
# the admin listener), since git dcad971; the commit before, 1c6d7cd (BASE_REV), has no
# counters at all. So the cost is measured, in one run and interleaved, between two builds
# running bench/lua.sh's edgefn + Lua target (threads: 1; bench/lua/viewer_request.lua at
# viewer-request adds a request header, bench/lua/viewer_response.lua at viewer-response a
# response header), a request for a 1 KiB static file:
#   origin                 direct to the origin (nginx, 1 worker), as in bench/lua.sh: the same
#                          work in every round, so its req/s and CPU µs/req show the host's slow phases
#   edgefn-lua-bare        edgefn built from BASE_REV (no metrics code), access-log: off
#   edgefn-lua-observed    edgefn built from HEAD_REV (HEAD), the same config plus
#                          access-log: FILE (in the run's temporary directory) and an
#                          admin listener, with GET /metrics scraped once a second during
#                          every run of it (a curl loop started and stopped by its pid)
#   edgefn-lua-head-quiet  HEAD_REV with bench/lua.sh's config as it is (access-log: off,
#                          no admin listener, no scrapes): the counters alone
# with bench/run.sh's machinery and method (BENCH.md), which this sources: wrk on CPU 0,
# every server process on CPU 1, a 5 s unrecorded warm-up per target, interleaved rounds,
# medians, server CPU µs per request from /proc, disturbed runs rejected. Both builds are
# Release builds of `git archive REV` (the working tree, which others may be editing, is
# not what is measured), each in build-bench-rev/HASH/ (kept, so a rerun only checks it).
# The check request before every run sees both hooks' headers (as bench/lua.sh's), and for
# the observed target that GET /metrics answers with edgefn_function_invocations_total.
# During each observed run the scrapes are kept and, after it, parsed with the Prometheus
# client library's parser (python3-prometheus-client), and the access log's lines counted
# (bench/observability/bin/wrk, which this puts first on PATH, does both). Writes the
# observability section of bench/RESULTS.md, with bench/observability/profile.md (where the cost is,
# from perf; written by hand) at the end of its summary.
#
# Usage (as root, on Debian 12):      bench/observability.sh          (about 5 minutes)
# Quick smoke test (no RESULTS.md):   ROUNDS=1 DURATION=3s WARMUP=1s bench/observability.sh
# Settings (environment): as bench/run.sh's (ROUNDS, DURATION, WARMUP, TARGETS, ...;
# bench/run.sh -h), and
#   BASE_REV=1c6d7cd     the build without metrics
#   HEAD_REV=HEAD        the build measured with observability on (and quiet)
#   OBS_SCRAPE_INTERVAL=1   seconds between scrapes of GET /metrics
#
# Exit status: as bench/run.sh's.

set -uo pipefail

OBS_BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OBS_REPO=$(cd "$OBS_BENCH_DIR/.." && pwd)
BASE_REV=${BASE_REV:-1c6d7cd}
HEAD_REV=${HEAD_REV:-HEAD}
export OBS_SCRAPE_INTERVAL=${OBS_SCRAPE_INTERVAL:-1}

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
fi

# the check of both hooks, bench/lua.sh's own (one definition of what the Lua target must show)
eval "$(sed -n '/^check_hooks() {/,/^}/p' "$OBS_BENCH_DIR/lua.sh")"
declare -F check_hooks >/dev/null || { echo "no check_hooks in bench/lua.sh" >&2; exit 1; }

# ---- the two builds ------------------------------------------------------------------
# build_rev REV: a Release build of `git archive REV` (the flags of bench/run.sh's build)
# in build-bench-rev/HASH/build; sets BUILT_EDGEFN and BUILT_REV (the short hash).
build_rev() {
    local rev=$1 hash dir
    hash=$(git -C "$OBS_REPO" rev-parse --verify -q "$rev^{commit}") || { echo "no commit $rev" >&2; exit 1; }
    BUILT_REV=$(git -C "$OBS_REPO" rev-parse --short "$hash")
    dir=$OBS_REPO/build-bench-rev/$hash
    if [[ ! -f $dir/src/CMakeLists.txt ]]; then
        rm -rf "$dir/src"
        mkdir -p "$dir/src"
        git -C "$OBS_REPO" archive --format=tar "$hash" | tar -x -C "$dir/src" || { echo "git archive $rev failed" >&2; exit 1; }
    fi
    echo "[bench] building edgefn at git $BUILT_REV (Release) in $dir/build" >&2
    { cmake -S "$dir/src" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DEDGEFN_TESTS=OFF -DEDGEFN_BENCH=OFF >/dev/null &&
        cmake --build "$dir/build" -j"$(nproc)" >/dev/null; } || { echo "building git $rev failed" >&2; exit 1; }
    BUILT_EDGEFN=$dir/build/edgefn
}
build_rev "$BASE_REV"
BASE_EDGEFN_BUILT=$BUILT_EDGEFN
BASE_SHORT=$BUILT_REV
build_rev "$HEAD_REV"
HEAD_EDGEFN_BUILT=$BUILT_EDGEFN
HEAD_SHORT=$BUILT_REV
[[ $BASE_SHORT != "$HEAD_SHORT" ]] || { echo "BASE_REV and HEAD_REV are the same commit" >&2; exit 1; }

# ---- the targets -----------------------------------------------------------------------
# start_obs_edgefn ID BINARY OBSERVED(0|1): bench/lua.sh's edgefn + Lua config (the same
# bench/lua/*.lua), with access-log: FILE and an admin listener when OBSERVED.
start_obs_edgefn() {
    local id=$1 bin=$2 observed=$3 port admin_port= access=off
    [[ -x $TMP/edgefn-$BASE_SHORT ]] || cp "$BASE_EDGEFN_BUILT" "$TMP/edgefn-$BASE_SHORT" || die "no $BASE_EDGEFN_BUILT"
    [[ -x $TMP/edgefn-$HEAD_SHORT ]] || cp "$HEAD_EDGEFN_BUILT" "$TMP/edgefn-$HEAD_SHORT" || die "no $HEAD_EDGEFN_BUILT"
    free_port
    port=$FREE_PORT
    mkdir -p "$TMP/lua"
    cp "$OBS_BENCH_DIR/lua/viewer_request.lua" "$OBS_BENCH_DIR/lua/viewer_response.lua" "$TMP/lua/" || die "no bench/lua/*.lua"
    if [[ $observed == 1 ]]; then
        free_port
        admin_port=$FREE_PORT
        access=$TMP/$id.access.log
    fi
    cat >"$TMP/$id.yaml" <<EOF
# written by bench/observability.sh (bench/lua.sh's edgefn + Lua config${admin_port:+, with an access log and an admin listener})
threads: 1
listen:
  - port: $port
    address: 127.0.0.1
origins:
  o:
    url: "http://127.0.0.1:$ORIGIN_PORT"
functions:
  add-request-header:
    runtime: lua
    code: $TMP/lua/viewer_request.lua
  add-response-header:
    runtime: lua
    code: $TMP/lua/viewer_response.lua
behaviors:
  - path: "*"
    origin: o
    viewer-request: add-request-header
    viewer-response: add-response-header
access-log: $access
EOF
    [[ -n $admin_port ]] && printf 'admin:\n  listen: 127.0.0.1:%s\n' "$admin_port" >>"$TMP/$id.yaml"
    "$TMP/edgefn-$bin" check -c "$TMP/$id.yaml" >"$TMP/logs/$id.check.log" 2>&1 ||
        die "edgefn rejects $TMP/$id.yaml: $(cat "$TMP/logs/$id.check.log")"
    start_server "$id" "$TMP/edgefn-$bin" -c "$TMP/$id.yaml"
    T_PORT[$id]=$port
    T_ROOTS[$id]=$SERVER_PID
    T_CHECK[$id]=check_hooks
    if [[ $observed == 1 ]]; then
        OBS_ADMIN_PORT[$id]=$admin_port
        OBS_ACCESS_LOG[$id]=$access
        T_CHECK[$id]=check_observed
        mkdir -p "$TMP/scrapes"
        export "OBS_SCRAPE_$port=http://127.0.0.1:$admin_port/metrics"
        export "OBS_SCRAPE_DIR_$port=$TMP/scrapes"
        export "OBS_ACCESS_LOG_$port=$access"
    fi
}
declare -A OBS_ADMIN_PORT OBS_ACCESS_LOG
start_edgefn_lua_bare() { start_obs_edgefn "$1" "$BASE_SHORT" 0; }
start_edgefn_lua_observed() { start_obs_edgefn "$1" "$HEAD_SHORT" 1; }
start_edgefn_lua_head_quiet() { start_obs_edgefn "$1" "$HEAD_SHORT" 0; }

# the observed target: both hooks ran, GET /metrics counts them, the access log has the request
check_observed() { # headers-file body-file
    local id=edgefn-lua-observed body
    check_hooks "$1" "$2" || return 1
    body=$(curl -s --max-time 2 "http://127.0.0.1:${OBS_ADMIN_PORT[$id]}/metrics") || { log "GET /metrics failed"; return 1; }
    grep -q '^edgefn_function_invocations_total{' <<<"$body" || { log "GET /metrics has no edgefn_function_invocations_total"; return 1; }
    sleep 0.2 # the access log is written at least every 100 ms
    grep -q "$BODY_PATH" "${OBS_ACCESS_LOG[$id]}" || { log "the access log ${OBS_ACCESS_LOG[$id]} has no line for $BODY_PATH"; return 1; }
}

# what the wrapper saw in each observed run: "obs-bench NAME VALUES" lines of its wrk output
obs_value() { # id round name field -> the field (1-based, after the name), or 0 when absent
    local f v=
    f=$(wrk_file "$1" "$2")
    [[ -n $f ]] && v=$(awk -v n="$3" -v k="$4" '$1 == "obs-bench" && $2 == n { print $(k + 2); exit }' "$f")
    echo "${v:-0}"
}

obs_notes() { # after the ratios
    local id=edgefn-lua-observed r scrapes=0 ok=0 parsed=0 errs=0 lines=0 reqs=0 inv=0 f ms= bytes= d span=0 rate
    [[ -n ${M_RPS[$id]:-} ]] || return 0
    for ((r = 1; r <= ROUNDS; r++)); do
        f=$(wrk_file "$id" "$r")
        scrapes=$((scrapes + $(obs_value "$id" "$r" scrapes 1)))
        ok=$((ok + $(obs_value "$id" "$r" scrapes 2)))
        parsed=$((parsed + $(obs_value "$id" "$r" scrapes 3)))
        errs=$((errs + $(grep -c '^obs-bench scrape-error' "$f")))
        lines=$((lines + $(obs_value "$id" "$r" access-log 1)))
        reqs=$((reqs + ${REQS[$id,$r]}))
        d=$(($(obs_value "$id" "$r" invocations 2) - $(obs_value "$id" "$r" invocations 1)))
        inv=$((inv + d))
        span=$(awk -v s="$span" -v a="$(obs_value "$id" "$r" scrapes 4)" -v b="$(obs_value "$id" "$r" scrapes 5)" 'BEGIN { print s + b - a }')
        ms+="$(obs_value "$id" "$r" scrape-ms 1) "
        bytes=$(obs_value "$id" "$r" scrape-bytes 1)
    done
    rate=$(awk -v i="$inv" -v s="$span" 'BEGIN { printf "%.0f\n", (s > 0 ? i / s / 2 : 0) }')
    printf -- '- **Observability on, as checked during the recorded runs of %s:** %s scrapes of GET /metrics (once every %s s), %s answered 200, %s parsed by prometheus_client'"'"'s parser with edgefn_function_invocations_total in them%s (median scrape time per run: %s ms; %s bytes); between the first and the last scrape of each run edgefn_function_invocations_total grew by %s in all, over %s s: %s per second for each of the two hooks, against a median of %s req/s; the access log got %s lines for %s requests wrk completed (wrk stops with requests in flight; checks and warm-ups are not counted).\n' \
        "$id" "$scrapes" "$OBS_SCRAPE_INTERVAL" "$ok" "$parsed" "$([[ $errs -gt 0 ]] && echo ", $errs did not parse")" \
        "$(echo $ms | sed 's/ /, /g')" "$bytes" "$(echo $inv | commas)" "$(fmt "$span" 1)" "$(echo "$rate" | commas)" "$(fmt "${M_RPS[$id]}" | commas)" "$(echo $lines | commas)" "$(echo $reqs | commas)"
    own_delta() { # a b -> median over the rounds of (a's proxy µs/req - b's)
        for ((r = 1; r <= ROUNDS; r++)); do
            awk -v x="${OWN[$1,$r]}" -v y="${OWN[$2,$r]}" 'BEGIN { printf "%.2f\n", x - y }'
        done | median
    }
    local rows=()
    [[ -n ${M_RPS[edgefn-lua-bare]:-} ]] && rows+=("edgefn-lua-observed edgefn-lua-bare everything (counters, access log, scrapes)")
    [[ -n ${M_RPS[edgefn-lua-bare]:-} && -n ${M_RPS[edgefn-lua-head-quiet]:-} ]] && rows+=("edgefn-lua-head-quiet edgefn-lua-bare the counters (HEAD's code as a whole against 1c6d7cd's)")
    [[ -n ${M_RPS[edgefn-lua-head-quiet]:-} ]] && rows+=("edgefn-lua-observed edgefn-lua-head-quiet the access log and the scrapes")
    local row a b what
    for row in "${rows[@]}"; do
        read -r a b what <<<"$row"
        printf -- '- **CPU cost, %s:** %s minus %s, median over the rounds of the per-round difference of edgefn'"'"'s own CPU µs/req: %s µs.\n' \
            "$what" "$a" "$b" "$(fmt "$(own_delta "$a" "$b")" 2)"
    done
    # where the cost is: a profile written by hand (perf), kept with the script so a rerun keeps it
    if [[ -f $OBS_BENCH_DIR/observability/profile.md ]]; then
        echo
        cat "$OBS_BENCH_DIR/observability/profile.md"
    fi
}

suite_config() {
    SECTION_ID=observability
    SCRIPT=bench/observability.sh
    SECTION_TITLE="Observability: the Lua hooks benchmark with metrics and access logging on, against a build without metrics"
    TARGET_ROWS=(
        "origin                 start_origin_direct          direct to origin (nginx, 1 worker, 1 KiB file): the host's speed, round by round"
        "edgefn-lua-bare        start_edgefn_lua_bare        edgefn at git $BASE_SHORT (no metrics code) + Lua hooks, access-log: off"
        "edgefn-lua-observed    start_edgefn_lua_observed    edgefn at git $HEAD_SHORT (metrics) + Lua hooks, access-log: FILE, admin listener, GET /metrics every ${OBS_SCRAPE_INTERVAL} s"
        "edgefn-lua-head-quiet  start_edgefn_lua_head_quiet  edgefn at git $HEAD_SHORT (metrics) + Lua hooks, access-log: off, no admin listener, no scrapes"
    )
    RATIOS=(
        "edgefn-lua-observed    edgefn-lua-bare        0.95  observability on (issue 6: its cost under 5% of req/s)"
        "edgefn-lua-head-quiet  edgefn-lua-bare        0.95  the counters alone (HEAD quiet against the build without metrics)"
        "edgefn-lua-observed    edgefn-lua-head-quiet  0.95  the access log and the scrapes alone"
    )
    EXTRA_PACKAGES=(python3-prometheus-client)
    # the origin echoes the request header the hook added, as in bench/lua.sh
    ORIGIN_SERVER_CONF='        add_header x-origin-saw-hook $http_x_hook;'
    SECTION_CONFIGS="The origin is nginx with 1 worker and \`access_log off\`; it echoes the request header x-hook
in a response header (\`add_header x-origin-saw-hook \$http_x_hook;\`), as in bench/lua.sh. Every edgefn has
bench/lua.sh's edgefn + Lua config: \`threads: 1\`, one listener, one url origin, one behavior \`\"*\"\` with the
functions bench/lua/viewer_request.lua (\`event.request.headers[\"x-hook\"] = {value = \"1\"}; return event.request\`)
at viewer-request and bench/lua/viewer_response.lua (\`event.response.headers[\"x-hook-resp\"] = {value = \"1\"}; return event.response\`)
at viewer-response (memory 2MB, timeout 5ms, the defaults). **The builds:** Release builds
(\`-DCMAKE_BUILD_TYPE=Release\`, as bench/run.sh's) of \`git archive\` of two commits, not of the working tree:
$BASE_SHORT ($(git -C "$OBS_REPO" log -1 --format=%s "$BASE_SHORT" | cut -c1-60)…), the last commit without metrics,
and $HEAD_SHORT ($(git -C "$OBS_REPO" log -1 --format=%s "$HEAD_SHORT" | cut -c1-60)…), with per-thread counters
counted on every request, always. **edgefn-lua-bare** ($BASE_SHORT) and **edgefn-lua-head-quiet** ($HEAD_SHORT) have
\`access-log: off\` and no admin listener. **edgefn-lua-observed** ($HEAD_SHORT) has \`access-log: FILE\` (a file in
the run's temporary directory, emptied before each run) and \`admin: { listen: 127.0.0.1:PORT }\`, and during each of
its runs a curl loop on the load CPU GETs /metrics every ${OBS_SCRAPE_INTERVAL} s (started when wrk starts, stopped by its pid when
wrk ends; bench/observability/bin/wrk), so the server CPU of its runs includes answering the scrapes. The check request before
every run sees both hooks' headers (at the origin and at the client); for edgefn-lua-observed also that GET /metrics has
edgefn_function_invocations_total and that the access log got the request."
    SUITE_NOTES=obs_notes
}

# bench/observability/bin/wrk scrapes and counts around the observed target's runs
PATH=$OBS_BENCH_DIR/observability/bin:$PATH
# bench/run.sh runs the benchmark with the settings above
source "$OBS_BENCH_DIR/run.sh"
