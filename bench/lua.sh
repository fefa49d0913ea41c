#!/usr/bin/env bash
# bench/lua.sh: the Lua quick-path benchmarks.
#
# bench/lua.sh [load]   the load benchmark: a request for a 1 KiB static file
#   (a) sent directly to the origin (nginx, 1 worker),
#   (b) through nginx as a plain reverse proxy (1 worker, upstream keepalive),
#   (c) through nginx + lua-nginx-module (Debian's libnginx-mod-http-lua):
#       rewrite_by_lua adds a request header, header_filter_by_lua a response header,
#   (d) through edgefn as a plain proxy (threads: 1, no functions),
#   (e) through edgefn with the same two hooks as Lua functions (bench/lua/):
#       viewer-request adds a request header, viewer-response a response header,
#   with bench/run.sh's machinery and method (BENCH.md), which this sources: wrk on
#   CPU 0, every server process on CPU 1, a 5 s unrecorded warm-up per target,
#   interleaved rounds, medians, server CPU µs per request from /proc, disturbed runs
#   rejected. The origin echoes the request header it got (x-origin-saw-hook), so the
#   check request before every run sees that the request hook's header reached the
#   origin and that the response hook's header (x-hook-resp) reached the client.
#   Writes the lua-hooks section of bench/RESULTS.md. Settings: as bench/run.sh's
#   (ROUNDS, DURATION, WARMUP, TARGETS="nginx-lua edgefn-lua", ...; see bench/run.sh -h).
#
# bench/lua.sh invoke   the micro-benchmark: bench/lua_invoke (ns per invocation of a
#   trivial Lua function through the runtime interface, pinned on CPU 1), then
#   callgrind's instruction counts per call and a profile of where they go. Writes
#   the lua-invoke section of bench/RESULTS.md. Settings: CALLS=200000 BATCHES=7
#   (the timed run), CG_CALLS=20000 (calls counted under callgrind), RESULTS_FILE.
#
# Usage (as root, on Debian 12):      bench/lua.sh; bench/lua.sh invoke
# Quick smoke test (no RESULTS.md):   ROUNDS=1 DURATION=3s WARMUP=1s bench/lua.sh
#
# Exit status: as bench/run.sh's; for invoke, 0 ok, 1 setup failure, 2 a case failed.

set -uo pipefail

LUA_BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---- bench/lua.sh invoke ------------------------------------------------------------
lua_invoke_main() {
    local repo build cpu calls batches cg_calls results tmp c out rc
    repo=$(cd "$LUA_BENCH_DIR/.." && pwd)
    build=$repo/build-bench
    cpu=${SERVER_CPU:-1}
    calls=${CALLS:-200000}
    batches=${BATCHES:-7}
    cg_calls=${CG_CALLS:-20000}
    if [[ -z ${RESULTS_FILE+x} ]]; then
        if [[ $calls == 200000 && $batches == 7 && $cg_calls == 20000 ]]; then results=$LUA_BENCH_DIR/RESULTS.md; else results=; fi
    else
        results=$RESULTS_FILE
    fi
    command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; return 1; }
    command -v taskset >/dev/null || { echo "needs taskset (util-linux)" >&2; return 1; }
    echo "[bench] building edgefn and bench/lua_invoke (Release) in $build" >&2
    { cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEDGEFN_TESTS=OFF -DEDGEFN_BENCH=ON >/dev/null &&
        cmake --build "$build" -j"$(nproc)" >/dev/null; } || { echo "building failed" >&2; return 1; }
    tmp=$(mktemp -d /tmp/edgefn-lua-invoke.XXXXXX) || return 1
    # copies, so that a rebuild during the run changes nothing
    cp "$build/bench/lua_invoke" "$tmp/" || return 1
    [[ -x $build/bench/lua_invoke_static ]] && cp "$build/bench/lua_invoke_static" "$tmp/"

    local cmd="taskset -c $cpu $tmp/lua_invoke -n $calls -b $batches"
    echo "[bench] $cmd" >&2
    out=$($cmd 2>"$tmp/stderr")
    rc=$?
    echo "$out"
    [[ $rc == 0 ]] || { echo "lua_invoke failed ($rc): $(cat "$tmp/stderr")" >&2; return 2; }

    # instructions per call: callgrind counts only what runs inside timed_calls()
    local -A IR IRS
    for c in 0 a b c; do
        for v in lua_invoke lua_invoke_static; do
            [[ -x $tmp/$v ]] || continue
            taskset -c "$cpu" valgrind --tool=callgrind --toggle-collect=timed_calls --callgrind-out-file="$tmp/cg.$v.$c" \
                "$tmp/$v" -c "$c" -n "$cg_calls" -b 1 -w 1000 >/dev/null 2>"$tmp/cg.$v.$c.log" ||
                { echo "callgrind of $v case $c failed: $(tail -3 "$tmp/cg.$v.$c.log")" >&2; return 2; }
            local ir
            ir=$(awk '/^summary:|^totals:/ { print $2; exit }' "$tmp/cg.$v.$c")
            if [[ $v == lua_invoke ]]; then IR[$c]=$ir; else IRS[$c]=$ir; fi
        done
        echo "[bench] callgrind case $c: $(awk -v t="${IR[$c]}" -v n="$cg_calls" 'BEGIN { printf "%.0f", t / n }') instructions/call" >&2
    done

    per_call() { awk -v t="$1" -v n="$cg_calls" 'BEGIN { printf "%.0f", t / n }'; }
    # a callgrind_annotate listing with Ir per call instead of Ir, the top $3 entries
    profile() { # file inclusive(yes|no) lines
        callgrind_annotate --inclusive="$2" "$1" 2>/dev/null | sed -n '/file:function/,$p' | sed 1,2d |
            awk -v n="$cg_calls" -v max="$3" 'NF >= 3 && $1 ~ /^[0-9,]+$/ {
                ir = $1; gsub(",", "", ir); match($0, /\( *[0-9.]+%\)/); pct = substr($0, RSTART, RLENGTH); gsub(/[() ]/, "", pct)
                fn = $0; sub(/ \[[^]]*\] *$/, "", fn); sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", fn); sub(/^\?\?\?:/, "", fn); sub(/^.*\/[^:]*:/, "", fn)
                if (fn ~ /^(\(below main\)|main|timed_calls|__libc_start|0x)/ ) next
                printf "| %s | %.0f | %s |\n", fn, ir / n, pct; if (++k >= max) exit }'
    }

    # what each stage of an invocation calls: the callees of the functions along the call path, per call
    stages() { # file
        callgrind_annotate --tree=calling "$1" 2>/dev/null | awk -v n="$cg_calls" '
            function name(line,   f) { f = line; sub(/ \[[^]]*\] *$/, "", f); sub(/ \([0-9,]+x\) *$/, "", f); sub(/ +$/, "", f)
                sub(/^.*[*>] +/, "", f); sub(/^\?\?\?:/, "", f); sub(/^.*\/[^:]*:/, "", f); sub(/@@.*/, "", f); return f }
            function ir(line,   v) { v = line; sub(/^ +/, "", v); sub(/ .*/, "", v); gsub(",", "", v); return v }
            function pct(line,   v) { match(line, /\( *[0-9.]+%\)/); v = substr(line, RSTART, RLENGTH); gsub(/[() ]/, "", v); return v }
            BEGIN { norder = split("one_call invoke run push_handler ef_lua_push_event on_event_index on_request_index " \
                                   "on_response_index headers_newindex ef_lua_apply_result apply_headers", order, " ") }
            function stage(f,   base) { base = f; sub(/\..*$/, "", base); for (i = 1; i <= norder; i++) if (order[i] == base) return i; return 0 }
            / \*  / { f = name($0); k = stage(f); if (k) rows[k] = rows[k] sprintf("| %s | (self) | %.0f | %s |\n", f, ir($0) / n, pct($0)); next }
            k && / >   / && pct($0) + 0 >= 0.5 { rows[k] = rows[k] sprintf("| %s | %s | %.0f | %s |\n", f, name($0), ir($0) / n, pct($0)) }
            /^$/ { k = 0 }
            END { for (i = 1; i <= norder; i++) printf "%s", rows[i] }'
    }
    verdict() { # median CPU ns/call of case $1 against 2 µs
        echo "$out" | awk -v c="$1" '$1 == "case" && $2 == c { match($0, /[0-9.]+ ns\/call CPU/); v = substr($0, RSTART, RLENGTH - 12) + 0
            printf "%s %.2f µs (%s)", c, v / 1000, v < 2000 ? "under 2 µs" : "NOT under 2 µs" }'
    }

    local when lua_pkg cpu_model
    when=$(date -u '+%Y-%m-%d %H:%M UTC')
    lua_pkg=$(dpkg-query -W -f='${Version}' liblua5.4-0 2>/dev/null || echo '?')
    cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    local git_rev git_dirty
    git_rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git_dirty=$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ", with uncommitted changes" || true)
    local env=
    [[ $calls != 200000 ]] && env+="CALLS=$calls "
    [[ $batches != 7 ]] && env+="BATCHES=$batches "
    [[ $cg_calls != 20000 ]] && env+="CG_CALLS=$cg_calls "

    section() {
        cat <<EOF
<!-- section:lua-invoke (written by bench/lua.sh invoke; rerunning it replaces this section) -->
## Lua invocation cost: bench/lua_invoke

Measured $when with \`${env}bench/lua.sh invoke\` (from the repository root).

**What:** one call of a trivial Lua function through the runtime interface, as
filters/hook.c makes it (\`ef_lua_runtime.prepare\` once per function, \`thread_init\` once,
then per call an \`ef_event_t\` pointing at the request's headers and an \`ef_invocation_t\` given
to \`ef_lua_runtime.invoke\`). Every call starts from a fresh request: the per-request pool is
cleared and 5 request headers (host, user-agent, accept, accept-encoding, accept-language;
plus 6 response headers for case c) are added to it. Case 0 is that set-up alone; the other
cases include it. The first call of each case is checked (status OK; the header arrived).
- a: viewer-request \`return event.request\` (bench/lua/passthrough.lua)
- b: viewer-request \`event.request.headers["x-hook"] = {value="1"}; return event.request\` (bench/lua/viewer_request.lua)
- c: viewer-response \`event.response.headers["x-hook-resp"] = {value="1"}; return event.response\` (bench/lua/viewer_response.lua)

**Method:** \`taskset -c $cpu lua_invoke -n $calls -b $batches\`: $batches batches of $calls calls per case
after 20,000 untimed calls, median ns per call over the batches (wall clock, and the thread's
CPU time). Instruction counts: \`valgrind --tool=callgrind --toggle-collect=timed_calls lua_invoke
-c CASE -n $cg_calls -b 1 -w 1000\`, the instructions executed inside the timed loop divided by
$cg_calls; they do not depend on the machine's load. \`lua_invoke_static\` is the same program
with Lua linked from liblua5.4.a, whose symbols name Lua's internal functions, for the profile.

**Machine:** $(nproc --all) CPUs, $cpu_model; kernel $(uname -r); Lua 5.4 from Debian ($lua_pkg);
a Release build of edgefn (repository at git $git_rev$git_dirty).

### Results

| case | median ns/call (wall) | min–max over batches | median ns/call (CPU) | instructions/call (callgrind) | same, Lua linked statically |
|---|---:|---:|---:|---:|---:|
$(for c in 0 a b c; do
    echo "$out" | awk -v c="$c" -v ir="$(per_call "${IR[$c]}")" -v irs="${IRS[$c]:+$(per_call "${IRS[$c]}")}" '
        $1 == "case" && $2 == c { what = $0; sub(/^case . /, "", what); sub(/: median.*/, "", what)
            match($0, /median [0-9.]+ ns/); med = substr($0, RSTART + 7, RLENGTH - 10)
            match($0, /min [0-9.]+, max [0-9.]+/); mm = substr($0, RSTART, RLENGTH); gsub(/min |max /, "", mm); sub(/, /, "–", mm)
            match($0, /[0-9.]+ ns\/call CPU/); cpu = substr($0, RSTART, RLENGTH - 12)
            printf "| %s: %s | %s | %s | %s | %s | %s |\n", c, what, med, mm, cpu, ir, (irs == "" ? "—" : irs) }'
done)

Net cost of an invocation (case minus the set-up, case 0), in instructions: a $(per_call $((IR[a] - IR[0]))),
b $(per_call $((IR[b] - IR[0]))), c $(per_call $((IR[c] - IR[0]))).

**Target (issue 3): under 2 µs per trivial invocation.** Median CPU time per call, the set-up included:
$(verdict a); $(verdict b); $(verdict c). The wall-clock and CPU figures move with the machine's load
(and the host's CPU frequency); the instruction counts do not, so compare those between commits.

### Where the instructions go (case b, Lua linked statically; Ir per call)

Along the call path (callees with at least 0.5% of the total, inclusive: a callee and everything it calls;
\`one_call\` is one call of the harness, \`invoke\` is \`ef_lua_runtime.invoke\`, \`run\` its protected part,
\`lua_callk\` under \`run\` the handler itself with the lazy event's metamethods, under \`push_handler\` the
module's top level):

| caller | callee | instructions/call | % |
|---|---|---:|---:|
$(stages "$tmp/cg.lua_invoke_static.b")

Inclusive, top entries (cross-cutting costs such as the collector, \`luaC_step\`, and the allocator, \`on_alloc\`, show here):

| function | instructions/call | % |
|---|---:|---:|
$(profile "$tmp/cg.lua_invoke_static.b" yes 40 | grep -Ev '^\| (one_call|lua_pcallk|luaD_pcall|luaD_rawrunprotected|f_call|luaD_callnoyield|luaD_precall|run|invoke) \|')

Self (the function's own instructions), top entries:

| function | instructions/call | % |
|---|---:|---:|
$(profile "$tmp/cg.lua_invoke_static.b" no 25)

### Where the instructions go (case a, Lua linked statically; Ir per call)

| caller | callee | instructions/call | % |
|---|---|---:|---:|
$(stages "$tmp/cg.lua_invoke_static.a")

Reproduce a profile: \`valgrind --tool=callgrind --toggle-collect=timed_calls build-bench/bench/lua_invoke_static -c b -n 20000 -b 1 -w 1000\`,
then \`callgrind_annotate --inclusive=yes callgrind.out.PID\` (or \`--tree=calling\`).
<!-- /section:lua-invoke -->
EOF
    }
    section >"$tmp/section.md"
    if [[ -n $results ]]; then
        write_section "$results" lua-invoke "$tmp/section.md"
        echo "[bench] wrote the lua-invoke section of $results" >&2
    else
        echo "[bench] not the default settings: RESULTS.md not written (set RESULTS_FILE to force); the section is in $tmp/section.md" >&2
        return 0
    fi
    [[ ${KEEP_TMP:-0} == 1 ]] && echo "[bench] temporary files kept in $tmp" >&2 || rm -rf "$tmp"
    return 0
}

write_section() { # file id new-section-file: replace the section, or append it; keep the others
    local file=$1 id=$2 new=$3
    # the section is written to a temporary file moved into place: that would replace /dev/null, say
    if [[ -e $file && ! -f $file ]]; then
        echo "[bench] $file is not a regular file: the results are not written there" >&2
        return 1
    fi
    if [[ ! -f $file ]]; then
        printf '# edgefn benchmark results\n\n' >"$file"
    fi
    if grep -q "^<!-- section:$id " "$file"; then
        awk -v id="$id" -v new="$new" '
            index($0, "<!-- section:" id " ") == 1 { while ((getline l < new) > 0) print l; skip = 1; next }
            skip && index($0, "<!-- /section:" id " -->") == 1 { skip = 0; next }
            !skip { print }' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
    else
        { cat "$file"; [[ -n $(tail -c1 "$file") ]] && echo; echo; cat "$new"; } >"$file.tmp" && mv "$file.tmp" "$file"
    fi
}

case ${1:-load} in
invoke)
    [[ ${2:-} == -h || ${2:-} == --help ]] && { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0; }
    lua_invoke_main
    exit $?
    ;;
load) shift $(($# > 0 ? 1 : 0)) ;;
-h | --help) ;; # bench/run.sh prints the help (this file's header)
*)
    echo "usage: bench/lua.sh [load | invoke]" >&2
    exit 1
    ;;
esac

# ---- bench/lua.sh load: bench/run.sh with these targets ----------------------------------

# the check of the Lua targets: the origin saw the request hook's header, the client gets the response hook's
check_hooks() { # headers-file body-file
    grep -qi '^x-origin-saw-hook: 1'$'\r''\?$' "$1" || { log "the origin did not get the request hook's header x-hook: 1"; return 1; }
    grep -qi '^x-hook-resp: 1'$'\r''\?$' "$1" || { log "the response has no x-hook-resp: 1 from the response hook"; return 1; }
}
# and of the plain ones: no hook ran
check_no_hooks() { # headers-file body-file
    ! grep -qi '^x-origin-saw-hook:\|^x-hook-resp:' "$1" || { log "a hook's header appears without hooks"; return 1; }
}

start_nginx_lua() { # (c)
    local id=$1 port modules
    free_port
    port=$FREE_PORT
    modules=$("$NGINX" -V 2>&1 | grep -o -- '--modules-path=[^ ]*' | cut -d= -f2)
    modules=${modules:-/usr/lib/nginx/modules}
    {
        nginx_common "$id" "load_module $modules/ndk_http_module.so;
load_module $modules/ngx_http_lua_module.so;"
        cat <<EOF
    upstream origin {
        server 127.0.0.1:$ORIGIN_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            rewrite_by_lua_block { ngx.req.set_header("x-hook", "1") }
            header_filter_by_lua_block { ngx.header["x-hook-resp"] = "1" }
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
    T_CHECK[$id]=check_hooks
}

start_edgefn_lua() { # (e)
    local id=$1 port
    free_port
    port=$FREE_PORT
    # copies, so that an edit during the run changes nothing
    mkdir -p "$TMP/lua"
    cp "$LUA_BENCH_DIR/lua/viewer_request.lua" "$LUA_BENCH_DIR/lua/viewer_response.lua" "$TMP/lua/" || die "no bench/lua/*.lua"
    cat >"$TMP/$id.yaml" <<EOF
# written by bench/lua.sh
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
access-log: off
EOF
    "$EDGEFN" check -c "$TMP/$id.yaml" >"$TMP/logs/$id.check.log" 2>&1 ||
        die "edgefn rejects $TMP/$id.yaml: $(cat "$TMP/logs/$id.check.log")"
    start_server "$id" "$EDGEFN" -c "$TMP/$id.yaml"
    T_PORT[$id]=$port
    T_ROOTS[$id]=$SERVER_PID
    T_CHECK[$id]=check_hooks
}

start_nginx_plain_checked() { start_nginx_plain "$1"; T_CHECK[$1]=check_no_hooks; }
start_edgefn_plain_checked() { start_edgefn_plain "$1"; T_CHECK[$1]=check_no_hooks; }

lua_notes() { # after the ratios: what the two hooks cost each proxy
    local n e
    [[ -n ${M_OWN[nginx-lua]:-} && -n ${M_OWN[nginx-plain]:-} && -n ${M_OWN[edgefn-lua]:-} && -n ${M_OWN[edgefn-plain]:-} ]] || return 0
    n=$(awk -v a="${M_OWN[nginx-lua]}" -v b="${M_OWN[nginx-plain]}" 'BEGIN { printf "%.1f", a - b }')
    e=$(awk -v a="${M_OWN[edgefn-lua]}" -v b="${M_OWN[edgefn-plain]}" 'BEGIN { printf "%.1f", a - b }')
    printf -- '- nginx + lua: Debian libnginx-mod-http-lua %s.\n' "$(dpkg-query -W -f='${Version}' libnginx-mod-http-lua 2>/dev/null || echo '?')"
    printf -- '- **What the two hooks cost** (median proxy'"'"'s own CPU µs/req, with hooks minus plain): nginx + lua %s µs, edgefn %s µs.\n' "$n" "$e"
}

suite_config() {
    SECTION_ID=lua-hooks
    SCRIPT=bench/lua.sh
    SECTION_TITLE="Lua hooks: edgefn vs nginx + lua-nginx-module (a request header and a response header)"
    TARGET_ROWS=(
        "origin        start_origin_direct         direct to origin (nginx, 1 worker, 1 KiB file)"
        "nginx-plain   start_nginx_plain_checked   nginx plain reverse proxy (1 worker, upstream keepalive 64)"
        "nginx-lua     start_nginx_lua             nginx + lua-nginx-module: rewrite_by_lua adds a request header, header_filter_by_lua a response header"
        "edgefn-plain  start_edgefn_plain_checked  edgefn plain proxy (threads: 1, access-log: off)"
        "edgefn-lua    start_edgefn_lua            edgefn + Lua: viewer-request adds a request header, viewer-response a response header"
    )
    RATIOS=(
        "edgefn-lua    nginx-lua    1.05  a Lua request-header hook and a Lua response-header hook (the floor)"
        "edgefn-lua    nginx-lua    1.1   a Lua request-header hook and a Lua response-header hook (the aim)"
        "edgefn-plain  nginx-plain  1.0   plain proxy, no functions"
    )
    EXTRA_PACKAGES=(libnginx-mod-http-lua)
    # the origin echoes the request header the hook added, so that the check request sees it arrive
    ORIGIN_SERVER_CONF='        add_header x-origin-saw-hook $http_x_hook;'
    SECTION_CONFIGS="The origin is nginx with 1 worker and \`access_log off\`; it echoes the request header x-hook
in a response header (\`add_header x-origin-saw-hook \$http_x_hook;\`, absent when x-hook is absent), so that the
check request before every run sees the request hook's header arrive at the origin. The nginx proxies have
1 worker, \`upstream { keepalive 64; }\`, \`proxy_http_version 1.1\`, an empty Connection header and
\`access_log off\`; nginx + lua loads Debian's ndk and lua modules (libnginx-mod-http-lua) and has,
in its location,
\`rewrite_by_lua_block { ngx.req.set_header(\"x-hook\", \"1\") }\` and
\`header_filter_by_lua_block { ngx.header[\"x-hook-resp\"] = \"1\" }\`. edgefn has \`threads: 1\`, one
listener, one url origin, one behavior \`\"*\"\` and \`access-log: off\`; edgefn + Lua also has the
functions bench/lua/viewer_request.lua (\`event.request.headers[\"x-hook\"] = {value = \"1\"}; return event.request\`)
at viewer-request and bench/lua/viewer_response.lua (\`event.response.headers[\"x-hook-resp\"] = {value = \"1\"}; return event.response\`)
at viewer-response, with the defaults of the functions: section (memory 2MB, timeout 5ms). The check
request also sees that neither header appears through the plain proxies."
    SUITE_NOTES=lua_notes
}

# bench/run.sh runs the benchmark with the settings above
source "$LUA_BENCH_DIR/run.sh"
