"""A minimal Chrome DevTools Protocol client using only the Python standard library.

    with Browser(width=1280, height=800) as browser:
        page = browser.new_page()
        page.navigate("http://127.0.0.1:8080/")
        page.wait_for("document.title !== ''", timeout=10)
        page.screenshot("index.png", 1280, 800)

One WebSocket connection to the browser carries every tab: each Page is a target
attached with ``flatten: true`` and its messages are routed by ``sessionId``.
A reader thread answers pings, matches responses to requests and queues events.
"""
import base64, collections, hashlib, itertools, json, os, re, shutil, signal
import socket, struct, subprocess, tempfile, threading, time, urllib.parse


class CDPError(Exception):
    """The browser answered a command with an error, or the connection was lost."""


class JSError(Exception):
    """Runtime.evaluate reported an exception thrown by the page's JavaScript."""


class WebSocket:
    """A client WebSocket (RFC 6455): masked text frames out; fragmented, large frames in."""
    GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url, timeout=10.0):
        u = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall((f"GET {u.path or '/'}{'?' + u.query if u.query else ''} HTTP/1.1\r\n"
                           f"Host: {u.hostname}:{u.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = bytearray()
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise CDPError("WebSocket handshake: connection closed")
            self.buf += chunk
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        self.buf = bytearray(rest)
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        accept = base64.b64encode(hashlib.sha1(key + self.GUID).digest()).decode()
        if lines[0].split(" ")[1:2] != ["101"] or headers.get("sec-websocket-accept") != accept:
            raise CDPError(f"WebSocket handshake failed: {lines[0]}")
        self.sock.settimeout(None)
        self.send_lock = threading.Lock()

    def _send_frame(self, opcode, payload):
        n, mask = len(payload), os.urandom(4)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += struct.pack("!BH", 0x80 | 126, n)
        else:
            header += struct.pack("!BQ", 0x80 | 127, n)
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(mask * (n // 4 + 1), "big") >> (8 * (4 - n % 4))
                  ).to_bytes(n, "big") if n else b""
        with self.send_lock:
            self.sock.sendall(header + mask + masked)

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(min(max(65536, n - len(self.buf)), 1 << 20))
            if not chunk:
                raise ConnectionError("WebSocket closed by peer")
            self.buf += chunk
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def recv(self):
        """Return the next complete text/binary message as str; None once the peer closes."""
        parts = []
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x9:                      # ping -> pong
                self._send_frame(0xA, payload)
            elif opcode == 0x8:                    # close -> echo close
                try:
                    self._send_frame(0x8, payload[:2])
                except OSError:
                    pass
                return None
            elif opcode in (0x0, 0x1, 0x2):        # continuation, text, binary
                parts.append(payload)
                if b0 & 0x80:
                    return b"".join(parts).decode("utf-8", "replace")

    def close(self):
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class Browser:
    """Launches headless Chromium and speaks CDP to it over one browser-level WebSocket."""

    def __init__(self, width=1280, height=800, executable=None, log_path=None, extra_args=(), timeout=60):
        self.user_data_dir = tempfile.mkdtemp(prefix="pb-chromium-")
        self.log_path = log_path or os.path.join(self.user_data_dir, "chromium.log")
        exe = executable or shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            raise CDPError("no chromium on PATH (Debian: apt-get install chromium)")
        args = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--remote-debugging-port=0", f"--user-data-dir={self.user_data_dir}", f"--window-size={width},{height}",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows", "--hide-scrollbars", *extra_args, "about:blank"]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     start_new_session=True)
        self.ids, self.lock = itertools.count(1), threading.Condition()
        self.responses, self.sessions, self.closed, self.ws = {}, {}, False, None
        try:
            self.ws = WebSocket(self._wait_for_devtools_url(timeout))
        except BaseException:
            self.close()
            raise
        self.reader = threading.Thread(target=self._read_loop, name="cdp-reader", daemon=True)
        self.reader.start()

    def _wait_for_devtools_url(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                m = re.search(rb"DevTools listening on (ws://\S+)", f.read())
            if m:
                return m.group(1).decode()
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        with open(self.log_path, "rb") as f:
            tail = f.read()[-2000:].decode("utf-8", "replace")
        raise CDPError(f"chromium did not start (exit {self.proc.poll()}); log {self.log_path}:\n{tail}")

    def _read_loop(self):
        try:
            while (text := self.ws.recv()) is not None:
                msg = json.loads(text)
                with self.lock:
                    if "id" in msg:
                        self.responses[msg["id"]] = msg
                    elif (page := self.sessions.get(msg.get("sessionId"))) is not None:
                        page._on_event(msg["method"], msg.get("params", {}))
                    elif msg.get("method") == "Target.detachedFromTarget":
                        if (page := self.sessions.get(msg["params"].get("sessionId"))) is not None:
                            page.detached = True
                    self.lock.notify_all()
        except (OSError, ValueError, ConnectionError):
            pass
        with self.lock:
            self.closed = True
            self.lock.notify_all()

    def send(self, method, params=None, session_id=None, timeout=60):
        """Send one command and wait for its result (a dict); raise CDPError on an error answer."""
        if self.closed:
            raise CDPError(f"{method}: connection to the browser is closed")
        msg_id = next(self.ids)
        msg = {"id": msg_id, "method": method, "params": params or {}}
        if session_id:
            msg["sessionId"] = session_id
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        with self.lock:
            while msg_id not in self.responses:
                left = deadline - time.monotonic()
                if self.closed:
                    raise CDPError(f"{method}: browser connection closed")
                if left <= 0:
                    raise TimeoutError(f"{method}: no answer within {timeout} s")
                self.lock.wait(left)
            reply = self.responses.pop(msg_id)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error'].get('message')} {reply['error'].get('data', '')}".strip())
        return reply.get("result", {})

    def new_page(self, url="about:blank", new_window=False):
        """Open a tab (or, with new_window, a window: always 'visible') in the default browser context,
        attach to it (flat session) and return its Page. Tabs behind the active one are 'hidden'."""
        params = {"url": "about:blank", "newWindow": bool(new_window)}
        target_id = self.send("Target.createTarget", params)["targetId"]
        session_id = self.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})["sessionId"]
        page = Page(self, target_id, session_id)
        with self.lock:
            self.sessions[session_id] = page
        for domain in ("Page", "Runtime"):
            page.send(f"{domain}.enable")
        if url != "about:blank":
            page.navigate(url)
        return page

    @property
    def pages(self):
        return list(self.sessions.values())

    def close(self):
        """Close the connection, kill Chromium's whole process group, remove the profile."""
        if self.ws:
            try:
                self.send("Browser.close", timeout=3)
            except Exception:
                pass
            self.ws.close()
        if self.proc.poll() is None:
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()
        shutil.rmtree(self.user_data_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    """One attached tab. ``console`` holds console calls, ``exceptions`` uncaught JS exceptions."""

    def __init__(self, browser, target_id, session_id):
        self.browser, self.target_id, self.session_id = browser, target_id, session_id
        self.events = collections.deque(maxlen=500)   # (serial, method, params) of recent events
        self.serial, self.console, self.exceptions = 0, [], []
        self.detached, self.crashed, self._perf = False, False, False

    def _on_event(self, method, params):              # called by the reader thread under browser.lock
        self.serial += 1
        if method not in ("Runtime.consoleAPICalled",):
            self.events.append((self.serial, method, params))
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", a.get("type")))) for a in params.get("args", []))
            self.console.append({"type": params.get("type"), "text": text})
            del self.console[:-1000]
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text", "exception")
            self.exceptions.append(f"{text} ({d.get('url', '')}:{d.get('lineNumber', 0) + 1})")
            self.console.append({"type": "exception", "text": text})
        elif method == "Inspector.targetCrashed":
            self.crashed = True

    def send(self, method, params=None, timeout=60):
        return self.browser.send(method, params, self.session_id, timeout)

    def wait_event(self, method, timeout=30, after=0):
        """Wait for an event named `method` numbered above `after`; return its params."""
        deadline = time.monotonic() + timeout
        with self.browser.lock:
            while True:
                for serial, name, params in self.events:
                    if serial > after and name == method:
                        return params
                left = deadline - time.monotonic()
                if self.crashed or self.browser.closed:
                    raise CDPError(f"waiting for {method}: page crashed or browser closed")
                if left <= 0:
                    raise TimeoutError(f"no {method} event within {timeout} s")
                self.browser.lock.wait(left)

    def navigate(self, url, timeout=60):
        """Navigate and wait for the load event."""
        with self.browser.lock:
            mark = self.serial
        result = self.send("Page.navigate", {"url": url}, timeout)
        if result.get("errorText"):
            raise CDPError(f"navigate {url}: {result['errorText']}")
        self.wait_event("Page.loadEventFired", timeout, after=mark)

    def evaluate(self, expr, timeout=60):
        """Evaluate `expr` in the page (promises awaited) and return its JSON value."""
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True,
                                            "userGesture": True}, timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise JSError(d.get("exception", {}).get("description") or d.get("text", "JavaScript error"))
        return r.get("result", {}).get("value")

    def wait_for(self, js_expr, timeout=30, interval=0.25, describe=None, what=None):
        """Poll `js_expr` until it is truthy and return that value. On timeout raise TimeoutError naming
        `what` (default: the expression), the last value (or error) and the value of `describe` if given."""
        deadline, last = time.monotonic() + timeout, None
        while True:
            try:
                last = self.evaluate(js_expr, timeout=max(5, timeout))
                if last:
                    return last
            except JSError as e:
                last = f"JSError: {e}".splitlines()[0]
            if time.monotonic() >= deadline:
                detail = ""
                if describe:
                    try:
                        detail = f"\n  state: {json.dumps(self.evaluate(describe))[:1500]}"
                    except Exception as e:  # noqa: BLE001 - only for the message
                        detail = f"\n  state: <{e}>"
                raise TimeoutError(f"timed out after {timeout} s waiting for: {what or js_expr}\n"
                                   f"  last value: {json.dumps(last)[:500]}{detail}")
            time.sleep(interval)

    def set_viewport(self, width, height, mobile=False, scale=1, timeout=30):
        """Emulate a viewport (and touch when mobile), then let layout settle."""
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile}, timeout)
        self.send("Emulation.setTouchEmulationEnabled", {"enabled": bool(mobile)}, timeout)
        # Let layout, resize handlers and two frames run before anything is captured.
        # (Hidden tabs get no animation frames, hence the timer.)
        self.evaluate("new Promise(r => { requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 100)));"
                      " setTimeout(r, 1000); })", timeout)

    def screenshot(self, path, width, height, mobile=False, scale=1, full_page=False, timeout=90):
        """Bring the tab to front, resize the viewport, capture a PNG (the whole document if full_page)
        and write it to `path`."""
        self.send("Page.bringToFront", timeout=timeout)
        self.set_viewport(width, height, mobile, scale, timeout)
        params = {"format": "png"}
        if full_page:
            doc_h = self.evaluate("Math.max(document.documentElement.scrollHeight, document.body ? "
                                  "document.body.scrollHeight : 0)", timeout) or height
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": width, "height": min(doc_h, 16000 // scale), "scale": 1})
        data = base64.b64decode(self.send("Page.captureScreenshot", params, timeout)["data"])
        with open(path, "wb") as f:
            f.write(data)
        return path

    def metrics(self):
        """Performance.getMetrics as a dict (JSHeapUsedSize, Nodes, JSEventListeners, Documents, ...)."""
        if not self._perf:
            self.send("Performance.enable")
            self._perf = True
        return {m["name"]: m["value"] for m in self.send("Performance.getMetrics")["metrics"]}

    def collect_garbage(self):
        self.send("HeapProfiler.collectGarbage", timeout=120)

    def close(self):
        try:
            self.browser.send("Target.closeTarget", {"targetId": self.target_id}, timeout=10)
        finally:
            with self.browser.lock:
                self.browser.sessions.pop(self.session_id, None)
