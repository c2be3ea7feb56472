// The page's side of the stream hub: connects to the shared worker (or runs the hub inline
// when SharedWorker is missing) and hands each subscription its frames.
"use strict";
(function (PB) {
  let port = null;
  let nextId = 1;
  const subs = new Map();   // id → handlers

  function connect() {
    if (port) return port;
    let shared = false;
    try {
      if (window.SharedWorker && !/[?&]shared=0\b/.test(location.search)) {
        const worker = new SharedWorker("/app/stream-worker.js", { name: "pulseboard-streams" });
        port = worker.port;
        shared = true;
      }
    } catch (e) {
      port = null;
    }
    if (!port) {
      // Inline hub: a MessageChannel stands in for the worker's port.
      const channel = new MessageChannel();
      const hub = new StreamHub(location.origin);
      hub.attach(channel.port2);
      port = channel.port1;
    }
    port.onmessage = e => {
      const m = e.data;
      if (m.type === "reset") {
        for (const [id, h] of subs) port.postMessage(Object.assign({ op: "subscribe", id }, h.request));
        return;
      }
      if (m.type === "alert") {
        for (const h of subs.values()) if (h.onAlert) h.onAlert(m.alert);
        return;
      }
      const h = subs.get(m.id);
      if (!h) return;
      if (m.type === "snapshot") h.onSnapshot(m.frame);
      else if (m.type === "delta") h.onDelta(m.patch);
      else if (m.type === "state") h.onState(m.state, m.transport, m.error);
    };
    port.start();
    PB.streamShared = shared;
    // Tell the hub this tab is alive; say goodbye when the page goes away.
    setInterval(() => port.postMessage({ op: "ping" }), 10000);
    addEventListener("pagehide", () => port.postMessage({ op: "bye" }));
    return port;
  }

  /** Subscribes to `dashboard` with `vars`; `handlers` = {onSnapshot, onDelta, onState, onAlert}. Returns an unsubscribe function. */
  function subscribe(dashboard, vars, transport, key, handlers) {
    const p = connect();
    const id = nextId++;
    const request = { dashboard, vars, transport, key };
    subs.set(id, Object.assign({ request }, handlers));
    p.postMessage(Object.assign({ op: "subscribe", id }, request));
    return () => {
      subs.delete(id);
      p.postMessage({ op: "unsubscribe", id });
    };
  }

  PB.stream = { subscribe };
})(window.PB = window.PB || {});
