#!/usr/bin/env bash
# Shared helpers for the benchmark scripts (sourced, not run).

# stop_pid PID SECONDS [NAME]: SIGTERM, wait up to SECONDS for a clean exit, then SIGKILL; reaps it.
stop_pid() {
    local pid="$1" seconds="$2" name="${3:-process}"
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 $((seconds * 10))); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "$name did not stop on SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}
