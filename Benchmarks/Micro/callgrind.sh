#!/usr/bin/env bash
# Instructions and mallocs per operation of each micro workload, counted by callgrind over a
# fixed number of operations, against the committed Thresholds/callgrind.json. Exits 1 on a
# regression (instructions more than instructions_tolerance_pct over the threshold, or more
# mallocs per operation than the threshold plus mallocs_tolerance_per_op), 2 on a usage or
# setup error, 0 otherwise.
#
#   bash Benchmarks/Micro/callgrind.sh                 # check every workload
#   bash Benchmarks/Micro/callgrind.sh hub_publish_10k # check one
#   bash Benchmarks/Micro/callgrind.sh --update        # rewrite the thresholds from this run
#
# Options: --no-build (use the built micro-workload as is), --rows FILE (also write the
# results as tab-separated table rows, for check.sh), --quiet (no table).
#
# Why callgrind: this VM has no hardware counters (`perf stat -e instructions` says
# <not supported>), and callgrind's counts are the same in every run of the same binary and
# inputs, whatever else the machine is doing. Only `run()` is counted: micro-workload starts
# instrumentation after setup, stops it during each `prepare()` and collects only around
# `run()` (client requests). The malloc count is the mean over all operations, where
# package-benchmark checks a p90.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
thresholds="Thresholds/callgrind.json"
update=0 build=1 quiet=0 rows="" only=()
while [ $# -gt 0 ]; do
    case "$1" in
        --update) update=1 ;;
        --no-build) build=0 ;;
        --quiet) quiet=1 ;;
        --rows) rows="$2"; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "callgrind.sh: unknown option $1" >&2; exit 2 ;;
        *) only+=("$1") ;;
    esac
    shift
done

# valgrind (its Debian package also ships the callgrind.h header micro-workload is built with).
if ! command -v valgrind >/dev/null || [ ! -f /usr/include/valgrind/callgrind.h ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "callgrind.sh: installing valgrind" >&2
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
    else
        echo "callgrind.sh: valgrind is missing (Debian package: valgrind)" >&2
        exit 2
    fi
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [ "$build" = 1 ]; then
    if ! swift build -c release --product micro-workload >"$tmp/build.log" 2>&1; then
        cat "$tmp/build.log" >&2
        exit 2
    fi
fi
bin="$(swift build -c release --show-bin-path)/micro-workload"
[ -x "$bin" ] || { echo "callgrind.sh: $bin is not built" >&2; exit 2; }
# valgrind 3.19 cannot read the DWARF 5 debug info Swift 6.3 writes; the symbols are enough.
objcopy --strip-debug "$bin" "$tmp/micro-workload"

# Workloads and iteration counts: the committed file's, else these defaults (whole passes
# over each workload's input cycle: 256 batches, 16 frame pairs).
list="$(python3 - "$thresholds" "${only[@]+"${only[@]}"}" <<'PY'
import json, os, sys
path, only = sys.argv[1], sys.argv[2:]
defaults = {"decode_validate_100": 256, "window_insert_100": 256, "frame_delta_encode": 32, "hub_publish_10k": 20}
committed = json.load(open(path))["workloads"] if os.path.exists(path) else {}
for n in only or list(committed) or list(defaults):
    it = committed.get(n, {}).get("iterations", defaults.get(n))
    if it is None:
        sys.exit(f"callgrind.sh: unknown workload {n}")
    print(n, it)
PY
)" || exit 2

while read -r name iterations; do
    log="$tmp/$name.log"
    if ! SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --instr-atstart=no --collect-atstart=no \
        --callgrind-out-file="$tmp/$name.callgrind" "$tmp/micro-workload" "$name" "$iterations" >"$log" 2>&1; then
        cat "$log" >&2
        echo "callgrind.sh: $name failed under valgrind" >&2
        exit 2
    fi
    collected="$(sed -n 's/^==[0-9]*== Collected : \([0-9][0-9]*\)$/\1/p' "$log")"
    if [ -z "$collected" ] || [ "$collected" = 0 ]; then
        cat "$log" >&2
        echo "callgrind.sh: nothing collected for $name (micro-workload built without valgrind's headers? rebuild it)" >&2
        exit 2
    fi
    echo "$name $iterations $collected $tmp/$name.callgrind" >>"$tmp/results"
done <<<"$list"

python3 - "$thresholds" "$tmp/results" "$update" "$quiet" "$rows" <<'PY'
import json, os, re, sys
path, results, update, quiet, rows = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1", sys.argv[5]

ALLOCATORS = {"malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc"}
FN = re.compile(r"^c?fn=\((\d+)\)(?: (.*))?$")

def allocations(profile):
    """Calls into the allocator recorded in a callgrind profile (calls between allocator
    functions, such as realloc(NULL) calling malloc, not counted twice)."""
    names, caller, callee_is_allocator, total = {}, None, False, 0
    for line in open(profile):
        m = FN.match(line.rstrip("\n"))
        if m:
            if m.group(2) is not None:
                names[m.group(1)] = m.group(2)
            name = names.get(m.group(1), "").split("'")[0]
            if line.startswith("fn="):
                caller, callee_is_allocator = name, False
            else:
                callee_is_allocator = name in ALLOCATORS and caller not in ALLOCATORS
        elif line.startswith("calls="):
            if callee_is_allocator:
                total += int(line[6:].split()[0])
            callee_is_allocator = False
        elif not line.startswith(("cob=", "cfi=", "cfl=")):
            callee_is_allocator = False
    return total

doc = json.load(open(path)) if os.path.exists(path) else {
    "comment": "Per run() of each micro workload under callgrind, the mean over `iterations` operations "
               "(callgrind.sh). Deterministic for a given binary; after an intended change, "
               "`bash check.sh --update` (or `bash callgrind.sh --update`) rewrites it.",
    "instructions_tolerance_pct": 10,
    "mallocs_tolerance_per_op": 0,
    "workloads": {},
}
measured = {}
for line in open(results):
    name, iterations, collected, profile = line.split()
    n = int(iterations)
    measured[name] = (n, round(int(collected) / n), round(allocations(profile) / n, 2))

if update:
    for name, (n, instructions, mallocs) in measured.items():
        doc["workloads"][name] = {"iterations": n, "instructions_per_op": instructions, "mallocs_per_op": mallocs}
        print(f"{name}: {instructions} instructions, {mallocs} mallocs per operation -> {path}")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    sys.exit(0)

tolerance = float(doc.get("instructions_tolerance_pct", 10))
malloc_slack = float(doc.get("mallocs_tolerance_per_op", 0))
out, regressed = [], False
for name, (n, instructions, mallocs) in measured.items():
    committed = doc["workloads"].get(name)
    if committed is None:
        out.append((name, "instructions/op", instructions, "-", "-", "NO THRESHOLD"))
        regressed = True
        continue
    t = committed["instructions_per_op"]
    limit = round(t * (1 + tolerance / 100))
    status = "REGRESSION" if instructions > limit else "improved" if instructions < t * (1 - tolerance / 100) else "ok"
    regressed |= status == "REGRESSION"
    out.append((name, "instructions/op", instructions, t, f"<= {limit}", status))
    t = committed["mallocs_per_op"]
    limit = round(t + malloc_slack, 2)
    status = "REGRESSION" if mallocs > limit + 0.001 else "improved" if mallocs < t - 0.001 else "ok"
    regressed |= status == "REGRESSION"
    out.append((name, "mallocs/op (mean)", f"{mallocs:g}", f"{t:g}", f"<= {limit:g}", status))
if rows:
    with open(rows, "w") as f:
        for r in out:
            f.write("\t".join(str(c) for c in r) + "\n")
if not quiet:
    print(f"{'benchmark':<22} {'metric':<18} {'value':>12} {'threshold':>12} {'allowed':>14}  status")
    for r in out:
        print(f"{r[0]:<22} {r[1]:<18} {r[2]:>12} {r[3]:>12} {r[4]:>14}  {r[5]}")
sys.exit(1 if regressed else 0)
PY
