#!/usr/bin/env bash
# bench/node.sh: the process-runtime benchmarks (issue 4): a Node.js hook beside nginx
# against the same hook as an edgefn nodejs function, the Runtime API round trip, and
# cold starts.
#
# bench/node.sh [all]   runs load, rtt and cold below, one after the other (about 9 min)
#
# bench/node.sh load    the load benchmark, bench/run.sh's machinery and method (BENCH.md:
#   wrk -t1 -c50 -d10s --latency on CPU 0, every server process on CPU 1, node children
#   included, a 5 s unrecorded warm-up per target, interleaved rounds, medians, server
#   CPU µs per request from /proc, disturbed runs rejected), on a 1 KiB static file:
#   (a) origin        direct to the origin (nginx, 1 worker)
#   (b) nginx-plain   nginx plain reverse proxy (1 worker, upstream keepalive 64)
#   (c) nginx-node    nginx + auth_request to one Node.js `http` process
#                     (bench/node/hook_server.js) that says which request header to add,
#                     x-hook: 1; nginx copies it into the proxied request
#   (d) edgefn-plain  edgefn plain proxy (threads: 1)
#   (e) edgefn-node   edgefn + a nodejs viewer-request function (bench/node/fn/index.js,
#                     Lambda@Edge style) adding x-hook: 1; one environment, as (c) has
#                     one node process
#   (f) edgefn-c      the same function as a `provided` runtime whose bootstrap is a
#                     tiny C program (bench/node/bootstrap.c): edgefn's own share of a
#                     process invocation, with a runtime that costs next to nothing
#   The origin echoes the x-hook it got (x-origin-saw-hook), so the check request before
#   every run sees the hook's header reach the origin, and that echo reach the client.
#   After the rounds, one more run per target splits the CPU per process (user, system)
#   and counts context switches per request (/proc/PID/task/*/status).
#   Writes the node-hooks section of bench/RESULTS.md. Default ROUNDS=3.
#
# bench/node.sh rtt     the warm round trip at low concurrency: the same machinery with
#   wrk -c1 (ROUNDS=3 DURATION=4s WARMUP=2s CONNECTIONS=1 by default) on origin, nginx-plain,
#   nginx-node, edgefn-plain, edgefn-node, edgefn-c and edgefn-node-logged (the node
#   function timing itself, bench/node/fn-timed/index.js, with function-logs to a
#   directory): p50 latency of each, the hook's added p50 (hook minus its plain proxy),
#   edgefn's REPORT Duration (delivery to answer, measured by edgefn) and the handler's
#   own time measured inside node. Writes the node-rtt section.
#
# bench/node.sh cold    cold start per runtime, spawn to first answer: `edgefn test FN
#   --event viewer-request` run COLD_RUNS times (default 20) per runtime (nodejs; python,
#   left out with the reason when its runtime does not answer; provided with the C
#   bootstrap), the REPORT line's Init Duration + Duration, interleaved with the bare
#   start-up of the same program with a clean environment (`node -e 0`, `/usr/bin/python3
#   -c 0`, `bootstrap -0`), all on CPU 1; medians. It waits for a quiet machine and is not
#   written when other work used more than MAX_OTHER_PCT (10) % of a core meanwhile.
#   Writes the node-cold section.
#
# Usage (as root, on Debian 12):      bench/node.sh
# Quick smoke test (no RESULTS.md):   ROUNDS=1 DURATION=3s WARMUP=1s COLD_RUNS=3 bench/node.sh
# Settings: as bench/run.sh's (bench/run.sh -h): ROUNDS, DURATION, WARMUP, CONNECTIONS,
#   TARGETS, LOAD_CPU, SERVER_CPU, MAX_OTHER_PCT, MAX_SPREAD_PCT, RESULTS_FILE, KEEP_TMP;
#   COLD_RUNS for cold; BREAKDOWN=0 skips load's per-process run (BREAKDOWN_DURATION=4s).
#   A section is written to RESULTS.md only with the mode's default ROUNDS (or more),
#   DURATION, WARMUP and CONNECTIONS (or when RESULTS_FILE is set).
#
# Exit status: as bench/run.sh's (all: the worst of the three).

set -uo pipefail

NODE_BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE_MODE=${1:-all}
[[ $# -gt 0 ]] && shift

help() { sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }

case $NODE_MODE in
-h | --help) help; exit 0 ;;
all)
    rc=0
    for m in load rtt cold; do
        echo "[bench] ==== bench/node.sh $m ====" >&2
        bash "$NODE_BENCH_DIR/node.sh" "$m"
        r=$?
        [[ $r -gt $rc ]] && rc=$r
        [[ $r == 130 ]] && exit 130
    done
    exit "$rc"
    ;;
load | rtt | cold) ;;
*) echo "usage: bench/node.sh [all | load | rtt | cold]" >&2; exit 1 ;;
esac

# ---- bench/node.sh cold -------------------------------------------------------------
cold_main() {
    local repo=$NODE_BENCH_DIR/.. build runs cpu results tmp rt i t0 t1 out line
    repo=$(cd "$repo" && pwd)
    build=$repo/build-bench
    runs=${COLD_RUNS:-20}
    cpu=${SERVER_CPU:-1}
    [[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "COLD_RUNS must be a positive integer" >&2; return 1; }
    if [[ -z ${RESULTS_FILE+x} ]]; then
        if [[ $runs -ge 20 ]]; then results=$NODE_BENCH_DIR/RESULTS.md; else results=; fi
    else
        results=$RESULTS_FILE
    fi
    command -v node >/dev/null || { echo "needs node (apt-get install nodejs)" >&2; return 1; }
    command -v cc >/dev/null || { echo "needs a C compiler (apt-get install gcc)" >&2; return 1; }
    echo "[bench] building edgefn (Release) in $build" >&2
    { cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEDGEFN_TESTS=OFF -DEDGEFN_BENCH=ON >/dev/null &&
        cmake --build "$build" -j"$(nproc)" --target edgefn >/dev/null; } || { echo "building failed" >&2; return 1; }
    tmp=$(mktemp -d /tmp/edgefn-node-cold.XXXXXX) || return 1
    chmod 0755 "$tmp"
    COLD_TMP=$tmp
    trap '[[ -n $COLD_TMP ]] && rm -rf "$COLD_TMP"' EXIT
    # copies, so that a rebuild or an edit during the run changes nothing
    cp "$build/edgefn" "$tmp/edgefn" && cp -r "$build/runtimes" "$tmp/runtimes" || return 1
    mkdir -p "$tmp/node-fn" "$tmp/python-fn" "$tmp/c-fn"
    cp "$NODE_BENCH_DIR/node/fn/index.js" "$tmp/node-fn/" || return 1
    cat >"$tmp/python-fn/index.py" <<'EOF'
def handler(event, context):
    request = event['Records'][0]['cf']['request']
    request['headers']['x-hook'] = [{'key': 'X-Hook', 'value': '1'}]
    return request
EOF
    cc -O2 -o "$tmp/c-fn/bootstrap" "$NODE_BENCH_DIR/node/bootstrap.c" || { echo "compiling bench/node/bootstrap.c failed" >&2; return 1; }

    local -a rts=(nodejs)
    local python_note=
    if [[ -f $tmp/runtimes/python/bootstrap.py && -x /usr/bin/python3 ]]; then
        rts+=(python)
    else
        python_note="python: not measured: $( [[ -x /usr/bin/python3 ]] && echo "functions/runtimes/python/bootstrap.py is not built (in $build/runtimes)" || echo "no /usr/bin/python3")."
        echo "[bench] $python_note" >&2
    fi
    rts+=(provided)
    local -A code=([nodejs]="$tmp/node-fn" [python]="$tmp/python-fn" [provided]="$tmp/c-fn")
    local -A bare_cmd=([nodejs]="node -e 0" [python]="/usr/bin/python3 -c 0" [provided]="$tmp/c-fn/bootstrap -0")
    local -A bare_label=([nodejs]="node -e 0" [python]="/usr/bin/python3 -c 0" [provided]="bootstrap -0")
    local -A bare_note=([nodejs]="" [python]="" [provided]=", the C bootstrap exiting at once")
    for rt in "${rts[@]}"; do
        cat >"$tmp/$rt.yaml" <<EOF
# written by bench/node.sh cold: one on-demand function (no provisioned environment)
threads: 1
listen:
  - port: 1
    address: 127.0.0.1
origins:
  o:
    url: "http://127.0.0.1:1"
functions:
  hook:
    runtime: $rt
    code: ${code[$rt]}
behaviors:
  - path: "*"
    origin: o
    viewer-request: hook
access-log: off
EOF
        "$tmp/edgefn" check -c "$tmp/$rt.yaml" >"$tmp/$rt.check" 2>&1 || { echo "edgefn rejects $tmp/$rt.yaml: $(cat "$tmp/$rt.check")" >&2; return 1; }
    done

    # everything below runs on CPU $cpu, as the servers do in the load benchmarks
    taskset -cp "$cpu" $$ >/dev/null || return 1
    local -A INIT BARE TOTAL FIRST
    # A quiet machine, as for the load benchmarks: at most MAX_OTHER_PCT of a core used by
    # others, before (waiting up to QUIET_WAIT s) and over the whole measurement.
    local max_other=${MAX_OTHER_PCT:-10} hz ncpu
    hz=$(getconf CLK_TCK)
    ncpu=$(nproc --all)
    busy_now() { # busy ticks of all CPUs (wall-clock minus idle and iowait, as bench/run.sh counts them)
        local name user nice sys idle iowait rest now=${EPOCHREALTIME/[.,]/}
        read -r name user nice sys idle iowait rest </proc/stat
        echo "$((ncpu * now * hz / 1000000 - idle - iowait)) $((now * hz / 1000000))"
    }
    own_ticks() { # this shell's reaped children and itself
        local line rest f
        read -r line </proc/$$/stat
        rest=${line##*) }
        read -r -a f <<<"$rest"
        echo $((f[11] + f[12] + f[13] + f[14]))
    }
    local q b0 w0 b1 w1 waited=0
    while :; do
        read -r b0 w0 <<<"$(busy_now)"
        sleep 1
        read -r b1 w1 <<<"$(busy_now)"
        q=$(((b1 - b0) * 100 / (w1 - w0 > 0 ? w1 - w0 : 1)))
        [[ $q -le $max_other ]] && break
        waited=$((waited + 1))
        [[ $waited -ge ${QUIET_WAIT:-120} ]] && { echo "[bench] the machine is too busy (${q}% of a core used by others); try again later" >&2; return 3; }
        [[ $((waited % 10)) == 1 ]] && echo "[bench] machine busy (${q}% of a core used by others); waiting" >&2
    done
    echo "[bench] cold start: $runs runs per runtime (${rts[*]}), interleaved, on CPU $cpu" >&2
    # one untimed run of each first: the files in the page cache, as after any earlier start;
    # a python runtime that does not work yet (it is being written) is left out, with why
    local ok_rts=()
    for rt in "${rts[@]}"; do
        ${bare_cmd[$rt]} >/dev/null 2>&1
        out=$("$tmp/edgefn" test hook -c "$tmp/$rt.yaml" --event viewer-request 2>&1)
        if [[ $rt == python && $out != *'"outcome": "request"'* ]]; then
            python_note="python: not measured: its function did not answer (\`edgefn test\` said: $(grep -o '"error": "[^"]*"' <<<"$out" | head -1 | sed 's/^"error": //'); log: $(grep -oE '(Error|error)[^"]*' <<<"$out" | grep -v '^error": ' | tail -1))."
            echo "[bench] $python_note" >&2
            continue
        fi
        ok_rts+=("$rt")
    done
    rts=("${ok_rts[@]}")
    # The bare start-up runs with a clean environment, as edgefn's environments get one (the
    # Lambda variables only): variables such as NODE_EXTRA_CA_CERTS or NODE_OPTIONS in the
    # caller's environment change node's start-up (a CA bundle to parse: tens of ms). The
    # subshell drops them with builtins and execs, so it costs what a plain fork and exec does.
    clean_run() { (
        local v
        for v in $(compgen -e); do unset "$v" 2>/dev/null; done
        export PATH=/usr/local/bin:/usr/bin:/bin
        exec "$@"
    ) >/dev/null 2>&1; }
    local node_vars caller_bare=
    node_vars=$(compgen -e | grep -E '^(NODE_|UV_)' | paste -sd' ')
    local own0 busy0 wall0 own1 busy1 wall1 other_pct
    own0=$(own_ticks)
    read -r busy0 wall0 <<<"$(busy_now)"
    for ((i = 1; i <= runs; i++)); do
        if [[ -n $node_vars ]]; then
            t0=${EPOCHREALTIME/[.,]/}
            node -e 0 >/dev/null 2>&1
            t1=${EPOCHREALTIME/[.,]/}
            caller_bare+="$(((t1 - t0))) "
        fi
        for rt in "${rts[@]}"; do
            t0=${EPOCHREALTIME/[.,]/}
            clean_run ${bare_cmd[$rt]}
            t1=${EPOCHREALTIME/[.,]/}
            BARE[$rt]+="$(((t1 - t0))) "
            t0=${EPOCHREALTIME/[.,]/}
            out=$("$tmp/edgefn" test hook -c "$tmp/$rt.yaml" --event viewer-request 2>&1)
            t1=${EPOCHREALTIME/[.,]/}
            TOTAL[$rt]+="$(((t1 - t0))) "
            line=$(grep -o 'REPORT RequestId[^"]*' <<<"$out" | head -1)
            [[ $line == *"Init Duration"* && $out == *'"outcome": "request"'* && $out == *'"x-hook"'* ]] ||
                { echo "edgefn test of the $rt function did not answer as expected (run $i):" >&2; echo "$out" | tail -20 >&2; return 2; }
            # Init Duration: spawn to the first GET .../next; Duration: delivery of the event to the answer
            INIT[$rt]+="$(awk -v l="$line" 'BEGIN { match(l, /Init Duration: [0-9.]+/); print substr(l, RSTART + 15, RLENGTH - 15) * 1000 }') "
            FIRST[$rt]+="$(awk -v l="$line" 'BEGIN { match(l, /Init Duration: [0-9.]+/); i = substr(l, RSTART + 15, RLENGTH - 15);
                match(l, /\tDuration: [0-9.]+/); d = substr(l, RSTART + 11, RLENGTH - 11); print (i + d) * 1000 }') "
        done
    done
    own1=$(own_ticks)
    read -r busy1 wall1 <<<"$(busy_now)"
    # what neither this shell nor its children (the programs measured) used, in % of one core
    other_pct=$(( ((busy1 - busy0) - (own1 - own0)) * 100 / (wall1 - wall0 > 0 ? wall1 - wall0 : 1) ))
    echo "[bench] other CPU during the measurement: ${other_pct}% of a core" >&2
    med() { printf '%s\n' $1 | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
    ms() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }'; }
    range() { printf '%s\n' $1 | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f–%.1f", lo / 1000, hi / 1000 }'; }

    local when cpu_model git_rev git_dirty node_v py_v env=
    when=$(date -u '+%Y-%m-%d %H:%M UTC')
    cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    git_rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git_dirty=$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ", with uncommitted changes" || true)
    node_v=$(node --version 2>/dev/null)
    py_v=$(/usr/bin/python3 --version 2>&1 | awk '{ print $2 }')
    [[ $runs != 20 ]] && env+="COLD_RUNS=$runs "
    [[ $cpu != 1 ]] && env+="SERVER_CPU=$cpu "

    table() {
        echo "| runtime | bare start-up (median, min–max) | edgefn: spawn to first answer, Init + Duration (median, min–max) | of which Init Duration | difference (edgefn − bare) | target ≤ bare + 10 ms | whole \`edgefn test\` command |"
        echo "|---|---:|---:|---:|---:|---|---:|"
        local rt b f d verdict
        for rt in "${rts[@]}"; do
            b=$(med "${BARE[$rt]}")
            f=$(med "${FIRST[$rt]}")
            d=$(awk -v f="$f" -v b="$b" 'BEGIN { printf "%.1f", (f - b) / 1000 }')
            verdict=$(awk -v d="$d" 'BEGIN { print (d <= 10 ? "meets it" : "misses it") }')
            printf '| %s (bare: `%s`%s) | %s ms (%s) | %s ms (%s) | %s ms | %s ms | %s | %s ms |\n' "$rt" "${bare_label[$rt]}" "${bare_note[$rt]}" \
                "$(ms "$b")" "$(range "${BARE[$rt]}")" "$(ms "$f")" "$(range "${FIRST[$rt]}")" "$(ms "$(med "${INIT[$rt]}")")" "$d" "$verdict" \
                "$(ms "$(med "${TOTAL[$rt]}")")"
        done
    }
    section() {
        cat <<EOF
<!-- section:node-cold (written by bench/node.sh cold; rerunning it replaces this section) -->
## Cold start per runtime: spawn to first answer, against the bare interpreter

Measured $when with \`${env}bench/node.sh cold\` (from the repository root, as root).

**What:** the first invocation of a new execution environment (viewer-request; the function adds
the request header x-hook: 1): nodejs (bench/node/fn/index.js),$([[ " ${rts[*]} " == *" python "* ]] && echo " python (the same in Python, \`def handler(event, context)\`),") and
provided (bench/node/bootstrap.c, a C Runtime API client, compiled with \`cc -O2\`).

**Method:** \`edgefn test hook -c CONF --event viewer-request\` with one on-demand function, $runs times per
runtime, interleaved with the bare start-up of the same program (\`node -e 0\`, \`/usr/bin/python3 -c 0\`,
\`bootstrap -0\`, timed from fork to exit by the shell that runs them, with a clean environment), everything on CPU $cpu, after one
untimed run of each. "Spawn to first answer" is what edgefn's REPORT line says: Init Duration (edgefn
forks the environment → its first GET .../invocation/next) plus Duration (the event delivered → the
answer posted). The whole \`edgefn test\` command (edgefn's own start, the config, the environment's
end) is shown for reference. Medians. CPU used by other work during the measurement: ${other_pct}% of a core
(a run above ${max_other}% is not written here).

**Machine:** $(nproc --all) CPUs, $cpu_model; kernel $(uname -r); node $node_v; Python $py_v;
a Release build of edgefn (repository at git $git_rev$git_dirty). The machine was shared with other work.

$(table)
${python_note:+
$python_note
}$([[ -n $caller_bare ]] && printf '\nThe bare start-up is measured with a clean environment, as edgefn gives its environments one. With\nthe environment of the shell that ran this (%s set), `node -e 0` took %s ms (median): those\nvariables cost node tens of ms at start-up (NODE_EXTRA_CA_CERTS: a CA bundle to load), which is why\nfigures of `node -e 0` from a login shell can be far above these.\n' "$node_vars" "$(ms "$(med "$caller_bare")")")

**Target (issue 4): cold start ≤ the bare interpreter's start-up + 10 ms.** The bare figure includes the
interpreter's exit, which the edgefn figure does not; it is the number BENCH.md compares with.
<!-- /section:node-cold -->
EOF
    }
    section >"$tmp/section.md"
    echo
    echo "Cold start, medians of $runs runs (${env}bench/node.sh cold)"
    table | sed 's/`//g'
    echo
    if [[ $other_pct -gt $max_other ]]; then
        echo "[bench] DISTURBED: other CPU ${other_pct}% of a core > ${max_other}% during the measurement; RESULTS.md not written. Try again later." >&2
        return 3
    fi
    if [[ -n $results ]]; then
        write_section "$results" node-cold "$tmp/section.md" || return 1
        echo "[bench] wrote the node-cold section of $results" >&2
    else
        echo "[bench] COLD_RUNS below 20: RESULTS.md not written (set RESULTS_FILE to force)" >&2
    fi
    [[ ${KEEP_TMP:-0} == 1 ]] && { echo "[bench] temporary files kept in $tmp" >&2; COLD_TMP=; }
    return 0
}

write_section() { # file id new-section-file: replace the section, or append it; keep the others
    local file=$1 id=$2 new=$3
    if [[ -e $file && ! -f $file ]]; then
        echo "[bench] $file is not a regular file: the results are not written there" >&2
        return 1
    fi
    [[ -f $file ]] || printf '# edgefn benchmark results\n\n' >"$file"
    if grep -q "^<!-- section:$id " "$file"; then
        awk -v id="$id" -v new="$new" '
            index($0, "<!-- section:" id " ") == 1 { while ((getline l < new) > 0) print l; skip = 1; next }
            skip && index($0, "<!-- /section:" id " -->") == 1 { skip = 0; next }
            !skip { print }' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
    else
        { cat "$file"; [[ -n $(tail -c1 "$file") ]] && echo; echo; cat "$new"; } >"$file.tmp" && mv "$file.tmp" "$file"
    fi
}

if [[ $NODE_MODE == cold ]]; then
    [[ $(id -u) == 0 ]] || { echo "run this as root" >&2; exit 1; }
    cold_main
    exit $?
fi

# ---- bench/node.sh load and rtt: bench/run.sh with these targets -------------------------

if [[ $NODE_MODE == rtt ]]; then
    ROUNDS=${ROUNDS:-3}
    DURATION=${DURATION:-4s}
    WARMUP=${WARMUP:-2s}
    CONNECTIONS=${CONNECTIONS:-1}
else
    ROUNDS=${ROUNDS:-3}
fi

# the check of the hook targets: the origin saw the hook's request header (and echoed it to the client)
check_hook() { # headers-file body-file
    grep -qi '^x-origin-saw-hook: 1'$'\r''\?$' "$1" || { log "the origin did not get the hook's request header x-hook: 1"; return 1; }
}
check_no_hook() { # headers-file body-file
    ! grep -qi '^x-origin-saw-hook:' "$1" || { log "the hook's header appears without a hook"; return 1; }
}
start_nginx_plain_checked() { start_nginx_plain "$1"; T_CHECK[$1]=check_no_hook; }
start_edgefn_plain_checked() { start_edgefn_plain "$1"; T_CHECK[$1]=check_no_hook; }

start_nginx_node() { # (c): nginx + auth_request to one node http process
    local id=$1 port hook_port hook_pid
    free_port
    hook_port=$FREE_PORT
    free_port
    port=$FREE_PORT
    cp "$NODE_BENCH_DIR/node/hook_server.js" "$TMP/hook_server.js" || die "no bench/node/hook_server.js"
    start_server "$id-hook" node "$TMP/hook_server.js" "$hook_port"
    hook_pid=$SERVER_PID
    {
        nginx_common "$id"
        cat <<EOF
    upstream origin {
        server 127.0.0.1:$ORIGIN_PORT;
        keepalive 64;
    }
    upstream hook {
        server 127.0.0.1:$hook_port;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            auth_request /_hook;
            auth_request_set \$hook \$upstream_http_x_hook;
            proxy_set_header x-hook \$hook;
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location = /_hook {
            internal;
            proxy_pass http://hook;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI \$request_uri;
        }
    }
}
EOF
    } >"$TMP/$id.conf"
    start_nginx "$id" "$TMP/$id.conf"
    T_PORT[$id]=$port
    T_ROOTS[$id]="$SERVER_PID $hook_pid"
    T_CHECK[$id]=check_hook
}

# the copies edgefn runs: its runtimes next to the binary (as in the build tree), the functions
prepare_functions() {
    [[ -d $TMP/runtimes ]] && return 0
    cp -r "$BUILD_DIR/runtimes" "$TMP/runtimes" || die "no $BUILD_DIR/runtimes"
    mkdir -p "$TMP/node-fn" "$TMP/node-fn-timed" "$TMP/c-fn" "$TMP/fnlogs"
    cp "$NODE_BENCH_DIR/node/fn/index.js" "$TMP/node-fn/" || die "no bench/node/fn/index.js"
    cp "$NODE_BENCH_DIR/node/fn-timed/index.js" "$TMP/node-fn-timed/" || die "no bench/node/fn-timed/index.js"
    command -v cc >/dev/null || die "needs a C compiler for bench/node/bootstrap.c"
    cc -O2 -o "$TMP/c-fn/bootstrap" "$NODE_BENCH_DIR/node/bootstrap.c" 2>"$TMP/logs/bootstrap.cc.log" ||
        die "compiling bench/node/bootstrap.c failed: $(cat "$TMP/logs/bootstrap.cc.log")"
}

start_edgefn_fn() { # id runtime code-dir function-logs
    local id=$1 port
    prepare_functions
    free_port
    port=$FREE_PORT
    cat >"$TMP/$id.yaml" <<EOF
# written by $SCRIPT
threads: 1
listen:
  - port: $port
    address: 127.0.0.1
origins:
  o:
    url: "http://127.0.0.1:$ORIGIN_PORT"
functions:
  hook:
    runtime: $2
    code: $3
    concurrency: { reserved: 1, provisioned: 1 }
    queue-timeout: 10s
behaviors:
  - path: "*"
    origin: o
    viewer-request: hook
access-log: off
function-logs: $4
EOF
    "$EDGEFN" check -c "$TMP/$id.yaml" >"$TMP/logs/$id.check.log" 2>&1 ||
        die "edgefn rejects $TMP/$id.yaml: $(cat "$TMP/logs/$id.check.log")"
    start_server "$id" "$EDGEFN" -c "$TMP/$id.yaml"
    T_PORT[$id]=$port
    T_ROOTS[$id]=$SERVER_PID
    T_CHECK[$id]=check_hook
}
start_edgefn_node() { start_edgefn_fn "$1" nodejs "$TMP/node-fn" off; }
start_edgefn_c() { start_edgefn_fn "$1" provided "$TMP/c-fn" off; }
start_edgefn_node_logged() { start_edgefn_fn "$1" nodejs "$TMP/node-fn-timed" "$TMP/fnlogs"; }

# ---- the suite's own figures (SUITE_NOTES) ------------------------------------------------

p50_of() { # id round -> p50 in µs
    local f
    f=$(wrk_file "$1" "$2")
    [[ -n $f ]] || { echo nan; return; }
    to_us "$(awk '$1 == "50%" { print $2 }' "$f")"
}
declare -A M_P50
p50_table() {
    local id r raw
    echo "| target | median p50 µs | p50 per round (µs) | median p99 µs | median req/s | median server CPU µs/req | proxy's own CPU µs/req (+ its node) |"
    echo "|---|---:|---|---:|---:|---:|---:|"
    for id in "${IDS[@]}"; do
        raw=$(for ((r = 1; r <= ROUNDS; r++)); do p50_of "$id" "$r"; done)
        M_P50[$id]=$(echo "$raw" | median)
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$id" "$(fmt "${M_P50[$id]}")" "$(echo "$raw" | paste -sd' ' | sed 's/ /, /g')" \
            "$(fmt "${M_P99[$id]}" | commas)" "$(fmt "${M_RPS[$id]}" | commas)" "$(fmt "${M_SRV[$id]}" 1)" "$(fmt "${M_OWN[$id]}" 1 | sed 's#n/a#—#')"
    done
}
sub() { awk -v a="$1" -v b="$2" -v d="${3:-1}" 'BEGIN { if (a == "" || b == "" || a == "nan" || b == "nan") print "n/a"; else printf "%.*f\n", d, a - b }'; }
have() { local id; for id in "$@"; do [[ " ${IDS[*]} " == *" $id "* ]] || return 1; done; }

# The breakdown: one more run per target (after the rounds), reading utime, stime and the
# context switches of every server process, per request. Run once; the result is kept.
proc_cs() { # pid -> "voluntary nonvoluntary", summed over its threads
    local t v=0 n=0 k val
    for t in /proc/"$1"/task/*/status; do
        while read -r k val _; do
            case $k in
            voluntary_ctxt_switches:) v=$((v + val)) ;;
            nonvoluntary_ctxt_switches:) n=$((n + val)) ;;
            esac
        done <"$t" 2>/dev/null
    done
    echo "$v $n"
}
proc_ut() { # pid -> "utime stime" in ticks
    local line rest f
    read -r line 2>/dev/null <"/proc/$1/stat" || { echo "0 0"; return; }
    rest=${line##*) }
    read -r -a f <<<"$rest"
    echo "${f[11]} ${f[12]}"
}
proc_role() { # id pid -> a name for the process
    local comm
    read -r comm <"/proc/$2/comm" 2>/dev/null || comm='?'
    if [[ " $ORIGIN_PIDS " == *" $2 "* || " $(descendants $ORIGIN_PIDS | paste -sd' ') " == *" $2 "* ]]; then
        echo "origin ($comm)"
    else
        echo "$comm"
    fi
}
run_breakdown() {
    local id pids p n dur out reqs
    local -A u0 s0 v0 i0
    dur=${BREAKDOWN_DURATION:-4s}
    local BREAKDOWN_MD="| target | process | user µs/req | system µs/req | voluntary switches/req | involuntary switches/req |"$'\n'"|---|---|---:|---:|---:|---:|"
    for id in "${IDS[@]}"; do
        [[ $id == origin ]] && continue
        wait_quiet "$BACKOFF" || true
        pids=$(descendants $ORIGIN_PIDS ${T_ROOTS[$id]})
        for p in $pids; do
            read -r u0[$p] s0[$p] <<<"$(proc_ut "$p")"
            read -r v0[$p] i0[$p] <<<"$(proc_cs "$p")"
        done
        out=$TMP/wrk.$id.breakdown.txt
        taskset -c "$LOAD_CPU" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$dur" "http://127.0.0.1:${T_PORT[$id]}$BODY_PATH" >"$out" 2>&1 &
        WRK_PID=$!
        wait "$WRK_PID"
        WRK_PID=
        reqs=$(awk '/ requests in / { print $1 }' "$out")
        [[ -n $reqs && $reqs -gt 0 ]] || continue
        for p in $pids; do
            local u s v i
            read -r u s <<<"$(proc_ut "$p")"
            read -r v i <<<"$(proc_cs "$p")"
            # skip the processes that did nothing (nginx masters)
            [[ $((u - u0[$p] + s - s0[$p] + v - v0[$p])) -lt 2 ]] && continue
            BREAKDOWN_MD+=$'\n'"$(awk -v id="$id" -v role="$(proc_role "$id" "$p")" -v n="$reqs" -v hz="$CLK_TCK" \
                -v u=$((u - u0[$p])) -v s=$((s - s0[$p])) -v v=$((v - v0[$p])) -v i=$((i - i0[$p])) \
                'BEGIN { printf "| %s | %s | %.1f | %.1f | %.2f | %.2f |", id, role, u * 1e6 / hz / n, s * 1e6 / hz / n, v / n, i / n }')"
        done
        log "breakdown: $id done ($(awk '/^Requests\/sec:/ { print $2 }' "$out") req/s)"
    done
    echo "$BREAKDOWN_MD" >"$TMP/breakdown.md"
}

load_notes() {
    # SUITE_NOTES runs in subshells, twice: the breakdown runs once and is kept in a file
    if [[ ! -e $TMP/breakdown.md && ${BREAKDOWN:-1} == 1 ]]; then
        log "breakdown: one more ${BREAKDOWN_DURATION:-4s} run per target, CPU per process and context switches" >&2
        run_breakdown >&2
    fi
    echo "**Latency and CPU** (medians of the rounds):"
    echo
    p50_table
    echo
    if have edgefn-node nginx-node; then
        printf -- '- **Hook overhead** (server CPU µs/req of the target minus that of its own plain proxy, the origin included in both): nginx + node %s µs; edgefn + nodejs function %s µs; edgefn + C bootstrap %s µs. Against nginx'"'"'s plain proxy, edgefn + nodejs costs %s µs more per request.\n' \
            "$(sub "${M_SRV[nginx-node]}" "${M_SRV[nginx-plain]:-}")" "$(sub "${M_SRV[edgefn-node]}" "${M_SRV[edgefn-plain]:-}")" \
            "$(sub "${M_SRV[edgefn-c]:-}" "${M_SRV[edgefn-plain]:-}")" "$(sub "${M_SRV[edgefn-node]}" "${M_SRV[nginx-plain]:-}")"
    fi
    have edgefn-c nginx-node && printf -- '- edgefn-c / nginx-node (req/s): %s× (not a goal: the same hook with the cheapest runtime there can be, to tell edgefn'"'"'s share from node'"'"'s).\n' \
        "$(awk -v a="${M_RPS[edgefn-c]}" -v b="${M_RPS[nginx-node]}" 'BEGIN { printf "%.3f", a / b }')"
    printf -- '- node: %s (%s).\n' "$(node --version 2>/dev/null)" "$(dpkg-query -W -f='${Package} ${Version}' nodejs 2>/dev/null || echo '?')"
    if [[ -s $TMP/breakdown.md ]]; then
        echo
        echo "**Where the CPU goes, per process** (one more ${BREAKDOWN_DURATION:-4s} run per target after the rounds, same load; utime and"
        echo "stime from /proc/PID/stat, context switches from /proc/PID/task/*/status, all divided by the requests):"
        echo
        cat "$TMP/breakdown.md"
    fi
}

TAB=$'\t'
rtt_notes() {
    local d h
    echo "**Latency at one connection** (medians of the rounds):"
    echo
    p50_table
    echo
    if have edgefn-node edgefn-plain; then
        local paired per
        per=$(for ((r = 1; r <= ROUNDS; r++)); do sub "$(p50_of edgefn-node "$r")" "$(p50_of edgefn-plain "$r")" 0; done)
        paired=$(echo "$per" | median)
        printf -- '- **Warm round trip of the nodejs function, added p50** (edgefn-node − edgefn-plain): **%s µs** (per round, the two run back to back: %s; their median %s µs). Target ≤ 150 µs: %s.\n' \
            "$(sub "${M_P50[edgefn-node]}" "${M_P50[edgefn-plain]}" 0)" "$(echo "$per" | paste -sd' ' | sed 's/ /, /g')" "$(fmt "$paired")" \
            "$(awk -v a="${M_P50[edgefn-node]}" -v b="${M_P50[edgefn-plain]}" 'BEGIN { print (a - b <= 150 ? "meets it" : "misses it") }')"
    fi
    have edgefn-c edgefn-plain &&
        printf -- '- The same with the C bootstrap (edgefn-c − edgefn-plain): %s µs: edgefn'"'"'s side of the round trip with a runtime that costs next to nothing.\n' \
            "$(sub "${M_P50[edgefn-c]}" "${M_P50[edgefn-plain]}" 0)"
    have nginx-node nginx-plain &&
        printf -- '- The peer'"'"'s round trip to its node process (nginx-node − nginx-plain): %s µs.\n' "$(sub "${M_P50[nginx-node]}" "${M_P50[nginx-plain]}" 0)"
    have edgefn-node nginx-node &&
        printf -- '- edgefn-node − nginx-node, p50: %s µs.\n' "$(sub "${M_P50[edgefn-node]}" "${M_P50[nginx-node]}" 0)"
    if have edgefn-node-logged; then
        shopt -s nullglob
        local logs=("$TMP"/fnlogs/*.log)
        shopt -u nullglob
        if [[ ${#logs[@]} -gt 0 ]]; then
            d=$(grep -ho "REPORT RequestId[^$TAB]*${TAB}Duration: [0-9.]* ms" "${logs[@]}" | awk '{ print $(NF - 1) * 1000 }' | median)
            local nd
            nd=$(cat "${logs[@]}" | grep -c 'REPORT RequestId')
            h=$(grep -ho 'HANDLER-TIME n=[0-9]* median_us=[0-9.]*' "${logs[@]}" | sed 's/.*median_us=//' | median)
            local hm
            hm=$(grep -ho 'HANDLER-TIME n=[0-9]* median_us=[0-9.]* mean_us=[0-9.]*' "${logs[@]}" | sed 's/.*mean_us=//' | median)
            printf -- '- **REPORT Duration** of edgefn-node-logged (measured by edgefn from the delivery of the event to the answer; the log prints it in ms with two decimals, so 10 µs steps): median **%s µs** over %s invocations. The **handler'"'"'s own time** (entry to return, measured inside node with process.hrtime, medians of 1000-invocation batches): median %s µs, mean %s µs. **Round trip beyond the handler** (REPORT Duration − handler): %s µs.\n' \
                "$(fmt "$d")" "$nd" "$(fmt "$h" 2)" "$(fmt "$hm" 2)" "$(sub "$d" "$h" 0)"
            have edgefn-node-logged edgefn-node &&
                printf -- '- edgefn-node-logged − edgefn-node, p50: %s µs (the function log: START, END and REPORT lines per invocation, written to a file).\n' \
                    "$(sub "${M_P50[edgefn-node-logged]}" "${M_P50[edgefn-node]}" 0)"
        fi
    fi
}

suite_config() {
    SCRIPT="bench/node.sh $NODE_MODE"
    # bench/run.sh writes into the command only the settings that differ from its own defaults;
    # a setting equal to run.sh's default but not to this mode's goes in front of the script
    local v run_default mode_default
    for v in ROUNDS DURATION WARMUP CONNECTIONS; do
        case $v in
        ROUNDS) run_default=5 mode_default=3 ;;
        DURATION) run_default=10s mode_default=$([[ $NODE_MODE == rtt ]] && echo 4s || echo 10s) ;;
        WARMUP) run_default=5s mode_default=$([[ $NODE_MODE == rtt ]] && echo 2s || echo 5s) ;;
        CONNECTIONS) run_default=50 mode_default=$([[ $NODE_MODE == rtt ]] && echo 1 || echo 50) ;;
        esac
        [[ ${!v} == "$run_default" && ${!v} != "$mode_default" ]] && SCRIPT="$v=${!v} $SCRIPT"
    done
    EXTRA_PACKAGES=(nodejs)
    ORIGIN_SERVER_CONF='        add_header x-origin-saw-hook $http_x_hook;'
    local common
    common="The origin is nginx with 1 worker and \`access_log off\`; it echoes the request header x-hook in a
response header (\`add_header x-origin-saw-hook \$http_x_hook;\`), so that the check request before every
run sees the hook's header arrive at the origin (and the echo reach the client), and sees no hook through
the plain proxies. The nginx proxies have 1 worker, \`upstream { keepalive 64; }\`, \`proxy_http_version 1.1\`,
an empty Connection header and \`access_log off\`. **nginx-node**: \`auth_request /_hook\` to an internal
location proxied (same keep-alive settings, \`proxy_pass_request_body off\`, plus X-Original-URI) to one
node process, bench/node/hook_server.js (node's \`http\` module: it builds \`req.headers\` and answers 200
with \`x-hook: 1\`), then \`auth_request_set \$hook \$upstream_http_x_hook; proxy_set_header x-hook \$hook;\`.
edgefn has \`threads: 1\`, one listener, one url origin, one behavior \`\"*\"\`, \`access-log: off\`.
**edgefn-node**: the viewer-request function bench/node/fn/index.js, \`runtime: nodejs\`, Lambda@Edge style
(\`exports.handler = async (event) => { const request = event.Records[0].cf.request;
request.headers['x-hook'] = [{key: 'X-Hook', value: '1'}]; return request; }\`), with
\`concurrency: { reserved: 1, provisioned: 1 }\` (one environment, as the peer has one node process;
the other requests wait in edgefn's queue, \`queue-timeout: 10s\`), the default memory (128MB) and
\`function-logs: off\`. **edgefn-c**: the same function as \`runtime: provided\` with the C bootstrap
bench/node/bootstrap.c (\`cc -O2\`), same settings. Every process (node and the bootstrap included:
edgefn's children inherit its CPU affinity) is pinned on CPU $SERVER_CPU and counted in the server CPU."
    if [[ $NODE_MODE == rtt ]]; then
        SECTION_ID=node-rtt
        SECTION_TITLE="Process functions, warm round trip: one connection (wrk -c1), p50"
        TARGET_ROWS=(
            "origin              start_origin_direct         direct to origin (nginx, 1 worker, 1 KiB file)"
            "nginx-plain         start_nginx_plain_checked   nginx plain reverse proxy (1 worker, upstream keepalive 64)"
            "nginx-node          start_nginx_node            nginx + auth_request to one Node.js http process that sets x-hook"
            "edgefn-plain        start_edgefn_plain_checked  edgefn plain proxy (threads: 1, access-log: off)"
            "edgefn-node         start_edgefn_node           edgefn + nodejs viewer-request function setting x-hook (one environment)"
            "edgefn-c            start_edgefn_c              edgefn + provided viewer-request function, C bootstrap (one environment)"
            "edgefn-node-logged  start_edgefn_node_logged    edgefn-node with the function timing itself and function-logs to a directory"
        )
        RATIOS=()
        SECTION_CONFIGS="$common **edgefn-node-logged**: edgefn-node with bench/node/fn-timed/index.js (the same
function, timing itself with process.hrtime and logging a summary every 1000 invocations) and
\`function-logs: DIR\`, for the REPORT lines. At one connection nothing is saturated: the figures are
latencies, and req/s is 1 / latency."
        SUITE_NOTES=rtt_notes
        if [[ -z ${RESULTS_FILE+x} && $ROUNDS -ge 3 && $DURATION == 4s && $WARMUP == 2s && $CONNECTIONS == 1 ]]; then
            RESULTS_FILE=$NODE_BENCH_DIR/RESULTS.md
        fi
    else
        SECTION_ID=node-hooks
        SECTION_TITLE="Process functions: edgefn + a nodejs function vs nginx + a Node.js auth_request hook"
        TARGET_ROWS=(
            "origin        start_origin_direct         direct to origin (nginx, 1 worker, 1 KiB file)"
            "nginx-plain   start_nginx_plain_checked   nginx plain reverse proxy (1 worker, upstream keepalive 64)"
            "nginx-node    start_nginx_node            nginx + auth_request to one Node.js http process that sets x-hook"
            "edgefn-plain  start_edgefn_plain_checked  edgefn plain proxy (threads: 1, access-log: off)"
            "edgefn-node   start_edgefn_node           edgefn + nodejs viewer-request function setting x-hook (one environment)"
            "edgefn-c      start_edgefn_c              edgefn + provided viewer-request function, C bootstrap (one environment)"
        )
        RATIOS=(
            "edgefn-node   nginx-node   1.2  a Node.js request-header hook (the floor)"
            "edgefn-node   nginx-node   1.5  a Node.js request-header hook (the aim)"
            "edgefn-plain  nginx-plain  1.0  plain proxy, no functions"
        )
        SECTION_CONFIGS=$common
        SUITE_NOTES=load_notes
    fi
}

# bench/run.sh runs the benchmark with the settings above
source "$NODE_BENCH_DIR/run.sh"
