// The dashboard page (/d/:id): renders any dashboard spec from its JSON, subscribes to its
// stream and applies merge-patch deltas. `?kiosk=1` is the wallboard mode, `?transport=ws`
// uses WebSocket instead of SSE, `?key=` passes a read key, and the dashboard's variables
// are query parameters too (`?org_id=acme`).
"use strict";
(function (PB) {
  const F = PB.format;
  const params = new URLSearchParams(location.search);
  const id = decodeURIComponent(location.pathname.split("/")[2] || "");
  const kiosk = params.get("kiosk") === "1";
  const transport = params.get("transport") === "ws" ? "ws" : "sse";
  const key = params.get("key") || "";
  const STALE_AFTER_MS = 3000;

  const $ = sel => document.querySelector(sel);
  const state = { spec: null, frame: null, widgets: new Map(), connection: "connecting", since: Date.now(), lastMessageAt: NaN,
                  downSince: Date.now(), unsubscribe: null, vars: {} };
  // For tests and for people poking at the console.
  window.__pb = { snapshots: 0, deltas: 0, seq: null, lastMessageAt: null, transport };

  if (kiosk) document.body.classList.add("kiosk");
  document.body.dataset.connection = "connecting";

  function api(path) {
    const sep = path.includes("?") ? "&" : "?";
    return fetch(path + (key ? sep + "key=" + encodeURIComponent(key) : ""), { cache: "no-store" });
  }

  async function start() {
    if (!id) return location.replace("/");
    let res;
    try {
      res = await api("/api/dashboards/" + encodeURIComponent(id));
    } catch (e) {
      return retryStart("the server cannot be reached");
    }
    if (res.status === 404) return fatal("Dashboard not found", `There is no dashboard “${id}”.`, true);
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      if (res.status === 401 || res.status === 403) return fatal("Read key needed", (body.error && body.error.message) || "This dashboard needs a read key (?key=…).", false);
      return retryStart((body.error && body.error.message) || "HTTP " + res.status);
    }
    state.spec = await res.json();
    build(state.spec);
    subscribe();
  }

  function retryStart(why) {
    setConnection("reconnecting");
    $("#status-text").textContent = "waiting for the server (" + why + ")";
    setTimeout(start, 3000);
  }

  function fatal(title, message, linkHome) {
    document.title = title + " · Pulseboard";
    $("#title").textContent = title;
    const main = $("#board");
    main.textContent = "";
    const box = document.createElement("div");
    box.className = "fatal";
    box.textContent = message + " ";
    if (linkHome) {
      const a = document.createElement("a");
      a.href = "/";
      a.textContent = "See all dashboards";
      box.appendChild(a);
    }
    main.appendChild(box);
    setConnection("error");
  }

  // MARK: layout

  function build(spec) {
    document.title = spec.title + " · Pulseboard";
    $("#title").textContent = spec.title;
    $("#description").textContent = spec.description || "";
    buildVariables(spec);
    const main = $("#board");
    main.textContent = "";
    const columns = (spec.layout && spec.layout.columns) || 12;
    main.style.setProperty("--columns", columns);
    const positions = (spec.layout && spec.layout.positions) || {};
    let rows = 0;
    let autoY = 0;
    for (const w of spec.widgets) {
      const pos = positions[w.id] || w.position || defaultPosition(w, columns, autoY);
      if (!positions[w.id] && !w.position) autoY = pos.y + pos.h;
      rows = Math.max(rows, pos.y + pos.h);
      const section = document.createElement("section");
      section.className = "widget";
      section.dataset.widget = w.id;
      section.dataset.kind = w.type;
      section.style.gridColumn = `${pos.x + 1} / span ${Math.min(pos.w, columns)}`;
      section.style.gridRow = `${pos.y + 1} / span ${pos.h}`;
      section.style.setProperty("--h", pos.h);
      section.style.order = String(pos.y * 100 + pos.x);
      const head = document.createElement("header");
      const h2 = document.createElement("h2");
      h2.textContent = w.title || w.id;
      const status = document.createElement("span");
      status.className = "status-badge";
      const badge = document.createElement("span");
      badge.className = "stale-badge";
      badge.textContent = "stale";
      head.append(h2, status, badge);
      const body = document.createElement("div");
      body.className = "body";
      const error = document.createElement("div");
      error.className = "widget-error";
      section.append(head, body, error);
      main.appendChild(section);
      const renderer = PB.widgets.create(w, body);
      state.widgets.set(w.id, { spec: w, section, renderer, error, status });
    }
    main.style.setProperty("--rows", rows);
    fitRows(rows);
    addEventListener("resize", () => { fitRows(rows); for (const x of state.widgets.values()) if (x.renderer.resize) x.renderer.resize(); });
    if (window.ResizeObserver) {
      const ro = new ResizeObserver(entries => {
        for (const en of entries) {
          const x = state.widgets.get(en.target.dataset.widget);
          if (x && x.renderer.resize) x.renderer.resize();
        }
      });
      for (const x of state.widgets.values()) ro.observe(x.section);
    }
  }

  function defaultPosition(w, columns, y) {
    const wide = ["timeseries", "heatmap", "distribution", "table", "bar", "alert_list"].includes(w.type);
    return { x: 0, y, w: wide ? columns : Math.max(1, Math.floor(columns / 4)), h: wide ? 4 : 2 };
  }

  /** Rows of a wallboard are never shorter than this: a board with more rows is drawn smaller. */
  const KIOSK_MIN_ROW = 84;

  /** A wallboard fills the screen exactly: the row height follows the window, and a board too
   * tall for it at KIOSK_MIN_ROW is zoomed out as a whole (smaller, but laid out as designed). */
  function fitRows(rows) {
    const main = $("#board");
    if (!kiosk || innerWidth < 720) { main.style.removeProperty("--row"); main.style.zoom = ""; return; }
    main.style.zoom = "";
    const header = $("#top").offsetHeight;
    const gap = parseFloat(getComputedStyle(main).rowGap) || 16;
    const pad = 2 * (parseFloat(getComputedStyle(main).paddingTop) || 16);
    const row = (innerHeight - header - pad - gap * (rows - 1)) / rows;
    if (row >= KIOSK_MIN_ROW) {
      main.style.setProperty("--row", Math.floor(row) + "px");
      return;
    }
    const zoom = (innerHeight - header) / (pad + gap * (rows - 1) + KIOSK_MIN_ROW * rows);
    main.style.setProperty("--row", KIOSK_MIN_ROW + "px");
    main.style.zoom = (Math.floor(zoom * 1000) / 1000).toString();
  }

  function buildVariables(spec) {
    const box = $("#variables");
    box.textContent = "";
    const vars = spec.variables || {};
    for (const name of Object.keys(vars)) {
      const v = vars[name];
      const current = params.get(name) || v.default || "any";
      state.vars[name] = current;
      const label = document.createElement("label");
      label.textContent = (v.label || name) + " ";
      let input;
      if (Array.isArray(v.values)) {
        input = document.createElement("select");
        for (const option of ["any", ...v.values.filter(x => x !== "any")]) {
          const o = document.createElement("option");
          o.value = option;
          o.textContent = option === "any" ? "All" : option;
          input.appendChild(o);
        }
        input.value = current;
      } else {
        input = document.createElement("input");
        input.type = "search";
        input.placeholder = "any";
        input.value = current === "any" ? "" : current;
        input.size = 10;
      }
      input.name = name;
      input.addEventListener("change", () => {
        state.vars[name] = input.value.trim() || "any";
        const url = new URL(location.href);
        if (state.vars[name] === (v.default || "any")) url.searchParams.delete(name); else url.searchParams.set(name, state.vars[name]);
        history.replaceState(null, "", url);
        subscribe();
      });
      label.appendChild(input);
      box.appendChild(label);
    }
  }

  // MARK: stream

  function subscribe() {
    if (state.unsubscribe) state.unsubscribe();
    state.frame = null;
    setConnection("connecting");
    state.unsubscribe = PB.stream.subscribe(id, state.vars, transport, key, {
      onSnapshot(frame) {
        state.frame = frame;
        window.__pb.snapshots++;
        received(frame.seq);
        render(frame.widgets, true);
        renderAlerts(frame.alerts);
      },
      onDelta(patch) {
        if (!state.frame) return;
        state.frame = mergePatch(state.frame, patch);
        window.__pb.deltas++;
        received(patch.seq);
        render(patch.widgets || {}, false);
        if (patch.alerts) renderAlerts(state.frame.alerts);
      },
      onState(s, via, error) {
        setConnection(s === "error" ? "reconnecting" : s, error);
        window.__pb.transport = via;
      },
      onAlert(a) { toast(a); },
    });
  }

  function received(seq) {
    state.lastMessageAt = Date.now();
    window.__pb.seq = seq;
    window.__pb.lastMessageAt = state.lastMessageAt;
  }

  function render(widgets, all) {
    const now = String(Date.now());
    // The frame's time, to tell the bucket still filling in a chart.
    const frameSeconds = Date.parse(state.frame.ts) / 1000;
    for (const [wid, x] of state.widgets) {
      if (!all && !(wid in widgets)) continue;
      const entry = state.frame.widgets[wid] || {};
      x.section.dataset.updated = now;
      x.section.classList.toggle("status-warning", entry.status === "warning");
      x.section.classList.toggle("status-critical", entry.status === "critical");
      const status = entry.status === "warning" || entry.status === "critical" ? entry.status : "";
      if (x.status.textContent !== status) x.status.textContent = status;
      x.section.classList.toggle("has-error", !!entry.error);
      x.error.textContent = entry.error || "";
      try {
        x.renderer.update(entry, frameSeconds);
      } catch (e) {
        console.error("widget " + wid, e);
      }
    }
  }

  function setConnection(s, error) {
    if (state.connection !== s) {
      if (s !== "live" && state.connection === "live") state.downSince = Date.now();
      state.connection = s;
      document.body.dataset.connection = s;
    }
    const text = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", error: "unavailable" }[s] || s;
    $("#conn").textContent = text;
    $("#conn").title = error || "";
  }

  /** Once a quarter second: freshness text, stale marks, the kiosk clock. */
  function tick() {
    const age = Date.now() - state.lastMessageAt;
    const st = $("#status-text");
    if (state.connection === "live" || Number.isFinite(state.lastMessageAt)) st.textContent = "updated " + F.ago(age);
    const stale = state.connection !== "live" && Date.now() - state.downSince > STALE_AFTER_MS && Number.isFinite(state.lastMessageAt);
    for (const x of state.widgets.values()) x.section.classList.toggle("stale", stale);
    if (kiosk) $("#clock").textContent = new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  }
  setInterval(tick, 250);

  // MARK: alerts

  function renderAlerts(alerts) {
    const firing = Object.values(alerts || {});
    const pill = $("#firing");
    pill.hidden = firing.length === 0;
    pill.textContent = firing.length + (firing.length === 1 ? " alert firing" : " alerts firing");
    pill.className = "pill " + (firing.some(a => a.severity === "critical") ? "critical" : "warning");
  }

  const toasts = [];
  function toast(a) {
    const box = $("#toasts");
    const t = document.createElement("div");
    t.className = "toast " + (a.transition === "resolved" ? "resolved" : a.severity);
    const h = document.createElement("strong");
    h.textContent = (a.transition === "resolved" ? "Resolved: " : a.transition === "escalated" ? "Escalated: " : "") + (a.title || a.rule);
    const p = document.createElement("div");
    p.textContent = a.transition === "resolved" ? "" : a.recommendation || "";
    t.append(h, p);
    box.append(t);
    toasts.push(t);
    while (toasts.length > 4) toasts.shift().remove();
    setTimeout(() => { t.remove(); const i = toasts.indexOf(t); if (i >= 0) toasts.splice(i, 1); }, kiosk ? 30000 : 12000);
  }

  // A page restored from the back/forward cache said goodbye to the hub: start over.
  addEventListener("pageshow", e => { if (e.persisted) location.reload(); });

  start();
})(window.PB = window.PB || {});
