#!/usr/bin/env bash
# History benchmark (step 3): generates 90 days × 50,000 users of events, replays them into a
# fresh data directory RUNS times (events/s into history), times the executive frame's
# computation in process (`pulseboard bench frame`), then starts a server on that history and
# times the snapshot and the seed 004 reports over HTTP. Prints medians and spreads.
# Usage: Benchmarks/history.sh [DAYS] [USERS]      (defaults 90 50000; RUNS=3, SAMPLES=50)
# PULSEBOARD_BIN overrides the binary and skips the build.
set -euo pipefail

cd "$(dirname "$0")/.."
source Benchmarks/lib.sh

DAYS="${1:-90}"
USERS="${2:-50000}"
RUNS_N="${RUNS:-3}"
SAMPLES_N="${SAMPLES:-50}"
PORT=18090
BASE="http://127.0.0.1:${PORT}"
BIN="${PULSEBOARD_BIN:-.build/release/pulseboard}"
BUILD=1
[[ -n "${PULSEBOARD_BIN:-}" ]] && BUILD=0
unset PULSEBOARD_BIN RUNS SAMPLES
WORK="$(mktemp -d)"
SERVER_PID=""

cleanup() {
    stop_pid "$SERVER_PID" 20 server
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$BUILD" == 1 ]]; then
    echo "building release..." >&2
    swift build -c release --product pulseboard >&2
fi

# median and spread (min–max) of numbers on stdin
stats() { sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2; printf "%.2f (%.2f–%.2f)", m, v[1], v[NR]}'; }

echo "generating ${DAYS} days × ${USERS} users..." >&2
"$BIN" generate --days "$DAYS" --users "$USERS" --out "$WORK/history.ndjson" >&2
EVENTS=$(wc -l < "$WORK/history.ndjson")
BYTES=$(stat -c %s "$WORK/history.ndjson")

rates=()
frame_p99=()
for run in $(seq 1 "$RUNS_N"); do
    rm -rf "$WORK/data"
    start=$(date +%s.%N)
    "$BIN" replay "$WORK/history.ndjson" --data-dir "$WORK/data" > "$WORK/replay.log" 2>&1
    end=$(date +%s.%N)
    rates+=("$(echo "$EVENTS $start $end" | awk '{printf "%.0f", $1 / ($3 - $2)}')")
    echo "replay run $run: ${rates[-1]} events/s" >&2
done

# The executive frame's compute time, in process (no HTTP, no scheduling): 3 runs of 200 frames.
frames=()
for run in 1 2 3; do
    line=$("$BIN" bench frame --data-dir "$WORK/data" --dashboard executive --iterations 200)
    echo "$line" >&2
    frames+=("$(echo "$line" | sed -E 's/.*p50 ([0-9.]+) ms.*/\1/')")
    frame_p99+=("$(echo "$line" | sed -E 's/.*p99 ([0-9.]+) ms.*/\1/')")
done

"$BIN" serve --port "$PORT" --data-dir "$WORK/data" > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
    curl -sf -m 2 "$BASE/ready" > /dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
done

# time_ms URL: SAMPLES request times in ms (after 3 warm-up requests)
time_ms() {
    for _ in 1 2 3; do curl -sf -o /dev/null "$1"; done
    for _ in $(seq 1 "$SAMPLES_N"); do curl -sf -o /dev/null -w '%{time_total}\n' "$1" | awk '{printf "%.3f\n", $1 * 1000}'; done
}
LAST=$(date -u -d yesterday +%Y-%m-%d)
FIRST=$(date -u -d "$((DAYS - 1)) days ago" +%Y-%m-%d)
HOUR_FIRST=$(date -u -d "30 days ago" +%Y-%m-%d)

echo
echo "## History benchmark — $(date -u +%Y-%m-%d), $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "${EVENTS} events (${DAYS} days × ${USERS} users, $((BYTES / 1048576)) MiB NDJSON); medians with (min–max)"
echo
echo "| measure | value |"
echo "|---|---|"
echo "| replay into history, events/s (${#rates[@]} runs) | $(printf '%s\n' "${rates[@]}" | stats) |"
echo "| executive frame compute (bench frame), p50 ms (3 runs) | $(printf '%s\n' "${frames[@]}" | stats) |"
echo "| executive frame compute, p99 ms (3 runs) | $(printf '%s\n' "${frame_p99[@]}" | stats) |"
echo "| executive frame (snapshot over HTTP, curl), ms | $(time_ms "$BASE/api/dashboards/executive/snapshot" | stats) |"
echo "| user-activity report, ${DAYS} days by day, ms | $(time_ms "$BASE/api/analytics/reports/user-activity?start_date=$FIRST&end_date=$LAST&granularity=day" | stats) |"
echo "| user-activity report, ${DAYS} days by week, ms | $(time_ms "$BASE/api/analytics/reports/user-activity?start_date=$FIRST&end_date=$LAST&granularity=week" | stats) |"
echo "| user-activity report, 30 days by hour, ms | $(time_ms "$BASE/api/analytics/reports/user-activity?start_date=$HOUR_FIRST&end_date=$LAST&granularity=hour" | stats) |"
echo "| user-activity report, one user, ${DAYS} days, ms | $(time_ms "$BASE/api/analytics/reports/user-activity?user_id=u-17&start_date=$FIRST&end_date=$LAST&granularity=week" | stats) |"
echo "| ai-spend report (month to date), ms | $(time_ms "$BASE/api/analytics/reports/ai-spend" | stats) |"
