#!/usr/bin/env bash
# The micro-benchmark regression check: builds this package in release, runs the
# package-benchmark suite (wall clock, throughput, mallocs) and checks it against the committed
# Thresholds/PulseboardMicro.*.p90.json, counts instructions and mallocs under callgrind
# (callgrind.sh) against Thresholds/callgrind.json, prints one table and exits 1 on any
# regression (2 when the check itself could not run).
#
#   bash Benchmarks/Micro/check.sh            # the check
#   bash Benchmarks/Micro/check.sh --update   # rewrite every threshold from this run (after an intended change)
#
# Works from any directory and on a fresh clone. Needs the Debian package valgrind (installed
# when missing and running as root); package-benchmark's MallocInterposer trait needs no
# system package (no jemalloc).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# package-benchmark resolves Thresholds/ against the working directory, not the package.
cd "$here"
update=0
case "${1:-}" in
    "") ;;
    --update) update=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac

# Same hash seed in every run (Dictionary and Set layouts, hence instruction counts).
export SWIFT_DETERMINISTIC_HASHING=1
baseline="micro-check"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fail() { echo "check.sh: $1" >&2; [ -n "${2:-}" ] && [ -f "$2" ] && tail -40 "$2" >&2; exit 2; }

if ! command -v valgrind >/dev/null || [ ! -f /usr/include/valgrind/callgrind.h ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing valgrind..."
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null \
            || fail "apt-get install valgrind failed"
    else
        fail "valgrind is missing (Debian package: valgrind)"
    fi
fi

echo "building Benchmarks/Micro in release..."
start=$SECONDS
swift build -c release >"$tmp/build.log" 2>&1 || fail "release build failed" "$tmp/build.log"
echo "  build: $((SECONDS - start)) s"

echo "running the package-benchmark suite..."
start=$SECONDS
swift package --allow-writing-to-package-directory benchmark baseline update "$baseline" --no-progress --quiet \
    >"$tmp/run.log" 2>&1 || fail "benchmark run failed" "$tmp/run.log"
# This run's p90s, in the thresholds' own format, for the table.
swift package --allow-writing-to-directory "$tmp/p90" benchmark thresholds update "$baseline" --path "$tmp/p90" \
    --no-progress >"$tmp/p90.log" 2>&1 || fail "reading the run's p90 values failed" "$tmp/p90.log"
echo "  suite: $((SECONDS - start)) s"

if [ "$update" = 1 ]; then
    swift package --allow-writing-to-package-directory benchmark thresholds update "$baseline" --no-progress \
        >"$tmp/update.log" 2>&1 || fail "thresholds update failed" "$tmp/update.log"
    grep "^Writing to" "$tmp/update.log" | sed 's/^/  /'
    bash ./callgrind.sh --no-build --update || exit 2
    echo "thresholds updated from this run: review and commit Benchmarks/Micro/Thresholds/"
    exit 0
fi

swift package benchmark thresholds check "$baseline" --no-progress >"$tmp/check.log" 2>"$tmp/check.err"
if grep -q "is WORSE than the defined thresholds" "$tmp/check.log"; then
    suite="regression"
elif grep -q "is BETTER than the defined thresholds" "$tmp/check.log"; then
    suite="improved"
elif grep -q "is EQUAL to the defined thresholds" "$tmp/check.log"; then
    suite="ok"
else
    cat "$tmp/check.log" >&2
    fail "package-benchmark's threshold check did not give a verdict" "$tmp/check.err"
fi

echo "counting instructions and mallocs under callgrind..."
start=$SECONDS
bash ./callgrind.sh --no-build --quiet --rows "$tmp/callgrind.rows"
callgrind=$?
[ "$callgrind" -le 1 ] || fail "callgrind.sh could not run"
echo "  callgrind: $((SECONDS - start)) s"

# The table: this run's p90 against the committed p90 with the tolerances of
# Benchmarks/PulseboardMicro/PulseboardMicro.swift (mirrored here), then the callgrind rows.
python3 - "$tmp/p90" Thresholds "$tmp/callgrind.rows" <<'PY'
import glob, json, os, sys
run_dir, committed_dir, callgrind_rows = sys.argv[1:4]
# metric: (label, how the committed value bounds this run's)
rules = {
    "mallocCountTotal": ("mallocs/op (p90)", lambda t: (t, f"<= {t}")),
    "wallClock": ("ns/op (p90)", lambda t: (t * 4, f"<= {t * 4}")),
    "throughput": ("ops/s (p90)", lambda t: (t / 4, f">= {t // 4}")),
}
rows = []
for path in sorted(glob.glob(os.path.join(run_dir, "PulseboardMicro.*.p90.json"))):
    file = os.path.basename(path)
    name = file[len("PulseboardMicro."):-len(".p90.json")]
    run = json.load(open(path))
    committed_path = os.path.join(committed_dir, file)
    committed = json.load(open(committed_path)) if os.path.exists(committed_path) else {}
    for metric in ("wallClock", "throughput", "mallocCountTotal"):
        label, bound = rules[metric]
        value = run.get(metric)
        if value is None:
            continue
        if metric not in committed:
            rows.append((name, label, value, "-", "-", "NO THRESHOLD"))
            continue
        limit, allowed = bound(committed[metric])
        worse = value < limit if metric == "throughput" else value > limit
        better = value > committed[metric] if metric == "throughput" else value < committed[metric]
        status = "REGRESSION" if worse else ("improved" if better and metric == "mallocCountTotal" else "ok")
        rows.append((name, label, value, committed[metric], allowed, status))
if os.path.exists(callgrind_rows):
    rows += [tuple(line.rstrip("\n").split("\t")) for line in open(callgrind_rows) if line.strip()]
order = ["decode_validate_100", "window_insert_100", "frame_delta_encode", "hub_publish_10k"]
rows.sort(key=lambda r: (order.index(r[0]) if r[0] in order else len(order), r[0]))
print()
print(f"{'benchmark':<22} {'metric':<18} {'value':>12} {'threshold':>12} {'allowed':>14}  status")
print("-" * 90)
for r in rows:
    print(f"{r[0]:<22} {r[1]:<18} {r[2]:>12} {r[3]:>12} {r[4]:>14}  {r[5]}")
print()
PY

status=0
case "$suite" in
    regression)
        echo "package-benchmark: REGRESSION against Thresholds/ (its report follows)"
        sed -n '/Deviations worse than threshold/,$p' "$tmp/check.log" | grep -v "^\[" | head -60
        status=1 ;;
    improved) echo "package-benchmark: better than Thresholds/ (fewer mallocs, or much faster): check.sh --update locks it in" ;;
    ok) echo "package-benchmark: within Thresholds/" ;;
esac
if [ "$callgrind" = 1 ]; then
    echo "callgrind: REGRESSION against Thresholds/callgrind.json"
    status=1
else
    echo "callgrind: within Thresholds/callgrind.json"
fi
[ "$status" = 0 ] && echo "PASS" || echo "FAIL"
exit "$status"
