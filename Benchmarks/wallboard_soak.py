#!/usr/bin/env python3
"""Wallboard memory soak: keep a dashboard open in headless Chromium and watch its memory.

    python3 Benchmarks/wallboard_soak.py [--minutes 30] [--url http://127.0.0.1:8080/d/wallboard?kiosk=1]
                                         [--interval 60] [--bin .build/release/pulseboard] [--csv soak.csv]

With --bin it starts its own `pulseboard serve --demo` (fresh data dir, free port, cwd = repository
root) and opens the URL's path there; otherwise it uses the server already running at --url.
Every --interval seconds it forces a garbage collection and records the JS heap, DOM node and event
listener counts and `__pb.deltas`. After the run it compares the first sample after the warm-up
with the last one: "stable" (exit 0) when the heap grew < 10 % and the nodes < 5 %, else "GROWING"
(exit 1); "STALLED" (exit 1) when no deltas arrived, since an idle page proves nothing.
Standard library only; needs the `chromium` package.
"""
import argparse, csv, os, shutil, sys, tempfile, time, urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "Browser"))
from cdp import Browser  # noqa: E402
from browser_test import Server, free_port  # noqa: E402

COLUMNS = ["minute", "heap_mb", "nodes", "listeners", "deltas", "connection"]


def slope_per_hour(xs_minutes, ys):
    """Least-squares slope of ys against time, per hour."""
    n = len(xs_minutes)
    if n < 2:
        return 0.0
    mx, my = sum(xs_minutes) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs_minutes)
    return 0.0 if sxx == 0 else 60 * sum((x - mx) * (y - my) for x, y in zip(xs_minutes, ys)) / sxx


def growth(first, last):
    return 0.0 if not first else 100.0 * (last - first) / first


def summarize(rows, warmup):
    """Print the verdict for `rows` and return the exit code."""
    if len(rows) < 2:
        print("too few samples for a verdict")
        return 1
    kept = [r for r in rows if r["minute"] >= warmup]
    if len(kept) < 2:
        print(f"(run shorter than the {warmup}-minute warm-up: using every sample)")
        kept = rows
    first, last = kept[0], kept[-1]
    heap_g, nodes_g = growth(first["heap_mb"], last["heap_mb"]), growth(first["nodes"], last["nodes"])
    xs = [r["minute"] for r in kept]
    print(f"\nafter warm-up (minute {first['minute']:.1f} -> {last['minute']:.1f}):")
    print(f"  heap      {first['heap_mb']:8.2f} -> {last['heap_mb']:8.2f} MB  ({heap_g:+.1f} %)  "
          f"max {max(r['heap_mb'] for r in kept):.2f} MB  slope {slope_per_hour(xs, [r['heap_mb'] for r in kept]):+.2f} MB/h")
    print(f"  nodes     {first['nodes']:8d} -> {last['nodes']:8d}     ({nodes_g:+.1f} %)  "
          f"max {max(r['nodes'] for r in kept)}  slope {slope_per_hour(xs, [r['nodes'] for r in kept]):+.1f} /h")
    print(f"  listeners {first['listeners']:8d} -> {last['listeners']:8d}     "
          f"({growth(first['listeners'], last['listeners']):+.1f} %)  max {max(r['listeners'] for r in kept)}")
    print(f"  deltas    {first['deltas']:8d} -> {last['deltas']:8d}")
    if last["deltas"] <= first["deltas"]:
        print("verdict: STALLED (no deltas arrived, so the measurement says nothing)")
        return 1
    if heap_g < 10 and nodes_g < 5:
        print("verdict: stable (heap growth < 10 %, nodes growth < 5 %)")
        return 0
    print("verdict: GROWING (heap growth >= 10 % or nodes growth >= 5 %)")
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30, help="how long to watch (default 30)")
    ap.add_argument("--url", default="http://127.0.0.1:8080/d/wallboard?kiosk=1", help="the page to open")
    ap.add_argument("--interval", type=float, default=60, help="seconds between samples (default 60)")
    ap.add_argument("--warmup", type=float, default=2, help="minutes ignored by the verdict (default 2)")
    ap.add_argument("--bin", help="start this pulseboard executable with --demo instead of using --url's server")
    ap.add_argument("--csv", help="also write the samples to this CSV file")
    args = ap.parse_args()

    url, server, tmp, browser = args.url, None, tempfile.mkdtemp(prefix="pb-soak-"), None
    rows, code = [], 1
    try:
        if args.bin:
            server = Server(str(Path(args.bin).resolve()), free_port(), os.path.join(tmp, "data"),
                            os.path.join(tmp, "server.log"))
            u = urllib.parse.urlsplit(args.url)
            url = urllib.parse.urlunsplit(("http", f"127.0.0.1:{server.port}", u.path, u.query, ""))
            print(f"# starting {server.binary} --demo on port {server.port} (log {server.log_path})", flush=True)
            server.start()
            server.wait_ready(180)
        browser = Browser(1920, 1080, log_path=os.path.join(tmp, "chromium.log"))
        page = browser.new_page()
        page.set_viewport(1920, 1080)
        page.navigate(url, timeout=90)
        page.wait_for("document.body && document.body.dataset.connection === 'live'", 180, 1)
        print(f"# {url} is live; sampling every {args.interval:g} s for {args.minutes:g} min", flush=True)
        print(f"{'minute':>7} {'heap MB':>9} {'nodes':>7} {'listeners':>9} {'deltas':>8}  connection", flush=True)
        t0 = time.monotonic()
        for k in range(int(args.minutes * 60 // args.interval) + 1):
            time.sleep(max(0.0, t0 + k * args.interval - time.monotonic()))
            page.collect_garbage()
            m = page.metrics()
            pb = page.evaluate("({d: (window.__pb && window.__pb.deltas) || 0,"
                               " c: document.body ? document.body.dataset.connection || '' : ''})")
            row = {"minute": round((time.monotonic() - t0) / 60, 2), "heap_mb": round(m["JSHeapUsedSize"] / 2**20, 3),
                   "nodes": int(m["Nodes"]), "listeners": int(m["JSEventListeners"]), "deltas": int(pb["d"]),
                   "connection": pb["c"]}
            rows.append(row)
            print(f"{row['minute']:7.1f} {row['heap_mb']:9.2f} {row['nodes']:7d} {row['listeners']:9d} "
                  f"{row['deltas']:8d}  {row['connection']}", flush=True)
        code = summarize(rows, args.warmup)
        if page.exceptions:
            print(f"{len(page.exceptions)} JavaScript exception(s), first: {page.exceptions[0]}")
    except KeyboardInterrupt:
        print("\ninterrupted")
        code = summarize(rows, args.warmup)
    finally:
        if args.csv and rows:
            with open(args.csv, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=COLUMNS)
                w.writeheader()
                w.writerows(rows)
            print(f"# samples written to {args.csv}")
        if browser:
            browser.close()
        if server:
            server.stop(30)
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
