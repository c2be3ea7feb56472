#!/usr/bin/env bash
# Python peer for the fan-out benchmark: Benchmarks/python_peer.py, a uvicorn + Starlette
# broadcaster (one process, one asyncio loop, 127.0.0.1 only) that pushes one JSON message a second
# carrying "seq" and "ts" (RFC 3339, ms, UTC: the time it was made), padded to the size of a
# Pulseboard wallboard delta, to every subscriber: SSE at /sub (sse-starlette), WebSocket at /ws.
#
#   Benchmarks/python_peer.sh           run until Ctrl-C (subscribe: curl -N 127.0.0.1:18082/sub)
#   source Benchmarks/python_peer.sh    helpers for other scripts: python_peer_start (sets
#                                       PYTHON_PEER_PID), python_peer_stop (the caller traps EXIT
#                                       and calls python_peer_stop)
#
# Environment: PYTHON_PEER_PORT (18082), PYTHON_PEER_PAYLOAD_BYTES (240), PYTHON_PEER_PYTHON
# (python3). Installs uvicorn, sse-starlette and websockets (uvicorn's WebSocket protocol) with
# pip only if they are missing.

PYTHON_PEER_PORT="${PYTHON_PEER_PORT:-18082}"
PYTHON_PEER_PAYLOAD_BYTES="${PYTHON_PEER_PAYLOAD_BYTES:-240}"
PYTHON_PEER_PYTHON="${PYTHON_PEER_PYTHON:-python3}"
PYTHON_PEER_PID=""
PYTHON_PEER_LOG=""
_PYTHON_PEER_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$_PYTHON_PEER_HERE/lib.sh"

python_peer_install() {
    if "$PYTHON_PEER_PYTHON" -c 'import uvicorn, sse_starlette, websockets' >/dev/null 2>&1; then
        return 0
    fi
    echo "installing uvicorn, sse-starlette and websockets..." >&2
    "$PYTHON_PEER_PYTHON" -m pip install uvicorn sse-starlette websockets >&2
    "$PYTHON_PEER_PYTHON" -c 'import uvicorn, sse_starlette, websockets' >/dev/null 2>&1 || {
        echo "uvicorn, sse-starlette or websockets is still missing" >&2
        return 1
    }
}

python_peer_start() {
    python_peer_install || return 1
    if curl -s -o /dev/null -m 2 "http://127.0.0.1:${PYTHON_PEER_PORT}/" 2>/dev/null; then
        echo "something is already answering on port ${PYTHON_PEER_PORT}; stop it first" >&2
        return 1
    fi
    PYTHON_PEER_LOG="$(mktemp /tmp/python-peer.XXXXXX)"
    PYTHON_PEER_PORT="$PYTHON_PEER_PORT" PYTHON_PEER_PAYLOAD_BYTES="$PYTHON_PEER_PAYLOAD_BYTES" \
        "$PYTHON_PEER_PYTHON" -u "${_PYTHON_PEER_HERE}/python_peer.py" "$PYTHON_PEER_PORT" >"$PYTHON_PEER_LOG" 2>&1 &
    PYTHON_PEER_PID=$!
    local up=0
    for _ in $(seq 1 100); do
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://127.0.0.1:${PYTHON_PEER_PORT}/health" 2>/dev/null)" == 200 ]]; then
            up=1
            break
        fi
        kill -0 "$PYTHON_PEER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ "$up" != 1 ]]; then
        echo "python_peer did not start; its log:" >&2
        cat "$PYTHON_PEER_LOG" >&2 2>/dev/null || true
        python_peer_stop
        return 1
    fi
    echo "python_peer: pid ${PYTHON_PEER_PID}, 127.0.0.1:${PYTHON_PEER_PORT} (/sub SSE, /ws WebSocket), log ${PYTHON_PEER_LOG}" >&2
}

python_peer_stop() {
    if [[ -n "$PYTHON_PEER_PID" ]]; then
        # SIGTERM is uvicorn's graceful shutdown; with thousands of streams open the loop can take
        # several seconds to close them all.
        stop_pid "$PYTHON_PEER_PID" 30 python_peer
        PYTHON_PEER_PID=""
    fi
    if [[ -n "$PYTHON_PEER_LOG" ]]; then
        # Its last line sums up the run (ticks, late starts, subscribers dropped as slow).
        grep -v '^python_peer: listening' "$PYTHON_PEER_LOG" >&2 2>/dev/null || true
        rm -f "$PYTHON_PEER_LOG"
        PYTHON_PEER_LOG=""
    fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    trap python_peer_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    python_peer_start
    echo "broadcasting every second; Ctrl-C stops" >&2
    wait "$PYTHON_PEER_PID"
fi
