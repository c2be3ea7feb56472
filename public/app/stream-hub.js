// The stream hub: one connection per dashboard topic, shared by every tab of this origin.
// It runs inside a SharedWorker (stream-worker.js) so seven open tabs still use a handful of
// HTTP connections (browsers allow six per host over HTTP/1.1), or inline in the page when
// SharedWorker is missing. Tabs talk to it through ports:
//   tab → hub: {op: "subscribe", id, dashboard, vars, transport, key} | {op: "unsubscribe", id} | {op: "ping"} | {op: "bye"}
//   hub → tab: {type: "snapshot", id, frame} | {type: "delta", id, patch} | {type: "state", id, state, error}
//              | {type: "alert", alert} | {type: "reset"} (subscribe again: the hub had dropped this tab)
// Topics use SSE (EventSource, resumed with ?since=<last seq>) unless asked for WebSocket; past
// MAX_SSE topics the rest share one WebSocket, so any number of dashboards fits in the budget.
"use strict";

/** RFC 7386 merge patch. */
function mergePatch(target, patch) {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out = target && typeof target === "object" && !Array.isArray(target) ? Object.assign({}, target) : {};
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

class StreamHub {
  constructor(origin) {
    this.origin = origin;           // "http://host:port"
    this.topics = new Map();        // key → topic
    this.ports = new Map();         // port → {subs: Map(id → key), seenAt}
    this.ws = null;                 // the shared WebSocket, when a topic uses it
    this.wsState = "closed";
    this.wsBackoff = 0;
    this.recentAlerts = [];         // keys of alerts already forwarded (they arrive on every stream)
    this.MAX_SSE = 4;
    setInterval(() => this.sweep(), 5000);
  }

  // MARK: ports

  attach(port) {
    this.ports.set(port, { subs: new Map(), seenAt: Date.now() });
    port.onmessage = e => this.handle(port, e.data);
    if (port.start) port.start();
  }

  handle(port, m) {
    const p = this.ports.get(port);
    if (!m) return;
    if (!p) {
      // A tab we gave up on (a background tab's timers can be throttled to once a minute):
      // have it subscribe again.
      if (m.op !== "bye") { this.ports.set(port, { subs: new Map(), seenAt: Date.now() }); port.postMessage({ type: "reset" }); }
      return;
    }
    p.seenAt = Date.now();
    if (m.op === "subscribe") this.subscribe(port, p, m);
    else if (m.op === "unsubscribe") this.unsubscribe(port, p, m.id);
    else if (m.op === "bye") this.detach(port);
  }

  detach(port) {
    const p = this.ports.get(port);
    if (!p) return;
    for (const id of [...p.subs.keys()]) this.unsubscribe(port, p, id);
    this.ports.delete(port);
  }

  /** Drops tabs that stopped pinging (a closed tab cannot say goodbye in every browser) and topics nobody reads. */
  sweep() {
    const now = Date.now();
    for (const [port, p] of this.ports) if (now - p.seenAt > 180000) this.detach(port);
    for (const [key, t] of this.topics) {
      if (t.members.size === 0 && now - t.emptySince > 10000) this.close(key);
    }
  }

  static topicKey(dashboard, vars, transport) {
    const q = Object.keys(vars || {}).sort().map(k => encodeURIComponent(k) + "=" + encodeURIComponent(vars[k])).join("&");
    return transport + " " + dashboard + "?" + q;
  }

  subscribe(port, p, m) {
    if (p.subs.has(m.id)) this.unsubscribe(port, p, m.id);
    const wantWS = m.transport === "ws";
    let key = StreamHub.topicKey(m.dashboard, m.vars, wantWS ? "ws" : "sse");
    let t = this.topics.get(key);
    if (!t) {
      let transport = wantWS ? "ws" : "sse";
      const sse = [...this.topics.values()].filter(x => x.transport === "sse").length;
      // One WebSocket subscription per dashboard; beyond the SSE budget, topics share the WebSocket.
      const wsTaken = [...this.topics.values()].some(x => x.transport === "ws" && x.dashboard === m.dashboard);
      if (transport === "sse" && sse >= this.MAX_SSE && !wsTaken) transport = "ws";
      if (transport === "ws" && wsTaken) transport = "sse";
      key = StreamHub.topicKey(m.dashboard, m.vars, transport);
      t = this.topics.get(key);
      if (!t) {
        t = { key, dashboard: m.dashboard, vars: m.vars || {}, transport, apiKey: m.key || "", members: new Set(), frame: null,
              seq: null, state: "connecting", error: null, es: null, backoff: 0, timer: null, emptySince: 0 };
        this.topics.set(key, t);
        this.open(t);
      }
    }
    t.members.add(port);
    p.subs.set(m.id, key);
    port.postMessage({ type: "state", id: m.id, state: t.state, transport: t.transport, error: t.error });
    if (t.frame) port.postMessage({ type: "snapshot", id: m.id, frame: t.frame });
  }

  unsubscribe(port, p, id) {
    const key = p.subs.get(id);
    p.subs.delete(id);
    const t = key && this.topics.get(key);
    if (!t) return;
    if (![...p.subs.values()].includes(key)) t.members.delete(port);
    if (t.members.size === 0) t.emptySince = Date.now();
  }

  /** Sends `message` to every subscription of topic `t`, with its id. */
  broadcast(t, message) {
    for (const [port, p] of this.ports) {
      if (!t.members.has(port)) continue;
      for (const [id, key] of p.subs) if (key === t.key) port.postMessage(Object.assign({ id }, message));
    }
  }

  setState(t, state, error) {
    if (t.state === state && t.error === (error || null)) return;
    t.state = state;
    t.error = error || null;
    this.broadcast(t, { type: "state", state, transport: t.transport, error: t.error });
  }

  // MARK: frames

  snapshot(t, frame) {
    t.frame = frame;
    t.seq = frame.seq;
    t.backoff = 0;
    this.setState(t, "live");
    this.broadcast(t, { type: "snapshot", frame });
  }

  delta(t, patch) {
    if (!t.frame) return;
    t.frame = mergePatch(t.frame, patch);
    t.seq = patch.seq;
    t.backoff = 0;
    this.setState(t, "live");
    this.broadcast(t, { type: "delta", patch });
  }

  alert(a) {
    const k = [a.id, a.transition, a.severity, a.resolved_at || ""].join("|");
    if (this.recentAlerts.includes(k)) return;
    this.recentAlerts.push(k);
    if (this.recentAlerts.length > 200) this.recentAlerts.shift();
    for (const port of this.ports.keys()) port.postMessage({ type: "alert", alert: a });
  }

  // MARK: transports

  open(t) {
    if (t.transport === "ws") this.wsSubscribe(t);
    else this.openSSE(t);
  }

  close(key) {
    const t = this.topics.get(key);
    if (!t) return;
    clearTimeout(t.timer);
    if (t.es) t.es.close();
    if (t.transport === "ws" && this.ws && this.wsState === "open") this.ws.send(JSON.stringify({ op: "unsubscribe", dashboard: t.dashboard }));
    this.topics.delete(key);
    if (t.transport === "ws" && ![...this.topics.values()].some(x => x.transport === "ws") && this.ws) {
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
      this.wsState = "closed";
    }
  }

  /** The next reconnect delay: 0.5 s doubling to 15 s, with jitter, forever. */
  static nextDelay(backoff) {
    const base = Math.min(15000, 500 * Math.pow(2, backoff));
    return base / 2 + Math.random() * base / 2;
  }

  openSSE(t) {
    const params = new URLSearchParams(t.vars);
    if (t.apiKey) params.set("key", t.apiKey);
    if (t.seq !== null && t.seq !== undefined) params.set("since", String(t.seq));
    const es = new EventSource(this.origin + "/api/stream/" + encodeURIComponent(t.dashboard) + (params.toString() ? "?" + params : ""));
    t.es = es;
    es.addEventListener("snapshot", e => this.snapshot(t, JSON.parse(e.data)));
    es.addEventListener("delta", e => this.delta(t, JSON.parse(e.data)));
    es.addEventListener("alert", e => this.alert(JSON.parse(e.data)));
    es.onerror = () => {
      // Reconnect ourselves (EventSource gives up on HTTP errors, and resumes blindly otherwise).
      es.close();
      if (t.es !== es || !this.topics.has(t.key)) return;
      t.es = null;
      this.setState(t, t.frame ? "reconnecting" : "connecting");
      t.timer = setTimeout(() => { if (this.topics.has(t.key)) this.openSSE(t); }, StreamHub.nextDelay(t.backoff++));
    };
  }

  wsSubscribe(t) {
    if (!this.ws) return this.openWS();
    if (this.wsState !== "open") return;
    const m = { op: "subscribe", dashboard: t.dashboard, vars: t.vars };
    if (t.seq !== null && t.seq !== undefined) m.since = t.seq;
    this.ws.send(JSON.stringify(m));
  }

  openWS() {
    const key = [...this.topics.values()].find(x => x.transport === "ws" && x.apiKey)?.apiKey;
    const url = this.origin.replace(/^http/, "ws") + "/ws" + (key ? "?key=" + encodeURIComponent(key) : "");
    const ws = new WebSocket(url);
    this.ws = ws;
    this.wsState = "connecting";
    let pongAt = Date.now();
    let pinger = null;
    ws.onopen = () => {
      this.wsState = "open";
      for (const t of this.topics.values()) if (t.transport === "ws") this.wsSubscribe(t);
      // The server pings too, but a browser cannot see those: ping ourselves to notice a dead link.
      pinger = setInterval(() => {
        if (Date.now() - pongAt > 45000) return ws.close();
        ws.send('{"op":"ping"}');
      }, 15000);
    };
    ws.onmessage = e => {
      pongAt = Date.now();
      const m = JSON.parse(e.data);
      if (m.type === "alert") return this.alert(m);
      if (m.type === "pong") return;
      const t = [...this.topics.values()].find(x => x.transport === "ws" && x.dashboard === m.dashboard);
      if (!t) return;
      if (m.type === "snapshot") { delete m.type; this.snapshot(t, m); }
      else if (m.type === "delta") { delete m.type; delete m.dashboard; this.delta(t, m); }
      else if (m.type === "error") this.setState(t, t.frame ? "live" : "error", m.code + ": " + m.message);
    };
    ws.onclose = () => {
      clearInterval(pinger);
      if (this.ws !== ws) return;
      this.ws = null;
      this.wsState = "closed";
      const topics = [...this.topics.values()].filter(x => x.transport === "ws");
      if (topics.length === 0) return;
      for (const t of topics) this.setState(t, t.frame ? "reconnecting" : "connecting");
      setTimeout(() => { if (!this.ws && topics.some(t => this.topics.has(t.key))) this.openWS(); }, StreamHub.nextDelay(this.wsBackoff++));
    };
    ws.addEventListener("message", () => { this.wsBackoff = 0; }, { once: true });
  }
}

if (typeof self !== "undefined") { self.StreamHub = StreamHub; self.mergePatch = mergePatch; }
