#!/usr/bin/env python3
"""Python peer for the fan-out benchmark: the kind of broadcaster the design seeds sketch.

One uvicorn process, one asyncio loop, loopback only. A Starlette app with
  GET /sub     Server-Sent Events (sse-starlette's EventSourceResponse): one `event: snapshot` at
               connect, then `event: delta` / `data: <json>` once a second
  GET /ws      WebSocket (uvicorn's `websockets` implementation): text messages, the first one
               {"type":"snapshot","seq":…}, then {"type":"delta","seq":…,"ts":…} once a second
  GET /health  200 "ok" (for scripts waiting for the server to answer)

Every message is {"seq":N,"ts":"2026-12-02T06:00:00.123Z","widgets":{"pad":"xxx…"}} padded to
PAYLOAD bytes (the WebSocket ones with "type" as their first key), `ts` being the time the message
was made (RFC 3339, ms, UTC). Ticks are aligned to whole seconds of the wall clock.

The broadcast is written the way such a service usually is: a broadcaster task encodes each tick's
JSON once (one string per transport) and puts it on one bounded asyncio.Queue per subscriber; each
subscriber's own handler takes from its queue and writes. A subscriber whose queue fills up
(QUEUE messages behind: a client that stopped reading) is dropped, the usual slow-consumer policy
for a wallboard whose deltas are useless once one is lost (the client reconnects for a snapshot).

    python3 Benchmarks/python_peer.py [PORT]

Environment: PYTHON_PEER_PORT (18082; argv[1] wins), PYTHON_PEER_PAYLOAD_BYTES (240),
PYTHON_PEER_INTERVAL seconds between ticks (1), PYTHON_PEER_QUEUE messages per subscriber (32),
PYTHON_PEER_TRACE=1 (a line per tick on stderr), PYTHON_PEER_GC=0 (no cyclic GC; diagnostic).
"""

import asyncio
import contextlib
import datetime
import gc
import json
import math
import os
import resource
import sys
import time
import warnings

# `ws="websockets"` (uvicorn's implementation on websockets' legacy protocol) is the one asked
# for; both libraries warn that it is deprecated in favour of `websockets-sansio`.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"websockets(\.|$)")
warnings.filterwarnings("ignore", message=r".*`websockets` implementation is deprecated.*")

import uvicorn  # noqa: E402
from sse_starlette.sse import EventSourceResponse  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Route, WebSocketRoute  # noqa: E402
from starlette.websockets import WebSocket, WebSocketDisconnect  # noqa: E402

HOST = "127.0.0.1"
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("PYTHON_PEER_PORT", "18082"))
PAYLOAD_BYTES = int(os.environ.get("PYTHON_PEER_PAYLOAD_BYTES", "240"))
INTERVAL = float(os.environ.get("PYTHON_PEER_INTERVAL", "1"))
QUEUE_SIZE = int(os.environ.get("PYTHON_PEER_QUEUE", "32"))
# With PYTHON_PEER_TRACE=1, one line per tick on stderr: how late it started, subscribers, tasks.
TRACE = os.environ.get("PYTHON_PEER_TRACE", "") not in ("", "0")
# PYTHON_PEER_GC=0 turns CPython's cyclic garbage collector off (a diagnostic, not the default): with
# thousands of connections its full collections walk every live object, stalling the loop.
CYCLIC_GC = os.environ.get("PYTHON_PEER_GC", "1") not in ("0", "off")
MAX_OPEN_FILES = 20_000


def rfc3339_now() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def encode(seq: int, ts: str, kind: str | None) -> str:
    """One message as compact JSON, padded to PAYLOAD_BYTES; `kind` (WebSocket only) goes first."""
    body: dict = {"type": kind} if kind else {}
    body.update(seq=seq, ts=ts, widgets={"pad": ""})
    pad = max(0, PAYLOAD_BYTES - len(json.dumps(body, separators=(",", ":"))))
    body["widgets"]["pad"] = "x" * pad
    return json.dumps(body, separators=(",", ":"))


class Tick:
    """One broadcast message, encoded once and shared by every subscriber."""

    __slots__ = ("seq", "sse", "ws")

    def __init__(self, seq: int) -> None:
        ts = rfc3339_now()
        self.seq = seq
        self.sse = encode(seq, ts, None)
        self.ws = encode(seq, ts, "delta")


class Hub:
    """The subscribers' queues and the broadcaster that feeds them."""

    def __init__(self) -> None:
        self.subscribers: set[asyncio.Queue] = set()
        self.seq = 0
        self.ticks = 0
        self.skipped_ticks = 0
        self.max_late_ms = 0.0
        self.dropped_slow = 0
        self.peak_subscribers = 0

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.subscribers.add(queue)
        self.peak_subscribers = max(self.peak_subscribers, len(self.subscribers))
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self.subscribers.discard(queue)

    def publish(self, tick: Tick) -> None:
        for queue in list(self.subscribers):
            try:
                queue.put_nowait(tick)
            except asyncio.QueueFull:
                # A client QUEUE messages behind: drop it. Its handler is blocked in a write, not on
                # the queue, so empty the queue and leave None as the last item it will take.
                self.subscribers.discard(queue)
                self.dropped_slow += 1
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)

    def snapshot(self, kind: str | None) -> str:
        return encode(self.seq, rfc3339_now(), kind)

    async def run(self) -> None:
        """Publishes one tick per INTERVAL, on whole multiples of it (wall clock)."""
        due = math.ceil(time.time() / INTERVAL) * INTERVAL
        while True:
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            late = time.time() - due
            self.max_late_ms = max(self.max_late_ms, late * 1000)
            self.seq += 1
            self.ticks += 1
            self.publish(Tick(self.seq))
            if TRACE:
                print(
                    f"python_peer: tick {self.seq} at {rfc3339_now()} late {late * 1000:.0f} ms, "
                    f"{len(self.subscribers)} subscribers, {len(asyncio.all_tasks())} tasks",
                    file=sys.stderr,
                    flush=True,
                )
            # If the loop fell a whole interval behind, skip to the next due time (no bursts).
            next_due = due + INTERVAL
            now = time.time()
            if now >= next_due:
                skipped = math.floor((now - next_due) / INTERVAL) + 1
                self.skipped_ticks += skipped
                next_due += skipped * INTERVAL
            due = next_due


hub = Hub()


async def sse_endpoint(request):
    queue = hub.subscribe()

    async def events():
        try:
            yield {"event": "snapshot", "data": hub.snapshot(None)}
            while True:
                tick = await queue.get()
                if tick is None:  # dropped as a slow consumer
                    return
                yield {"event": "delta", "data": tick.sse}
        finally:
            hub.unsubscribe(queue)

    return EventSourceResponse(events())


async def ws_endpoint(websocket: WebSocket):
    await websocket.accept()
    queue = hub.subscribe()
    try:
        await websocket.send_text(hub.snapshot("snapshot"))
        while True:
            tick = await queue.get()
            if tick is None:  # dropped as a slow consumer
                await websocket.close(code=1008, reason="too slow")
                return
            await websocket.send_text(tick.ws)
    except (WebSocketDisconnect, OSError, RuntimeError):
        pass  # the client went away (seen at the next send)
    finally:
        hub.unsubscribe(queue)


async def health(request):
    return PlainTextResponse("ok")


@contextlib.asynccontextmanager
async def lifespan(app):
    broadcaster = asyncio.create_task(hub.run())
    try:
        yield
    finally:
        broadcaster.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await broadcaster
        # Here, not after serve(): uvicorn re-raises the SIGTERM it caught once serve() is done.
        print(
            f"python_peer: {hub.ticks} ticks, {hub.skipped_ticks} skipped, latest start "
            f"{hub.max_late_ms:.0f} ms late; peak {hub.peak_subscribers} subscribers, "
            f"{hub.dropped_slow} dropped as slow",
            file=sys.stderr,
            flush=True,
        )


app = Starlette(
    routes=[Route("/sub", sse_endpoint), WebSocketRoute("/ws", ws_endpoint), Route("/health", health)],
    lifespan=lifespan,
)


def raise_open_file_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def http_implementation() -> str:
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


async def main() -> None:
    nofile = raise_open_file_limit()
    if not CYCLIC_GC:
        gc.disable()
    http = http_implementation()
    config = uvicorn.Config(
        app,
        host=HOST,
        port=PORT,
        http=http,
        ws="websockets",
        loop="asyncio",
        lifespan="on",
        log_level="warning",
        access_log=False,
        backlog=4096,
        limit_concurrency=None,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    if server.started:
        print(f"python_peer: listening on {HOST}:{PORT}", flush=True)
        print(
            f"python_peer: http={http} ws=websockets loop=asyncio nofile={nofile} payload={PAYLOAD_BYTES} B "
            f"interval={INTERVAL:g} s queue={QUEUE_SIZE} gc={'on' if CYCLIC_GC else 'off'} (pid {os.getpid()})",
            file=sys.stderr,
            flush=True,
        )
    await serving


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
