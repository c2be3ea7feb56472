#!/usr/bin/env python3
"""End-to-end probe: how long from posting an event to receiving the delta that contains it.

Subscribes to the `e2e` dashboard (Benchmarks/e2e/e2e.json) over SSE, then posts one
`e2e_probe` event at a time (each waits for its ack; about --rate a second, jittered) and
records when each was sent. The dashboard's `probe` widget counts those events, so a delta whose
count reaches base + i carries probe i: its latency is that delta's arrival minus probe i's send
time. The subscriber is one of the N a benchmark holds on the same dashboard (it connects last).

Prints one JSON line: {"samples": n, "p50_ms": …, "p99_ms": …, "max_ms": …, "missed": m}.
Standard library only.
"""

import argparse
import http.client
import json
import random
import socket
import sys
import threading
import time


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


class Subscriber(threading.Thread):
    """Reads the SSE stream and records, for every probe count it sees, when it first saw it."""

    def __init__(self, host, port, dashboard):
        super().__init__(daemon=True)
        self.sock = socket.create_connection((host, port), timeout=30)
        request = (
            f"GET /api/stream/{dashboard} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.base = None
        self.seen = {}  # probe count -> monotonic arrival time
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.error = None

    def run(self):
        buffer = b""
        event = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError("stream closed")
                now = time.monotonic()
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    line = line.rstrip(b"\r")
                    if line.startswith(b"event:"):
                        event = line[6:].strip()
                    elif line.startswith(b"data:") and event in (b"snapshot", b"delta"):
                        self.frame(json.loads(line[5:]), now)
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            self.error = error
            self.ready.set()

    def frame(self, message, now):
        probe = message.get("widgets", {}).get("probe")
        if not isinstance(probe, dict) or not isinstance(probe.get("value"), (int, float)):
            if self.base is None and "probe" in message.get("widgets", {}):
                self.base = 0
                self.ready.set()
            return
        value = int(probe["value"])
        with self.lock:
            if self.base is None:
                self.base = value
                self.ready.set()
                return
            if value not in self.seen:
                self.seen[value] = now


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--dashboard", default="e2e")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of probes")
    parser.add_argument("--rate", type=float, default=10.0, help="probes per second (mean)")
    parser.add_argument("--grace", type=float, default=3.0, help="seconds to wait for the last deltas")
    args = parser.parse_args()

    subscriber = Subscriber(args.host, args.port, args.dashboard)
    subscriber.start()
    if not subscriber.ready.wait(30) or subscriber.error is not None:
        print(json.dumps({"error": f"no snapshot: {subscriber.error}"}))
        return 1

    connection = http.client.HTTPConnection(args.host, args.port, timeout=10)
    sent = []  # probe i (1-based) -> monotonic send time
    deadline = time.monotonic() + args.duration
    rng = random.Random()
    while time.monotonic() < deadline:
        body = json.dumps({
            "events": [{"event_type": "e2e_probe", "event_id": f"probe-{time.time_ns()}-{len(sent)}"}],
            "context": {"user_id": "e2e-probe"},
        })
        started = time.monotonic()
        connection.request("POST", "/api/analytics/events", body, {"Content-Type": "application/json"})
        answer = connection.getresponse().read()
        if b'"accepted":1' not in answer:
            print(json.dumps({"error": f"probe not accepted: {answer[:200]!r}"}))
            return 1
        sent.append(started)
        time.sleep(rng.uniform(0, 2 / args.rate))
    time.sleep(args.grace)

    with subscriber.lock:
        seen = dict(subscriber.seen)
        base = subscriber.base
    # Probe i is in the first delta whose count is >= base + i.
    counts = sorted(seen)
    latencies = []
    missed = 0
    j = 0
    for i, sent_at in enumerate(sent, start=1):
        while j < len(counts) and counts[j] < base + i:
            j += 1
        if j == len(counts):
            missed += 1
            continue
        latencies.append((seen[counts[j]] - sent_at) * 1000)
    latencies.sort()
    result = {
        "samples": len(latencies),
        "missed": missed,
        "p50_ms": round(percentile(latencies, 0.5), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
    }
    print(json.dumps(result))
    return 0 if latencies and missed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
