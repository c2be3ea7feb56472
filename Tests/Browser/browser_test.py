#!/usr/bin/env python3
"""End-to-end browser test of the Pulseboard frontend in headless Chromium (stdlib only).

    python3 Tests/Browser/browser_test.py --bin .build/debug/pulseboard --out /tmp/browser-test

Starts `<bin> serve --demo` on a free port with a fresh data dir (cwd = repository root), drives
the pages through the Chrome DevTools Protocol (cdp.py) and leaves screenshots and server.log in
--out. Each step prints `ok - <step>`; the first failing step prints `not ok - <step>: <why>`,
saves a FAILED-*.png of the page it was on and the test exits 1.
"""
import argparse, atexit, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time
import urllib.error, urllib.request
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cdp import Browser  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = ["executive", "engagement", "wallboard", "ai-performance"]

# One look at a dashboard page: connection state, __pb counters and every widget's state.
STATE_JS = r"""(() => {
  const bad = t => !t || t === '–' || t === '—' || t === '-' || t.includes('NaN') || t.includes('undefined');
  const widgets = [...document.querySelectorAll('.widget')].map(w => {
    const v = w.querySelector('.widget-value');
    return {id: w.dataset.widget, kind: w.dataset.kind, updated: w.dataset.updated || null,
            value: v ? v.textContent.trim() : null};
  });
  const stats = widgets.filter(w => w.kind === 'stat');
  const pb = window.__pb || {};
  return {connection: document.body ? document.body.dataset.connection || null : null,
          deltas: typeof pb.deltas === 'number' ? pb.deltas : null, seq: pb.seq ?? null,
          stats_ok: stats.length > 0 && stats.every(w => !bad(w.value)),
          blank: stats.filter(w => bad(w.value)).map(w => w.id + '=' + JSON.stringify(w.value)),
          widgets, visibility: document.visibilityState};
})()"""

# The text around the first 'NaN' / 'undefined' shown anywhere on the page, or null.
NAN_JS = r"""(() => { const t = document.body ? document.body.innerText : '';
  const i = t.search(/NaN|undefined/); return i < 0 ? null : t.slice(Math.max(0, i - 60), i + 60); })()"""


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


class Server:
    """`pulseboard serve --demo` as a child process in its own process group."""

    def __init__(self, binary, port, data_dir, log_path, public=None):
        self.binary, self.port, self.data_dir, self.log_path = binary, port, data_dir, log_path
        self.extra = ["--public", public] if public else []
        self.proc, self.base = None, f"http://127.0.0.1:{port}"

    def start(self):
        log = open(self.log_path, "ab")
        log.write(f"\n==== start {time.strftime('%H:%M:%S')} ====\n".encode())
        log.flush()
        self.proc = subprocess.Popen([self.binary, "serve", "--demo", "--port", str(self.port),
                                      "--data-dir", self.data_dir, *self.extra], cwd=REPO, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def wait_ready(self, timeout=120):
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"server exited with {self.proc.returncode} before /ready; log tail:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base + "/ready", timeout=5) as r:
                    if r.status == 200:
                        return
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code}"
            except OSError as e:
                last = str(e)
            time.sleep(0.5)
        raise Failure(f"GET /ready not 200 within {timeout} s (last: {last})")

    def terminate(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self, timeout=30):
        """SIGTERM and wait; SIGKILL (and return None) if it does not exit in time."""
        if not self.proc:
            return 0
        self.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            return None

    def log_tail(self, n=3000):
        try:
            return Path(self.log_path).read_text(errors="replace")[-n:]
        except OSError:
            return ""


class Test:
    def __init__(self, args):
        self.args, self.out = args, Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        for stale in self.out.glob("FAILED-*.png"):
            stale.unlink()
        self.tmp = tempfile.mkdtemp(prefix="pb-browser-test-")
        self.server = Server(str(Path(args.bin).resolve()), free_port(), os.path.join(self.tmp, "data"),
                             str(self.out / "server.log"), args.public)
        self.browser, self.page, self.all_pages, self.t0 = None, None, [], time.monotonic()
        self.passed = self.failed = 0

    def url(self, path):
        return self.server.base + path

    def cleanup(self):
        if self.browser:
            self.browser.close()
            self.browser = None
        if self.server.proc and self.server.proc.poll() is None:
            self.server.stop(20)
        shutil.rmtree(self.tmp, ignore_errors=True)

    @contextmanager
    def step(self, name):
        t = time.monotonic()
        try:
            yield
        except Exception as e:  # noqa: BLE001 - every failure becomes a readable "not ok"
            self.failed += 1
            print(f"not ok - {name}: {type(e).__name__}: {e}", flush=True)
            self.dump_failure(name)
            raise Failure(name) from e
        self.passed += 1
        print(f"ok - {name} ({time.monotonic() - t:.1f} s)", flush=True)

    def dump_failure(self, name):
        if not self.page:
            return
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
        try:
            print(f"#   page state: {json.dumps(self.page.evaluate(STATE_JS, timeout=10))[:2000]}")
            self.page.screenshot(str(self.out / f"FAILED-{slug}.png"), 1920, 1080, timeout=20)
        except Exception as e:  # noqa: BLE001
            print(f"#   (no failure screenshot: {e})")
        for c in self.page.console[-15:]:
            print(f"#   console.{c['type']}: {c['text'][:300]}")

    def open(self, path, page=None):
        self.page = page or self.page
        self.page.navigate(self.url(path), timeout=90)
        return self.page

    def state(self, page=None):
        return (page or self.page).evaluate(STATE_JS)

    def wait_live_with_values(self, timeout=120):
        self.page.wait_for("document.body && document.body.dataset.connection === 'live'", timeout, 0.5)
        self.page.wait_for(f"{STATE_JS}.stats_ok", timeout, 0.5, what="every stat widget to show a value")
        if (nan := self.page.evaluate(NAN_JS)) is not None:
            raise Failure(f"page text shows NaN/undefined: …{nan}…")

    def watch(self, until, timeout, what, blanks=None):
        """Sample STATE_JS every 0.5 s until until(state); collect samples with blank stats in `blanks`."""
        deadline, state = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            state = self.state()
            if blanks is not None and not state["stats_ok"]:
                blanks.append((round(time.monotonic() - self.t0, 1), state["connection"], state["blank"]))
            if until(state):
                return state
            time.sleep(0.5)
        raise Failure(f"timed out after {timeout} s waiting for {what}; last state: {json.dumps(state)[:1500]}")

    # ---- steps ---------------------------------------------------------------------------------------

    def run(self):
        with self.step("server ready"):
            self.server.start()
            self.server.wait_ready(120)
        with self.step("browser started"):
            self.browser = Browser(1280, 800, log_path=str(self.out / "chromium.log"))
            self.page = self.browser.new_page()
            self.all_pages.append(self.page)

        with self.step("dashboard list shows every dashboard"):
            self.open("/")
            cards = " && ".join(f"!!document.querySelector('.dashboard-card[data-dashboard=\"{d}\"]')"
                                for d in DASHBOARDS)
            self.page.wait_for(f"document.querySelectorAll('.dashboard-card').length >= 4 && {cards}", 60, 0.5,
                               describe="[...document.querySelectorAll('.dashboard-card')].map(c => c.dataset.dashboard)")
            self.page.screenshot(str(self.out / "index.png"), 1280, 800)

        with self.step("engagement goes live and applies deltas"):
            self.open("/d/engagement")
            self.wait_live_with_values()
            before = self.state()
            updated = {w["id"]: w["updated"] for w in before["widgets"]}
            after = self.watch(lambda s: (s["deltas"] or 0) >= (before["deltas"] or 0) + 3 and any(
                w["updated"] != updated.get(w["id"]) for w in s["widgets"]), 60,
                "__pb.deltas +3 and a changed data-updated")
            changed = sum(a["value"] != b["value"] for a, b in zip(after["widgets"], before["widgets"]))
            print(f"#   deltas {before['deltas']} -> {after['deltas']}, {changed} widget value(s) changed")
            units = self.page.evaluate(
                "[1, 2, 1.5].map(v => PB.format.value(v, {unit: 'events', compact: true}))"
                ".concat([PB.format.value(1, {unit: 'queries'}), PB.format.value(1, {unit: 'ms'}), PB.format.value(1, {unit: 'tokens/s'})])")
            expected = ["1 event", "2 events", "1.50 events", "1 query", "1 ms", "1 tokens/s"]
            if units != expected:
                raise Failure(f"unit labels {units}, expected {expected}")
            self.page.screenshot(str(self.out / "engagement.png"), 1920, 1080)

        with self.step("executive shows KPIs on desktop and phone"):
            self.open("/d/executive")
            self.wait_live_with_values(150)   # the executive snapshot needs the seeded history
            self.page.screenshot(str(self.out / "executive-1920.png"), 1920, 1080)
            self.page.screenshot(str(self.out / "executive-phone.png"), 390, 844, mobile=True, scale=2, full_page=True)
            self.page.set_viewport(1920, 1080)

        with self.step("wallboard kiosk mode"):
            self.open("/d/wallboard?kiosk=1")
            self.wait_live_with_values()
            if not self.page.evaluate("document.body.classList.contains('kiosk')"):
                raise Failure("?kiosk=1 did not put class 'kiosk' on <body>")
            self.page.screenshot(str(self.out / "wallboard-kiosk.png"), 1920, 1080)

        with self.step("reconnects after a server restart"):
            self.open("/d/engagement")
            self.wait_live_with_values()
            blanks = []
            self.server.terminate()
            self.watch(lambda s: s["connection"] == "reconnecting", 15, "connection 'reconnecting' after SIGTERM",
                       blanks)
            code = self.server.stop(30)
            print(f"#   server exited with {code} after SIGTERM")
            outage_end = time.monotonic() + 3          # stay down a moment, sampling what the page shows
            self.watch(lambda s: time.monotonic() >= outage_end, 10, "the outage", blanks)
            self.server.start()

            def live_again(s):
                if self.server.proc.poll() is not None:
                    raise Failure(f"restarted server exited with {self.server.proc.returncode}; log tail:\n"
                                  f"{self.server.log_tail()}")
                return s["connection"] == "live"
            self.watch(live_again, 120, "connection 'live' after the restart", blanks)
            base = self.state()["deltas"] or 0
            self.watch(lambda s: (s["deltas"] or 0) > base, 60, "__pb.deltas to grow after the restart", blanks)
            if blanks:
                raise Failure(f"{len(blanks)} sample(s) showed blank stat values, e.g. {blanks[:3]}")
            self.server.wait_ready(30)

        with self.step("seven tabs all receive deltas"):
            paths = ["/d/engagement", "/d/executive", "/d/wallboard", "/d/ai-performance",
                     "/d/engagement?x=2", "/d/executive?x=2", "/d/wallboard?x=2"]
            tabs = []

            def states(which):
                return "; ".join(f"{p}: {json.dumps({k: self.state(t)[k] for k in ('connection', 'deltas', 'visibility')})}"
                                 for p, t in which)
            for p in paths:
                tabs.append((p, self.browser.new_page()))
                self.all_pages.append(tabs[-1][1])
                self.page = tabs[0][1]          # a failure screenshot of a tab that loads
                try:
                    tabs[-1][1].navigate(self.url(p), timeout=60)
                except TimeoutError:
                    raise Failure(f"tab {len(tabs)} ({p}) did not load within 60 s: do the other tabs' streams "
                                  f"hold all 6 HTTP/1.1 connections? Others: {states(tabs[:-1])}") from None
            start = {}
            deadline = time.monotonic() + 120
            while len(start) < len(tabs) and time.monotonic() < deadline:
                for p, t in tabs:
                    if p not in start:
                        s = self.state(t)
                        if s["connection"] == "live" and s["deltas"] is not None:
                            start[p] = s["deltas"]
                time.sleep(0.5)
            if len(start) < len(tabs):
                raise Failure("not live within 120 s: " + states([(p, t) for p, t in tabs if p not in start]))
            grown, deadline = set(), time.monotonic() + 60
            while len(grown) < len(tabs) and time.monotonic() < deadline:
                for p, t in tabs:
                    if p not in grown and (self.state(t)["deltas"] or 0) > start[p]:
                        grown.add(p)
                time.sleep(0.5)
            if len(grown) < len(tabs):
                raise Failure("__pb.deltas did not grow within 60 s in: " + states([(p, t) for p, t in tabs
                                                                                      if p not in grown]))
            for _, t in tabs:
                t.close()
            self.page = self.all_pages[0]

        with self.step("SDK demo burst reaches the server"):
            # Only this page's events: the SDK sends context.page_path, a tracked dimension, so
            # the demo traffic's own events do not count.
            query = self.url("/api/metrics/query?metric=events&window=5m&filter=page_path:/sdk/demo.html")
            self.open("/sdk/demo.html")
            self.page.wait_for("!!document.querySelector('#consent') && !!document.querySelector('#send-burst')", 30)
            before = http_json(query)["value"] or 0
            self.page.evaluate("document.querySelector('#consent').click()")
            self.page.evaluate("document.querySelector('#send-burst').click()")
            accepted_js = "parseInt((document.querySelector('#sdk-accepted').textContent || '').replace(/[^0-9]/g, '')) || 0"
            self.page.wait_for(f"({accepted_js}) >= 250", 60, 0.5,
                               describe="({accepted: document.querySelector('#sdk-accepted').textContent,"
                                        " server: document.querySelector('#server-events')?.textContent})")
            deadline, now = time.monotonic() + 60, before
            while (now := http_json(query)["value"] or 0) < before + 250:
                if time.monotonic() > deadline:
                    raise Failure(f"server events from /sdk/demo.html (5m) went {before} -> {now}, expected +250")
                time.sleep(1)
            print(f"#   sdk accepted {self.page.evaluate(accepted_js)}; server events from /sdk/demo.html (5m) {before} -> {now}")
            self.page.screenshot(str(self.out / "sdk-demo.png"), 1280, 800)

        with self.step("no JavaScript exceptions"):
            errors = [e for p in self.all_pages for e in p.exceptions]
            if errors:
                raise Failure(f"{len(errors)} exception(s):\n" + "\n".join("    " + e for e in errors[:20]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=str(REPO / ".build/debug/pulseboard"), help="pulseboard executable")
    ap.add_argument("--out", default="browser-test-out", help="directory for screenshots and logs")
    ap.add_argument("--public", help="serve this static directory instead of the server's default public/")
    test = Test(ap.parse_args())
    atexit.register(test.cleanup)
    def on_signal(n, _frame):
        print(f"not ok - interrupted by signal {n}; cleaning up", flush=True)
        sys.exit(128 + n)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    print(f"# pulseboard {test.server.binary} on {test.server.base}; output in {test.out}", flush=True)
    try:
        test.run()
        ok = True
    except Failure:
        ok = False
    except Exception as e:  # noqa: BLE001 - outside any step
        print(f"not ok - harness error: {type(e).__name__}: {e}")
        ok = False
    finally:
        test.cleanup()
    print(f"# {'PASS' if ok else 'FAIL'} in {time.monotonic() - test.t0:.0f} s; screenshots in {test.out}")
    print(f"{test.passed} passed, {test.failed if ok else max(1, test.failed)} failed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
