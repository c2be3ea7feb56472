#!/usr/bin/env bash
# Ingest benchmark: builds release, then for each journal write policy starts a fresh server on a
# temporary data directory and runs `pulseboard bench ingest` against it.
# Usage: Benchmarks/ingest.sh [extra `pulseboard bench ingest` options, e.g. --rates 10000,max --duration 5]
# PULSEBOARD_BIN overrides the binary and skips the build (for testing this script).
set -euo pipefail

cd "$(dirname "$0")/.."
source Benchmarks/lib.sh

PORT=18080
BASE="http://127.0.0.1:${PORT}"
BIN="${PULSEBOARD_BIN:-.build/release/pulseboard}"
BUILD=1
[[ -n "${PULSEBOARD_BIN:-}" ]] && BUILD=0
# The server refuses unknown PULSEBOARD_* variables (they are configuration keys).
unset PULSEBOARD_BIN
SERVER_PID=""
BENCH_PID=""
DATA_DIR=""
LOG_FILE=""

stop_server() {
    if [[ -n "$BENCH_PID" ]]; then
        kill -TERM "$BENCH_PID" 2>/dev/null || true
        wait "$BENCH_PID" 2>/dev/null || true
        BENCH_PID=""
    fi
    if [[ -n "$SERVER_PID" ]]; then
        stop_pid "$SERVER_PID" 20 server
        SERVER_PID=""
    fi
    if [[ -n "$DATA_DIR" ]]; then
        rm -rf "$DATA_DIR"
        DATA_DIR=""
    fi
    if [[ -n "$LOG_FILE" ]]; then
        rm -f "$LOG_FILE"
        LOG_FILE=""
    fi
}

trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$BUILD" == 1 ]]; then
    echo "building release..." >&2
    swift build -c release >&2
fi

if curl -sf -m 2 "${BASE}/ready" >/dev/null 2>&1; then
    echo "something is already answering on port ${PORT}; stop it first" >&2
    exit 1
fi

for policy in batched durable; do
    DATA_DIR="$(mktemp -d)"
    LOG_FILE="$(mktemp)"
    echo "starting server (write policy ${policy}, data dir ${DATA_DIR})" >&2
    PULSEBOARD_JOURNAL_WRITE_POLICY="$policy" "$BIN" serve --port "$PORT" --data-dir "$DATA_DIR" >"$LOG_FILE" 2>&1 &
    SERVER_PID=$!

    ready=0
    deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        if curl -sf -m 2 "${BASE}/ready" >/dev/null 2>&1; then
            ready=1
            break
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if [[ "$ready" != 1 ]]; then
        echo "server (write policy ${policy}) did not become ready within 60 s; its log:" >&2
        cat "$LOG_FILE" >&2 || true
        exit 1
    fi

    echo
    echo "== journal write policy: ${policy} =="
    # In the background so that a signal to this script is handled (and cleaned up) at once.
    "$BIN" bench ingest --port "$PORT" "$@" &
    BENCH_PID=$!
    wait "$BENCH_PID"
    BENCH_PID=""

    stop_server
done
