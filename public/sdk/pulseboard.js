/*!
 * pulseboard.js — browser SDK for the Pulseboard ingest API (POST /api/analytics/events).
 * Plain JS, no dependencies. The only global it defines is `window.pulseboard`.
 *
 *   <script src="/sdk/pulseboard.js"></script>
 *   <script>
 *     pulseboard.init({ endpoint: "", key: "sdk-…", context: { org_id: "acme" } });
 *     pulseboard.consent(true);                    // nothing is sent or stored before this
 *     pulseboard.identify("u-123");                // else an anonymous "anon-…" id is used
 *     pulseboard.track("feature_usage", { feature_name: "export_csv", action: "click", success: true });
 *     dataLayer.push({ event: "pulseboard", event_type: "feature_usage", properties: { … } });
 *   </script>
 *
 * init options: endpoint (server base URL, "" = same origin), key (sent as X-Pulseboard-Key;
 * as ?key= for sendBeacon, which cannot set headers), batchSize = 100, flushIntervalMs = 1000,
 * maxQueue = 10000, debug = false, dataLayer = true, context = {} (extra batch context such as
 * org_id or segment), onSend(result) (called after every request).
 *
 * Behaviour:
 * - Events are batched: a request goes out when batchSize events are queued, or flushIntervalMs
 *   after the oldest queued event. One request is in flight at a time. A batch shares one
 *   `context` {user_id, session_id, page_path, ...}, so a batch ends where that changes.
 * - Network errors, 408, 429 and 5xx are retried with exponential backoff (1 s, 2 s, 4 s … 30 s,
 *   with jitter; Retry-After wins when given). Every event has an event_id, and the server
 *   deduplicates by it, so a retry after a lost response does not count twice. Other 4xx
 *   (400/401/403/413/415) drop the batch; with debug they are logged by console.warn.
 * - On page hide (visibilitychange → hidden, pagehide) the queue goes out by navigator.sendBeacon
 *   (text/plain, which the server reads as JSON), falling back to fetch with keepalive.
 *   Browsers cap in-flight beacon data at about 64 KB, so a larger backlog may not all leave.
 * - Consent: until consent(true) nothing is sent or written to storage; events wait in memory.
 *   consent(false) clears the queue, forgets stored ids, and later track calls are ignored.
 *   The choice itself is remembered in localStorage.
 * - Sessions: a new session_id after 30 minutes without a track call.
 * - track() before init() is queued; nothing is sent before init.
 */
(function () {
  "use strict";
  if (window.pulseboard) return; // loaded twice: keep the first instance

  var PATH = "/api/analytics/events";
  var SESSION_IDLE_MS = 30 * 60 * 1000;
  var BEACON_MAX_BYTES = 60000;
  var KEYS = { consent: "pulseboard.consent", user: "pulseboard.user_id", anon: "pulseboard.anon_id", session: "pulseboard.session" };

  var cfg = { endpoint: "", key: null, batchSize: 100, flushIntervalMs: 1000, maxQueue: 10000, debug: false, dataLayer: true, context: {}, onSend: null };
  var initialized = false;
  var consent = null;       // null = not asked yet, true = granted, false = refused
  var queue = [];           // items {ev, ctx, key, t}: the event, its batch context, that context's identity, enqueue time
  var inFlight = 0;         // events in the current request (0 = none)
  var flushTimer = null, retryTimer = null, attempt = 0;
  var waiters = [];         // resolvers of pending flush() promises
  var userId = null, anonId = null, session = null;
  var counters = { sent: 0, accepted: 0, duplicates: 0, rejected: 0, dropped: 0, retries: 0, lastError: null };
  var encoder = typeof TextEncoder === "function" ? new TextEncoder() : null;

  // ---- small helpers -------------------------------------------------------------------------

  function log() { if (cfg.debug && window.console) console.log.apply(console, ["[pulseboard]"].concat([].slice.call(arguments))); }
  function warn() { if (cfg.debug && window.console) console.warn.apply(console, ["[pulseboard]"].concat([].slice.call(arguments))); }

  function uuid() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID(); // secure contexts only
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 version 4
    var h = [].map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // localStorage can be missing or throw (privacy modes, full quota): storage is best effort.
  function load(k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } }
  function save(k, v) {
    if (consent !== true && k !== KEYS.consent) return; // nothing is persisted without consent
    try { if (v === null) window.localStorage.removeItem(k); else window.localStorage.setItem(k, v); } catch (e) { /* ignore */ }
  }

  function byteLength(s) { return encoder ? encoder.encode(s).length : unescape(encodeURIComponent(s)).length; }
  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }

  // ---- identity and session ------------------------------------------------------------------

  function currentUser() {
    if (userId) return userId;
    if (!anonId) anonId = "anon-" + uuid();
    return anonId;
  }

  // Returns the session id, starting a new one after 30 minutes without a track call.
  function touchSession() {
    var now = Date.now();
    if (consent === true) { // another tab may have moved the shared session on
      try { var s = JSON.parse(load(KEYS.session)); if (s && s.id && (!session || s.last > session.last)) session = s; } catch (e) { /* ignore */ }
    }
    if (!session || !session.id || !(now - session.last <= SESSION_IDLE_MS)) session = { id: "s-" + uuid(), last: now };
    session.last = now;
    save(KEYS.session, JSON.stringify(session));
    return session.id;
  }

  function persistIds() {
    save(KEYS.anon, anonId);
    save(KEYS.user, userId);
    if (session) save(KEYS.session, JSON.stringify(session));
  }

  // ---- queue ---------------------------------------------------------------------------------

  function enqueue(eventType, properties, extra) {
    if (consent === false) return; // refused: track is a no-op
    if (typeof eventType !== "string" || !eventType) { warn("track: event_type must be a non-empty string", eventType); return; }
    var ev = {
      event_type: eventType,
      timestamp: (extra && extra.timestamp) || new Date().toISOString(),
      event_id: (extra && extra.event_id) || uuid(),
      properties: isObject(properties) ? Object.assign({}, properties) : {}
    };
    var user = currentUser(), sid = touchSession(), path = window.location.pathname;
    var ctx = Object.assign({}, cfg.context, { user_id: user, session_id: sid, page_path: path });
    queue.push({ ev: ev, ctx: ctx, key: user + "\n" + sid + "\n" + path, t: Date.now() });
    cap();
    schedule();
  }

  function cap() { // past maxQueue, the oldest events are dropped
    var n = queue.length - cfg.maxQueue;
    if (n <= 0) return;
    queue.splice(0, n);
    counters.dropped += n;
    warn("queue full (maxQueue " + cfg.maxQueue + "): dropped " + n + " oldest event(s)");
  }

  // Removes and returns the next batch: up to maxCount events sharing one context, within maxBytes.
  function take(maxCount, maxBytes) {
    var first = queue[0], n = 0, bytes = 40 + (isFinite(maxBytes) ? byteLength(JSON.stringify(first.ctx)) : 0);
    while (n < queue.length && n < maxCount && queue[n].key === first.key) {
      if (isFinite(maxBytes)) {
        var len = byteLength(JSON.stringify(queue[n].ev)) + 1;
        if (n > 0 && bytes + len > maxBytes) break;
        bytes += len;
      }
      n++;
    }
    return queue.splice(0, n);
  }

  function bodyOf(batch) { return JSON.stringify({ events: batch.map(function (i) { return i.ev; }), context: batch[0].ctx }); }
  function url(withKey) { return cfg.endpoint.replace(/\/+$/, "") + PATH + (withKey && cfg.key ? "?key=" + encodeURIComponent(cfg.key) : ""); }

  // Sends now if a batch is full (or flush() waits), else arms the timer of the oldest event.
  function schedule() {
    if (!initialized || consent !== true || inFlight || retryTimer) return;
    if (!queue.length) return settle();
    var wait = queue[0].t + cfg.flushIntervalMs - Date.now();
    if (queue.length >= cfg.batchSize || waiters.length || wait <= 0) return pump();
    if (!flushTimer) flushTimer = setTimeout(pump, wait);
  }

  function pump() {
    clearTimeout(flushTimer); flushTimer = null;
    if (!initialized || consent !== true || inFlight || retryTimer || !queue.length) return settle();
    var batch = take(cfg.batchSize, Infinity);
    inFlight = batch.length;
    post(batch, bodyOf(batch)).then(function () { inFlight = 0; schedule(); });
  }

  function settle() {
    if (inFlight || (queue.length && initialized && consent === true && !retryTimer)) return; // still work to do
    var w = waiters; waiters = [];
    w.forEach(function (resolve) { resolve(api.stats()); });
  }

  // ---- sending -------------------------------------------------------------------------------

  // POSTs one batch by fetch and handles the answer. Resolves (never rejects) when done.
  function post(batch, body) {
    var headers = { "Content-Type": "application/json" };
    if (cfg.key) headers["X-Pulseboard-Key"] = cfg.key;
    var status = 0, retryAfter = null;
    // keepalive lets the request outlive the page, but browsers cap such bodies at ~64 KB.
    return fetch(url(false), { method: "POST", headers: headers, body: body, keepalive: byteLength(body) < BEACON_MAX_BYTES, credentials: "omit" })
      .then(function (r) {
        status = r.status; retryAfter = r.headers.get("Retry-After");
        return r.text();
      })
      .then(function (text) { var json = null; try { json = JSON.parse(text); } catch (e) { /* not JSON */ } return json; },
        function (e) { status = 0; return { networkError: String(e && e.message || e) }; }) // retried; event_ids dedupe
      .then(function (json) { handle(batch, status, json || {}, retryAfter); });
  }

  function handle(batch, status, json, retryAfter) {
    var n = batch.length, err = json.error || null;
    var result = { ok: status >= 200 && status < 300, status: status, count: n, events: batch.map(function (i) { return i.ev; }),
      accepted: 0, duplicates: 0, rejected: [], error: err, retryInMs: null, beacon: false, dropped: false };
    if (result.ok) {
      attempt = 0;
      counters.sent += n;
      result.accepted = json.accepted || 0; result.duplicates = json.duplicates || 0; result.rejected = json.rejected || [];
      counters.accepted += result.accepted; counters.duplicates += result.duplicates; counters.rejected += result.rejected.length;
      result.rejected.forEach(function (r) { // rejected events are not retried: they would fail again
        var ev = batch[r.index] && batch[r.index].ev;
        warn("event rejected: " + (ev ? ev.event_type : "#" + r.index) + " " + r.field + ": " + r.reason, ev);
      });
      log("sent " + n + " event(s): accepted " + result.accepted + ", duplicates " + result.duplicates + ", rejected " + result.rejected.length);
    } else if (status === 0 || status === 408 || status === 429 || status >= 500) {
      counters.lastError = status ? status + " " + (err ? err.code + ": " + err.message : "") : "network: " + json.networkError;
      if (consent === true) { // put the batch back in front and retry later
        queue = batch.concat(queue);
        cap();
        result.retryInMs = backoff(retryAfter);
        counters.retries++;
        clearTimeout(retryTimer);
        retryTimer = setTimeout(function () { retryTimer = null; schedule(); }, result.retryInMs);
        warn(counters.lastError + "; retrying " + n + " event(s) in " + result.retryInMs + " ms");
      }
      settle(); // flush() does not wait through backoff
    } else { // 400/401/403/413/415…: the batch would fail again
      counters.dropped += n;
      counters.lastError = status + " " + (err ? err.code + ": " + err.message : "");
      result.dropped = true;
      warn("batch of " + n + " event(s) dropped: " + counters.lastError);
    }
    notify(result);
  }

  // Delay before the next retry: Retry-After (seconds or HTTP date) if given, else 1 s · 2^attempt
  // capped at 30 s, with jitter (50–100 % of that).
  function backoff(retryAfter) {
    var base = Math.min(30000, 1000 * Math.pow(2, attempt++));
    var ms = base / 2 + Math.random() * base / 2;
    if (retryAfter) {
      var s = Number(retryAfter), t = isNaN(s) ? Date.parse(retryAfter) - Date.now() : s * 1000;
      if (!isNaN(t)) ms = Math.max(t, 0) + Math.random() * 250;
    }
    return Math.round(ms);
  }

  function notify(result) {
    if (typeof cfg.onSend === "function") { try { cfg.onSend(result); } catch (e) { warn("onSend threw", e); } }
  }

  // Page hide: send everything queued now, by sendBeacon (no headers, hence ?key= and text/plain).
  function onHide() {
    if (!initialized || consent !== true) return;
    clearTimeout(flushTimer); flushTimer = null;
    while (queue.length) {
      var chunk = take(cfg.batchSize, BEACON_MAX_BYTES), body = bodyOf(chunk), ok = false;
      try { ok = !!(navigator.sendBeacon && navigator.sendBeacon(url(true), new Blob([body], { type: "text/plain" }))); } catch (e) { ok = false; }
      if (ok) {
        counters.sent += chunk.length; // the answer of a beacon cannot be read
        log("beacon: " + chunk.length + " event(s)");
        notify({ ok: true, status: null, count: chunk.length, events: chunk.map(function (i) { return i.ev; }), accepted: null,
          duplicates: null, rejected: [], error: null, retryInMs: null, beacon: true, dropped: false });
      } else { // keepalive fetch; a failure puts the events back in the queue. The browser's
        post(chunk, body).then(schedule); // quota is likely spent, so the rest waits in the queue
        break;
      }
    }
  }

  // ---- dataLayer (seed 004's GTM integration) ------------------------------------------------
  // Two shapes become track calls; everything else in dataLayer is left to GTM:
  //  1. { event: "pulseboard", event_type: "feature_usage", properties: {...} }   (this SDK's own)
  //  2. seed 004's NetraAnalyticsTag: { event: "netra_analytics_event", event_type: "...",
  //     session_id, timestamp, ...properties } — the properties are spread at the top level.
  //     Its timestamp (and an event_id, if any) is kept; its session_id is replaced by ours.
  //     (Drop the tag's own sendToAnalyticsService call, or each event arrives twice.)
  var RESERVED = { event: 1, event_type: 1, event_id: 1, timestamp: 1, session_id: 1, user_id: 1, properties: 1, eventCallback: 1, eventTimeout: 1 };

  function fromDataLayer(entry) {
    if (!isObject(entry) || (entry.event !== "pulseboard" && entry.event !== "netra_analytics_event")) return;
    if (typeof entry.event_type !== "string") { warn("dataLayer entry without event_type", entry); return; }
    var props = entry.properties;
    if (!isObject(props)) {
      props = {};
      Object.keys(entry).forEach(function (k) { if (!RESERVED[k] && k.indexOf("gtm.") !== 0) props[k] = entry[k]; });
    }
    enqueue(entry.event_type, props, {
      timestamp: typeof entry.timestamp === "string" ? entry.timestamp : null,
      event_id: typeof entry.event_id === "string" ? entry.event_id : null
    });
  }

  function hookDataLayer() {
    var dl = window.dataLayer = window.dataLayer || [];
    if (dl.__pulseboard) return;
    dl.__pulseboard = true;
    dl.forEach(fromDataLayer); // entries pushed before the SDK loaded
    var push = dl.push;
    dl.push = function () { // keep the original (GTM's, if it is already loaded) behaviour
      var r = push.apply(this, arguments);
      for (var i = 0; i < arguments.length; i++) { try { fromDataLayer(arguments[i]); } catch (e) { warn("dataLayer", e); } }
      return r;
    };
  }

  // A choice made on an earlier visit (reading storage is fine; writing waits for consent).
  (function restore() {
    var stored = load(KEYS.consent);
    if (stored) consent = stored === "granted";
    if (consent !== true) return;
    userId = load(KEYS.user); anonId = load(KEYS.anon);
    try { session = JSON.parse(load(KEYS.session)); } catch (e) { session = null; }
  })();

  // ---- public API ----------------------------------------------------------------------------

  var api = {
    init: function (options) {
      if (initialized) { warn("init called twice; ignored"); return api; }
      Object.keys(options || {}).forEach(function (k) { if (options[k] !== undefined) cfg[k] = options[k]; });
      cfg.endpoint = String(cfg.endpoint || "");
      cfg.batchSize = Math.max(1, cfg.batchSize | 0); cfg.maxQueue = Math.max(1, cfg.maxQueue | 0);
      if (!isObject(cfg.context)) cfg.context = {};
      initialized = true;
      document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") onHide(); });
      window.addEventListener("pagehide", onHide);
      window.addEventListener("online", function () { if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; } schedule(); });
      if (cfg.dataLayer) hookDataLayer();
      log("init", cfg.endpoint + PATH, "consent:", consent);
      schedule();
      return api;
    },
    track: function (eventType, properties) { enqueue(eventType, properties, null); },
    identify: function (id) { // identify(null) goes back to the anonymous id
      userId = id === null || id === undefined || id === "" ? null : String(id);
      save(KEYS.user, userId);
    },
    consent: function (granted) {
      consent = !!granted;
      save(KEYS.consent, consent ? "granted" : "denied");
      if (consent) {
        if (!userId) userId = load(KEYS.user); // an earlier granted visit's ids
        if (!anonId) anonId = load(KEYS.anon);
        currentUser(); persistIds(); schedule();
      } else {
        queue = []; clearTimeout(flushTimer); clearTimeout(retryTimer); flushTimer = retryTimer = null;
        [KEYS.user, KEYS.anon, KEYS.session].forEach(function (k) { try { window.localStorage.removeItem(k); } catch (e) { /* ignore */ } });
        userId = anonId = session = null;
        settle();
      }
    },
    // Sends everything queued now. Resolves with stats() once the queue is empty, or at once
    // when it cannot be sent (no consent, or a failure is waiting for its retry).
    flush: function () {
      return new Promise(function (resolve) {
        waiters.push(resolve);
        if (retryTimer || consent !== true || !initialized) return settle();
        schedule();
      });
    },
    stats: function () {
      return { queued: queue.length + inFlight, sent: counters.sent, accepted: counters.accepted, duplicates: counters.duplicates,
        rejected: counters.rejected, dropped: counters.dropped, retries: counters.retries, lastError: counters.lastError,
        consent: consent, user_id: consent === false ? null : currentUser(), session_id: session ? session.id : null };
    }
  };
  window.pulseboard = api;
})();
