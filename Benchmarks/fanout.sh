#!/usr/bin/env bash
# Fan-out benchmark: builds release, then for each N and transport (SSE, WebSocket) holds N
# subscribers to the wallboard with `pulseboard bench fanout`, first against a fresh
# `pulseboard serve --demo` (127.0.0.1:18080, a new temp data dir and server per run, so RSS per
# subscriber starts from a clean process), then against nginx + Nchan (Benchmarks/nchan.sh,
# 127.0.0.1:18081, one message a second, also restarted per run). Prints one table at the end.
#
# Client: one `pulseboard bench fanout` per run; up to FANOUT_PER_PROCESS subscribers it holds them
# on one event loop thread, past that it starts worker processes of itself (each one thread, far
# below the 20,000 open files per process), spreading connections over 127.0.0.2, 127.0.0.3, ...
#
# Environment (defaults in brackets):
#   FANOUT_NS [1000 5000 10000 18000]   FANOUT_TRANSPORTS [sse ws]   FANOUT_SERVERS [pulseboard nchan]
#   FANOUT_DURATION [15] measured s     FANOUT_WARMUP [5] s          FANOUT_GRACE [3] s
#   FANOUT_PER_PROCESS [8000]           FANOUT_BASELINE [2] s of idle server CPU sampled first
#   PULSEBOARD_BIN: use this binary and skip the build.
# Extra arguments are passed to every `pulseboard bench fanout`.
set -euo pipefail

cd "$(dirname "$0")/.."
source Benchmarks/nchan.sh

PORT=18080
BIN="${PULSEBOARD_BIN:-.build/release/pulseboard}"
BUILD=1
[[ -n "${PULSEBOARD_BIN:-}" ]] && BUILD=0
# The server refuses unknown PULSEBOARD_* variables.
unset PULSEBOARD_BIN
NS="${FANOUT_NS:-1000 5000 10000 18000}"
TRANSPORTS="${FANOUT_TRANSPORTS:-sse ws}"
SERVERS="${FANOUT_SERVERS:-pulseboard nchan}"
DURATION="${FANOUT_DURATION:-15}"
WARMUP="${FANOUT_WARMUP:-5}"
GRACE="${FANOUT_GRACE:-3}"
PER_PROCESS="${FANOUT_PER_PROCESS:-8000}"
BASELINE="${FANOUT_BASELINE:-2}"
# Room for 18,000 streams: the defaults are 15,000 streams and 16,000 connections.
export PULSEBOARD_PUSH_MAX_STREAMS="${PULSEBOARD_PUSH_MAX_STREAMS:-18000}"
export PULSEBOARD_SERVER_MAX_CONNECTIONS="${PULSEBOARD_SERVER_MAX_CONNECTIONS:-19000}"

SERVER_PID=""
BENCH_PID=""
DATA_DIR=""
LOG_FILE=""
RESULTS="$(mktemp)"

stop_pulseboard() {
    if [[ -n "$SERVER_PID" ]]; then
        stop_pid "$SERVER_PID" 20 server
        SERVER_PID=""
    fi
    [[ -n "$DATA_DIR" ]] && rm -rf "$DATA_DIR"
    [[ -n "$LOG_FILE" ]] && rm -f "$LOG_FILE"
    DATA_DIR=""
    LOG_FILE=""
}

cleanup() {
    if [[ -n "$BENCH_PID" ]]; then
        # Its worker processes exit when their stdin (a pipe from it) closes.
        kill -TERM "$BENCH_PID" 2>/dev/null || true
        wait "$BENCH_PID" 2>/dev/null || true
        BENCH_PID=""
    fi
    stop_pulseboard
    nchan_stop
    rm -f "$RESULTS"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$BUILD" == 1 ]]; then
    echo "building release..." >&2
    swift build -c release >&2
fi

if curl -s -o /dev/null -m 2 "http://127.0.0.1:${PORT}/" 2>/dev/null; then
    echo "something is already answering on port ${PORT}; stop it first" >&2
    exit 1
fi

start_pulseboard() {
    DATA_DIR="$(mktemp -d)"
    LOG_FILE="$(mktemp)"
    "$BIN" serve --port "$PORT" --data-dir "$DATA_DIR" --demo >"$LOG_FILE" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 600); do
        if curl -sf -m 2 "http://127.0.0.1:${PORT}/ready" >/dev/null 2>&1; then
            # Let the demo traffic fill the windows, so the wallboard changes every tick, and
            # wait (up to 30 s) until no new series appear: a new dimension value allocates its
            # rings, and that growth would otherwise be counted as subscriber memory.
            local last="" same=0 series
            for _ in $(seq 1 30); do
                sleep 1
                series="$(curl -sf -m 2 "http://127.0.0.1:${PORT}/metrics" | awk '$1 == "pulseboard_window_series" { print $2 }')"
                if [[ -n "$series" && "$series" == "$last" ]]; then
                    same=$((same + 1))
                    [[ "$same" -ge 3 ]] && break
                else
                    same=0
                fi
                last="$series"
            done
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "pulseboard did not become ready; its log:" >&2
    cat "$LOG_FILE" >&2 || true
    return 1
}

# run_bench LABEL PORT PID N TRANSPORT [options...]: appends one TSV row to $RESULTS.
run_bench() {
    local label="$1" port="$2" pid="$3" n="$4" transport="$5"
    shift 5
    echo "== ${label} ${transport} N=${n} ==" >&2
    "$BIN" bench fanout --label "$label" --port "$port" --server-pid "$pid" --subscribers "$n" \
        --transport "$transport" --duration "$DURATION" --warmup "$WARMUP" --grace "$GRACE" \
        --baseline "$BASELINE" --per-process "$PER_PROCESS" --format tsv "$@" >>"$RESULTS" &
    BENCH_PID=$!
    if ! wait "$BENCH_PID"; then
        echo "bench failed: ${label} ${transport} N=${n}" >&2
        printf '%s\t%s\t%s\t0\t-\t-\t-\tfailed\t-\t-\t-\t-\t-\t-\n' "$label" "$transport" "$n" >>"$RESULTS"
    fi
    BENCH_PID=""
    tail -n 1 "$RESULTS" | tr '\t' ' ' >&2
}

for server in $SERVERS; do
    for n in $NS; do
        for transport in $TRANSPORTS; do
            case "$server" in
            pulseboard)
                start_pulseboard
                run_bench pulseboard "$PORT" "$SERVER_PID" "$n" "$transport" "$@"
                stop_pulseboard
                ;;
            nchan)
                nchan_start
                sleep 1
                run_bench nchan "$NCHAN_PORT" "$(nchan_worker_pid)" "$n" "$transport" --path /sub "$@"
                nchan_stop
                ;;
            *)
                echo "unknown server $server" >&2
                exit 2
                ;;
            esac
            # Let the closed connections' TIME_WAIT states and the server's memory settle.
            sleep 1
        done
    done
done

echo
echo "Fan-out: wallboard deltas (~1/s), ${DURATION} s measured after ${WARMUP} s warmup; latency = arrival - frame ts."
echo "CPU µs/dlv = server CPU time in the window / deliveries; net = the same less the idle (pre-connect) CPU rate."
echo "RSS KiB/sub = (server RSS at the window's end - RSS before connecting) / connected subscribers."
echo "p99 ratio and CPU ratio = pulseboard / nchan for the same N and transport (< 1: pulseboard is better)."
echo
awk -F'\t' '
    { key = $3 "/" $2; row[NR] = $0; label[NR] = $1; k[NR] = key
      if ($1 == "nchan") { np99[key] = $6; ncpu[key] = $12 } }
    function ratio(a, b) { return (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
    END {
        fmt = "%-10s  %-4s  %6s  %6s  %7s  %7s  %7s  %-26s  %6s  %8s  %8s  %10s  %10s  %11s  %9s  %9s\n"
        printf fmt, "server", "tr", "N", "ready", "p50 ms", "p99 ms", "max ms", "delivered/expected", "errors", "CPU %", "idle %", "µs/dlv", "net µs/dlv", "RSS KiB/sub", "p99 ratio", "CPU ratio"
        for (i = 1; i <= NR; i++) {
            split(row[i], c, "\t")
            r1 = "-"; r2 = "-"
            if (label[i] == "pulseboard" && (k[i] in np99)) { r1 = ratio(c[6], np99[k[i]]); r2 = ratio(c[12], ncpu[k[i]]) }
            printf fmt, c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13], c[14], r1, r2
        }
    }' "$RESULTS"
