// Widget renderers. Each kind builds its DOM once and then updates it in place on every frame
// (no node churn, so a wallboard left open for days keeps a flat heap), and every series is
// capped. `PB.widgets.create(spec, body)` returns {update(entry), resize()}.
"use strict";
(function (PB) {
  const F = PB.format;
  const NS = "http://www.w3.org/2000/svg";
  const MAX_POINTS = 2000;

  function el(tag, cls, parent) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }

  function svgEl(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  /** Sorted [[t, v]] of a series object keyed by epoch seconds, at most MAX_POINTS (newest). */
  function points(series) {
    if (!series) return [];
    const out = [];
    for (const k in series) {
      const v = series[k];
      if (typeof v === "number" && Number.isFinite(v)) out.push([Number(k), v]);
    }
    out.sort((a, b) => a[0] - b[0]);
    return out.length > MAX_POINTS ? out.slice(out.length - MAX_POINTS) : out;
  }

  /** About `count` round tick values from at or below `lo` to at or above `hi`. */
  function ticks(lo, hi, count) {
    if (!(hi > lo)) hi = lo + 1;
    const raw = (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) || 10 * mag;
    const out = [];
    for (let i = Math.floor(lo / step + 1e-9); i <= Math.ceil(hi / step - 1e-9); i++) out.push(Number((i * step).toPrecision(12)));
    return out;
  }

  /** Decimals that show every multiple of `step` exactly (2.5 → 1, 0.25 → 2, 5 → 0). */
  function decimalsOf(step) {
    for (let d = 0; d < 6; d++) {
      const x = step * Math.pow(10, d);
      if (Math.abs(x - Math.round(x)) < 1e-6 * Math.max(1, x)) return d;
    }
    return 6;
  }

  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200];

  /** Round instants for a time axis over [t0, t1] (epoch seconds): whole minutes, hours, or days counted from t0. */
  function timeTicks(t0, t1, count, daily) {
    const span = Math.max(1, t1 - t0);
    const out = [];
    if (daily) {
      const step = Math.max(1, Math.ceil(span / 86400 / count)) * 86400;
      for (let t = t0; t <= t1 + 1; t += step) out.push(t);
      return out;
    }
    const raw = span / count;
    const step = TIME_STEPS.find(s => s >= raw) || Math.ceil(raw / 86400) * 86400;
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(t);
    return out;
  }

  /** The points of complete buckets: the last one is dropped while its bucket is still filling
   * at `now` (epoch seconds), so a live chart does not end in a fall that is not there. */
  function complete(pts, now) {
    if (!Number.isFinite(now) || pts.length === 0) return pts;
    const last = pts[pts.length - 1][0];
    // The bucket width: the smallest gap among the last points (a bucket with no value, such
    // as an average of nothing, is left out of the series and makes a wider gap).
    let step = Infinity;
    for (let i = Math.max(1, pts.length - 6); i < pts.length; i++) step = Math.min(step, pts[i][0] - pts[i - 1][0]);
    if (!Number.isFinite(step)) step = 1;
    return last + step > now + 1e-3 ? pts.slice(0, -1) : pts;
  }

  /** The comparison shown first: previous period, else the first one given. */
  function mainComparison(compare) {
    if (!compare) return null;
    const key = compare.previous_period ? "previous_period" : Object.keys(compare)[0];
    return key ? { key, c: compare[key] } : null;
  }

  const COMPARE_LABELS = { previous_period: "vs previous period", last_month: "vs last month", last_quarter: "vs last quarter",
                           last_year: "vs last year", benchmark: "vs benchmark" };
  const COMPARE_SHORT = { previous_period: "prev", last_month: "month", last_quarter: "quarter", last_year: "year", benchmark: "bench" };

  /** Fills a comparison chip: arrow, % change, colour by verdict (better / worse / same). */
  function fillChip(chip, key, c, long) {
    if (!c || c.change === undefined) {
      chip.hidden = true;
      return;
    }
    chip.hidden = false;
    const arrow = c.change > 0 ? "▲" : c.change < 0 ? "▼" : "■";
    const pct = c.change_pct !== undefined ? F.change(c.change_pct) : "";
    setText(chip, arrow + " " + pct + " " + (long ? COMPARE_LABELS[key] || key : COMPARE_SHORT[key] || key));
    chip.className = "chip " + (c.verdict || "same");
  }

  // MARK: sparkline

  function sparkline(parent) {
    const svg = svgEl("svg", { class: "sparkline", viewBox: "0 0 100 30", preserveAspectRatio: "none", "aria-hidden": "true" }, parent);
    const area = svgEl("path", { class: "spark-area" }, svg);
    const line = svgEl("path", { class: "spark-line" }, svg);
    return {
      update(series, now) {
        const pts = complete(points(series), now);
        if (pts.length < 2) { line.setAttribute("d", ""); area.setAttribute("d", ""); return; }
        let lo = Infinity, hi = -Infinity;
        for (const p of pts) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); }
        if (hi === lo) { hi += 1; lo -= 1; }
        const t0 = pts[0][0], t1 = pts[pts.length - 1][0];
        let d = "";
        for (let i = 0; i < pts.length; i++) {
          const x = ((pts[i][0] - t0) / (t1 - t0)) * 100;
          const y = 28 - ((pts[i][1] - lo) / (hi - lo)) * 26;
          d += (i ? "L" : "M") + x.toFixed(2) + " " + y.toFixed(2);
        }
        line.setAttribute("d", d);
        area.setAttribute("d", d + "L100 30L0 30Z");
      },
    };
  }

  // MARK: stat

  function stat(spec, body, style) {
    const main = el("div", "stat-main", body);
    const value = el("div", "widget-value", main);
    const num = el("span", "num", value);
    const unit = el("span", "unit", value);
    const side = el("div", "stat-side", main);
    const chip = el("span", "chip", side);
    const note = el("span", "note", side);
    const others = el("div", "compare-row", body);
    const otherChips = new Map();
    const spark = spec.sparkline ? sparkline(body) : null;
    return {
      update(e, now) {
        const p = F.parts(e.value, style);
        setText(num, p.text);
        setText(unit, p.unit);
        const m = mainComparison(e.compare);
        fillChip(chip, m && m.key, m && m.c, true);
        let n = "";
        if (e.low_sample) n = "low sample (n=" + F.number(e.n, 0, true) + ")";
        else if (e.error_bound) n = "± " + F.value(e.error_bound, style);
        else if (e.trend) n = "30-day trend " + (e.trend.direction === "up" ? "↗ up" : e.trend.direction === "down" ? "↘ down" : "→ flat");
        setText(note, n);
        // The other comparisons, small.
        const keys = e.compare ? Object.keys(e.compare).filter(k => !m || k !== m.key) : [];
        for (const k of keys) {
          let c = otherChips.get(k);
          if (!c) { c = el("span", "chip", others); otherChips.set(k, c); }
          fillChip(c, k, e.compare[k], false);
        }
        for (const [k, c] of otherChips) if (!keys.includes(k)) c.hidden = true;
        if (spark) spark.update(e.series, now);
      },
    };
  }

  // MARK: timeseries

  function timeseries(spec, body, style) {
    const head = el("div", "ts-head", body);
    const value = el("div", "widget-value small", head);
    const chip = el("span", "chip", head);
    const wrap = el("div", "chart", body);
    const svg = svgEl("svg", { class: "ts" }, wrap);
    const grid = svgEl("g", { class: "grid" }, svg);
    const area = svgEl("path", { class: "ts-area" }, svg);
    const line = svgEl("path", { class: "ts-line" }, svg);
    const cursor = svgEl("line", { class: "cursor", y1: 0, y2: 0, x1: -10, x2: -10 }, svg);
    const dot = svgEl("circle", { class: "dot", r: 4, cx: -10, cy: -10, visibility: "hidden" }, svg);
    const tip = el("div", "tip", wrap);
    tip.hidden = true;
    const labels = [];          // reused <text> nodes
    const lines = [];           // reused grid <line> nodes
    let pts = [];
    let geom = null;
    let w = 0, h = 0;

    function label(i) {
      if (!labels[i]) labels[i] = svgEl("text", {}, grid);
      return labels[i];
    }
    function gridLine(i) {
      if (!lines[i]) lines[i] = svgEl("line", {}, grid);
      return lines[i];
    }

    function draw() {
      w = wrap.clientWidth;
      h = wrap.clientHeight;
      if (w < 20 || h < 20) return;
      svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
      const right = 10, top = 8, bottom = 22;
      let nl = 0, ng = 0;
      if (pts.length === 0) {
        line.setAttribute("d", ""); area.setAttribute("d", "");
        const t = label(nl++);
        t.setAttribute("x", w / 2); t.setAttribute("y", h / 2); t.setAttribute("class", "empty");
        setText(t, "no data in this window yet");
      } else {
        let lo = 0, hi = -Infinity;
        for (const p of pts) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); }
        if (hi <= lo) hi = lo + 1;
        // The axis runs from a tick to a tick above the highest point, so nothing touches the top.
        const ys = ticks(lo, hi * 1.02, 4);
        lo = ys[0];
        hi = ys[ys.length - 1];
        const decimals = decimalsOf(ys.length > 1 ? ys[1] - ys[0] : 1);
        const yStyle = Object.assign({}, style, { decimals: style.ratio ? Math.max(0, decimals - 2) : decimals, compact: true });
        // Labels first: the plot starts right of the widest one.
        let widest = 0;
        const yLabels = ys.map(v => {
          const t = label(nl++);
          t.setAttribute("class", "y");
          setText(t, F.value(v, yStyle));
          widest = Math.max(widest, t.getComputedTextLength ? t.getComputedTextLength() : 40);
          return t;
        });
        const left = Math.ceil(Math.max(28, widest + 10));
        const t0 = pts[0][0], t1 = Math.max(pts[pts.length - 1][0], t0 + 1);
        const X = t => left + ((t - t0) / (t1 - t0)) * (w - left - right);
        const Y = v => top + (1 - (v - lo) / (hi - lo)) * (h - top - bottom);
        geom = { X, Y, left, right, top, bottom };
        ys.forEach((v, i) => {
          const g = gridLine(ng++);
          g.setAttribute("x1", left); g.setAttribute("x2", w - right); g.setAttribute("y1", Y(v)); g.setAttribute("y2", Y(v));
          yLabels[i].setAttribute("x", left - 6); yLabels[i].setAttribute("y", Y(v) + 4);
        });
        const step = pts.length > 1 ? pts[1][0] - pts[0][0] : 60;
        const daily = step >= 86400;
        for (const t of timeTicks(t0, t1, Math.max(2, Math.min(6, Math.floor((w - left) / 110))), daily)) {
          const x = X(t);
          const lbl = label(nl++);
          lbl.setAttribute("x", x); lbl.setAttribute("y", h - 6);
          lbl.setAttribute("class", x < left + 30 ? "x first" : x > w - right - 30 ? "x last" : "x");
          setText(lbl, daily ? F.day(t) : F.clock(t, t1 - t0 < 600));
        }
        let d = "";
        for (let i = 0; i < pts.length; i++) d += (i ? "L" : "M") + X(pts[i][0]).toFixed(1) + " " + Y(pts[i][1]).toFixed(1);
        line.setAttribute("d", d);
        area.setAttribute("d", d + `L${X(pts[pts.length - 1][0]).toFixed(1)} ${Y(lo)}L${X(pts[0][0]).toFixed(1)} ${Y(lo)}Z`);
      }
      for (let i = nl; i < labels.length; i++) setText(labels[i], "");
      for (let i = ng; i < lines.length; i++) lines[i].setAttribute("x1", lines[i].getAttribute("x2") || 0);
    }

    function hover(ev) {
      if (!geom || pts.length === 0) return;
      const r = svg.getBoundingClientRect();
      const x = ev.clientX - r.left;
      let best = 0, bd = Infinity;
      for (let i = 0; i < pts.length; i++) {
        const d = Math.abs(geom.X(pts[i][0]) - x);
        if (d < bd) { bd = d; best = i; }
      }
      const [t, v] = pts[best];
      const px = geom.X(t), py = geom.Y(v);
      cursor.setAttribute("x1", px); cursor.setAttribute("x2", px); cursor.setAttribute("y1", geom.top); cursor.setAttribute("y2", h - geom.bottom);
      dot.setAttribute("cx", px); dot.setAttribute("cy", py); dot.setAttribute("visibility", "visible");
      const step = pts.length > 1 ? pts[1][0] - pts[0][0] : 60;
      tip.hidden = false;
      setText(tip, (step >= 86400 ? F.day(t) : F.clock(t, true)) + " · " + F.value(v, style));
      tip.style.left = Math.min(Math.max(0, px - 60), w - 130) + "px";
      tip.style.top = Math.max(0, py - 34) + "px";
    }
    function leave() {
      tip.hidden = true;
      cursor.setAttribute("x1", -10); cursor.setAttribute("x2", -10);
      dot.setAttribute("visibility", "hidden");
    }
    svg.addEventListener("mousemove", hover);
    svg.addEventListener("mouseleave", leave);

    return {
      update(e, now) {
        pts = complete(points(e.series), now);
        const p = F.parts(e.value, style);
        setText(value, p.text + (p.unit ? " " + p.unit : ""));
        const m = mainComparison(e.compare);
        fillChip(chip, m && m.key, m && m.c, true);
        draw();
        if (!tip.hidden) tip.hidden = true;
      },
      resize: draw,
    };
  }

  // MARK: bar and table

  function groupsOf(e) {
    const order = e.order || Object.keys(e.groups || {});
    return order.filter(k => e.groups && typeof e.groups[k] === "number").map(k => [k, e.groups[k]]);
  }

  function bar(spec, body, style) {
    const list = el("div", "bars", body);
    const rows = new Map();
    return {
      update(e) {
        const g = groupsOf(e);
        const max = Math.max(1e-12, ...g.map(x => x[1]));
        const seen = new Set();
        g.forEach(([name, v], i) => {
          let r = rows.get(name);
          if (!r) {
            r = el("div", "bar-row");
            r.label = el("span", "bar-label", r);
            r.track = el("span", "bar-track", r);
            r.fill = el("span", "bar-fill", r.track);
            r.value = el("span", "bar-value", r);
            setText(r.label, name);
            r.title = name;
            rows.set(name, r);
          }
          if (list.children[i] !== r) list.insertBefore(r, list.children[i] || null);
          r.fill.style.width = ((v / max) * 100).toFixed(1) + "%";
          setText(r.value, F.value(v, style));
          seen.add(name);
        });
        for (const [name, r] of rows) if (!seen.has(name)) { r.remove(); rows.delete(name); }
        if (g.length === 0 && !list.dataset.empty) list.dataset.empty = "no data in this window yet";
        if (g.length) delete list.dataset.empty;
      },
    };
  }

  function table(spec, body, style) {
    const t = el("table", "grid-table", body);
    const head = el("tr", "", el("thead", "", t));
    const group = spec.query && spec.query.group_by ? spec.query.group_by.replace(/_/g, " ") : "name";
    for (const h of [group, "value", "share"]) setText(el("th", "", head), h);
    const tbody = el("tbody", "", t);
    const rows = new Map();
    return {
      update(e) {
        const g = groupsOf(e);
        const total = g.reduce((s, x) => s + x[1], 0);
        const seen = new Set();
        g.forEach(([name, v], i) => {
          let r = rows.get(name);
          if (!r) {
            r = el("tr");
            r.tds = [el("td", "", r), el("td", "num", r), el("td", "num", r)];
            setText(r.tds[0], name);
            rows.set(name, r);
          }
          if (tbody.children[i] !== r) tbody.insertBefore(r, tbody.children[i] || null);
          setText(r.tds[1], F.value(v, style));
          setText(r.tds[2], total > 0 ? F.number((v / total) * 100, 1) + " %" : "");
          seen.add(name);
        });
        for (const [name, r] of rows) if (!seen.has(name)) { r.remove(); rows.delete(name); }
      },
    };
  }

  // MARK: gauge

  function gauge(spec, body, style) {
    const th = spec.thresholds || {};
    const wv = th.warning && th.warning.value, cv = th.critical && th.critical.value;
    const svg = svgEl("svg", { class: "gauge", viewBox: "-8 -6 216 126" }, body);
    const R = 80, CX = 100, CY = 100;
    const arc = (a0, a1, r = R) => {
      const p = a => [CX + r * Math.cos(Math.PI * (1 - a)), CY - r * Math.sin(Math.PI * (1 - a))];
      const [x0, y0] = p(a0), [x1, y1] = p(a1);
      return `M${x0.toFixed(2)} ${y0.toFixed(2)}A${r} ${r} 0 0 1 ${x1.toFixed(2)} ${y1.toFixed(2)}`;
    };
    const band = (cls, a0, a1) => { if (a1 > a0) svgEl("path", { class: "band " + cls, d: arc(a0, a1, R + 13) }, bands); };
    svgEl("path", { class: "gauge-track", d: arc(0, 1) }, svg);
    const bands = svgEl("g", {}, svg);
    const fill = svgEl("path", { class: "gauge-fill" }, svg);
    const text = svgEl("text", { class: "gauge-text widget-value", x: CX, y: CY - 8 }, svg);
    const minT = svgEl("text", { class: "gauge-scale", x: CX - R, y: CY + 16 }, svg);
    const maxT = svgEl("text", { class: "gauge-scale", x: CX + R, y: CY + 16 }, svg);
    const chip = el("div", "chip", body);
    let max = null;
    return {
      update(e) {
        const v = e.value;
        if (max === null || (Number.isFinite(v) && v > max)) {
          // The scale: 0–1 for ratios, else past the critical level (or the value) with headroom.
          // A ratio with thresholds zooms in on them (an error rate lives near 0 %, not across 0–100 %).
          const thresholdMax = Math.max(cv ? cv * 2 : 0, wv ? wv * 3 : 0);
          if (style.ratio) max = thresholdMax > 0 ? Math.min(1, Math.max(thresholdMax, Number.isFinite(v) ? v * 1.2 : 0)) : 1;
          else max = Math.max(cv ? cv * 1.25 : 0, wv ? wv * 1.5 : 0, Number.isFinite(v) ? v * 1.2 : 1, 1e-9);
          while (bands.firstChild) bands.firstChild.remove();
          if (wv !== undefined) {
            const above = th.direction !== "below";
            const a = Math.min(1, wv / max), b = cv !== undefined ? Math.min(1, cv / max) : above ? 1 : 0;
            if (above) {
              band("warning", a, b);
              if (cv !== undefined) band("critical", b, 1);
            } else {
              band("warning", b, a);
              if (cv !== undefined) band("critical", 0, b);
            }
          }
          setText(minT, F.value(0, Object.assign({}, style, { decimals: 0 })));
          setText(maxT, F.value(max, Object.assign({}, style, { decimals: 0 })));
        }
        const f = Number.isFinite(v) ? Math.max(0.005, Math.min(1, v / max)) : 0;
        fill.setAttribute("d", f > 0 ? arc(0, f) : "");
        setText(text, F.value(v, style));
        const m = mainComparison(e.compare);
        fillChip(chip, m && m.key, m && m.c, true);
      },
    };
  }

  // MARK: heatmap

  const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

  function heatmap(spec, body, style) {
    const g = el("div", "heatmap", body);
    const cells = [];
    el("span", "hm-corner", g);
    for (let h = 0; h < 24; h++) setText(el("span", "hm-hour", g), h % 3 === 0 ? String(h).padStart(2, "0") : "");
    for (let d = 0; d < 7; d++) {
      setText(el("span", "hm-day", g), WEEKDAYS[d]);
      for (let h = 0; h < 24; h++) cells.push(el("span", "hm-cell", g));
    }
    const legend = el("div", "hm-legend", body);
    return {
      update(e) {
        const rows = e.cells || [];
        const max = Math.max(1e-12, e.value || 0);
        let min = max;
        for (const r of rows) for (const v of r || []) min = Math.min(min, v || 0);
        const span = Math.max(1e-12, max - min);
        for (let d = 0; d < 7; d++) {
          for (let h = 0; h < 24; h++) {
            const v = (rows[d] || [])[h] || 0;
            const c = cells[d * 24 + h];
            // Quietest hour pale, busiest full: the contrast is between hours, not from zero.
            const a = 0.06 + 0.94 * ((v - min) / span);
            c.style.setProperty("--a", a.toFixed(3));
            c.title = `${WEEKDAYS[d]} ${String(h).padStart(2, "0")}:00 · ${F.value(v, style)}`;
          }
        }
        setText(legend, `quietest ${F.value(min, style)} · busiest ${F.value(e.value, style)} per hour · average over the last ${e.days || 28} days · hours in ${e.time_zone || "UTC"}`);
      },
    };
  }

  // MARK: distribution

  function distribution(spec, body, style) {
    const head = el("div", "dist-head", body);
    const marks = ["p50", "p95", "p99"].map(k => {
      const s = el("span", "dist-stat", head);
      s.key = k;
      return s;
    });
    const wrap = el("div", "chart", body);
    const svg = svgEl("svg", { class: "dist" }, wrap);
    const barsG = svgEl("g", {}, svg);
    const marksG = svgEl("g", {}, svg);
    const axis = svgEl("g", { class: "grid" }, svg);
    let last = null;
    function draw() {
      const e = last;
      const w = wrap.clientWidth, h = wrap.clientHeight;
      if (!e || w < 20 || h < 20) return;
      svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
      const counts = (e.histogram && e.histogram.counts) || [];
      const width = (e.histogram && e.histogram.bin_width) || 1;
      const n = counts.length;
      const left = 8, right = 8, top = 18, bottom = 22;
      const max = Math.max(1, ...counts);
      const bw = (w - left - right) / Math.max(1, n);
      while (barsG.children.length < n) svgEl("rect", { class: "dist-bar" }, barsG);
      for (let i = 0; i < barsG.children.length; i++) {
        const r = barsG.children[i];
        if (i >= n) { r.setAttribute("height", 0); continue; }
        const bh = (counts[i] / max) * (h - top - bottom);
        r.setAttribute("x", (left + i * bw + 1).toFixed(1));
        r.setAttribute("width", Math.max(1, bw - 2).toFixed(1));
        r.setAttribute("y", (h - bottom - bh).toFixed(1));
        r.setAttribute("height", bh.toFixed(1));
      }
      const X = v => left + (v / (width * Math.max(1, n))) * (w - left - right);
      while (marksG.firstChild) marksG.firstChild.remove();
      const p = e.percentiles || {};
      for (const k of ["p50", "p95", "p99"]) {
        if (!Number.isFinite(p[k])) continue;
        const x = Math.min(w - right, X(p[k]));
        svgEl("line", { class: "mark " + k, x1: x, x2: x, y1: top - 4, y2: h - bottom }, marksG);
        const t = svgEl("text", { class: "mark-label " + k, x: x, y: top - 6 }, marksG);
        t.textContent = k;
      }
      while (axis.firstChild) axis.firstChild.remove();
      for (let i = 0; i <= 4; i++) {
        const v = (width * n * i) / 4;
        const t = svgEl("text", { class: i === 0 ? "x first" : i === 4 ? "x last" : "x", x: X(v), y: h - 6 }, axis);
        t.textContent = F.value(v, Object.assign({}, style, { decimals: 0 }));
      }
    }
    return {
      update(e) {
        last = e;
        const p = e.percentiles || {};
        for (const s of marks) setText(s, s.key + " " + F.value(p[s.key], style));
        draw();
      },
      resize: draw,
    };
  }

  // MARK: alert list and text

  /** "value 10.3 % (limit 5.0 %)" in the unit of the rule's metric; anomalies are per-minute counts. */
  function alertValue(a) {
    if (!Number.isFinite(a.value)) return "";
    if (a.kind === "anomaly") {
      const usual = Number.isFinite(a.expected) ? " (usually " + F.number(a.expected, undefined, true) + ")" : "";
      return F.number(a.value, undefined, true) + " a minute" + usual;
    }
    const st = F.metricStyle((a.condition || "").split(/[ .]/)[0]);
    const limit = Number.isFinite(a.threshold) ? " (limit " + F.value(a.threshold, st) + ")" : "";
    return "value " + F.value(a.value, st) + limit;
  }

  function alertList(spec, body) {
    const list = el("ul", "alerts", body);
    const empty = el("div", "empty-note", body);
    const items = new Map();
    return {
      update(e) {
        const seen = new Set();
        (e.items || []).forEach((a, i) => {
          let li = items.get(a.id);
          if (!li) {
            li = el("li", "alert");
            li.sev = el("span", "sev", li);
            const main = el("div", "alert-main", li);
            li.head = el("div", "alert-title", main);
            li.detail = el("div", "alert-detail", main);
            li.rec = el("div", "alert-rec", main);
            items.set(a.id, li);
          }
          if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
          li.className = "alert " + a.severity + " " + a.state;
          setText(li.sev, a.state === "firing" ? a.severity : "resolved");
          setText(li.head, a.title || a.rule);
          const since = a.started_at ? new Date(a.started_at) : null;
          const when = since ? since.toLocaleString("en-GB", { hour: "2-digit", minute: "2-digit", day: "numeric", month: "short" }) : "";
          const val = alertValue(a);
          setText(li.detail, [when, val, a.state === "resolved" && a.resolved_at ? "resolved " + new Date(a.resolved_at).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" }) : ""].filter(Boolean).join(" · "));
          setText(li.rec, a.state === "firing" ? a.recommendation || "" : "");
          seen.add(a.id);
        });
        for (const [id, li] of items) if (!seen.has(id)) { li.remove(); items.delete(id); }
        setText(empty, seen.size ? "" : "No alerts. Everything is within its thresholds.");
      },
    };
  }

  function text(spec, body) {
    const p = el("div", "text-body", body);
    return { update(e) { setText(p, e.text || spec.text || ""); } };
  }

  /** The widget's style, taking the unit from the frame when the spec names none (KPIs). */
  function withUnit(style, e) {
    if (!style.unit && e && e.unit) style.unit = e.unit === "ratio" ? "%" : e.unit;
    if (e && e.unit === "ratio") style.ratio = true;
    return style;
  }

  const KINDS = { stat, timeseries, bar, table, gauge, heatmap, distribution, alert_list: alertList, text };

  PB.widgets = {
    /** The renderer of `spec` in `body`, with the spec's number style (the unit taken from the frame when the spec names none).
     * `update(entry, now)` takes the frame's time in epoch seconds, to tell a bucket still filling. */
    create(spec, body) {
      const make = KINDS[spec.type] || text;
      const style = F.styleOf(spec);
      const r = make(spec, body, style);
      return {
        update(e, now) {
          withUnit(style, e);
          r.update(e, now);
        },
        resize: r.resize,
      };
    },
  };
})(window.PB = window.PB || {});
