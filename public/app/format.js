// Number formatting for people: 1.2 k, 3.4 s, $1,234, 12.5 %. Shared by every page.
"use strict";
(function (PB) {
  // Values that are ratios (0–1) on the wire and shown as percentages.
  const RATIO_METRICS = new Set(["error_rate"]);
  const RATIO_KPIS = new Set(["adoption_rate", "task_completion_rate", "churn_rate", "success_rate", "error_rate"]);

  /** How a widget's numbers are shown, from its spec: {unit, ratio, decimals, compact}. */
  function styleOf(widget) {
    const q = widget.query || {};
    const f = widget.format || {};
    const ratio = RATIO_METRICS.has(q.metric) || RATIO_KPIS.has(q.kpi);
    return {
      unit: ratio ? "%" : widget.unit,
      ratio,
      decimals: f.decimals,
      compact: f.compact !== undefined ? f.compact : true,
    };
  }

  // The unit of each live metric (README, Metric definitions).
  const METRIC_UNITS = { events: "events", events_per_sec: "events/s", messages_per_sec: "messages/s", active_users: "users",
                         active_sessions: "sessions", active_threads: "threads", response_time_ms: "ms", tokens: "tokens",
                         spend_usd: "USD", feature_usage: "events", late_events: "events" };

  /** The style of a bare metric or KPI name (an alert's subject): {unit, ratio, compact}. */
  function metricStyle(name) {
    const ratio = RATIO_METRICS.has(name) || RATIO_KPIS.has(name);
    return { unit: ratio ? "%" : METRIC_UNITS[name] || "", ratio, compact: true };
  }

  const group = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

  function fixed(v, decimals) {
    return new Intl.NumberFormat("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(v);
  }

  /** 1234 → "1.2 k", 2_500_000 → "2.5 M" (compact), or "1,234" otherwise. */
  function number(v, decimals, compact) {
    if (v === undefined || v === null || !Number.isFinite(v)) return "–";
    const a = Math.abs(v);
    if (compact && a >= 1000) {
      const units = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "k"]];
      for (const [size, suffix] of units) {
        if (a >= size) {
          const x = v / size;
          return fixed(x, Math.abs(x) >= 100 ? 0 : 1) + " " + suffix;
        }
      }
    }
    if (decimals === undefined) decimals = Number.isInteger(v) || a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
    return decimals === 0 ? group.format(Math.round(v)) : fixed(v, decimals);
  }

  /** A value with its unit, as text: {text, unit} so the unit can be styled apart. */
  function parts(v, style) {
    const s = style || {};
    if (v === undefined || v === null || !Number.isFinite(v)) return { text: "–", unit: "" };
    const unit = s.unit || "";
    if (s.ratio) return { text: number(v * 100, s.decimals ?? 1, false), unit: "%" };
    switch (unit) {
      case "ms":
        if (Math.abs(v) >= 1000) return { text: fixed(v / 1000, Math.abs(v) >= 10000 ? 1 : 2), unit: "s" };
        return { text: number(v, s.decimals ?? 0, false), unit: "ms" };
      case "USD": {
        const a = Math.abs(v);
        let text;
        if (s.compact && a >= 10000) text = number(v, 1, true);
        else if (a >= 100) text = group.format(Math.round(v));
        else if (a >= 1) text = fixed(v, 2);
        else text = fixed(v, s.decimals ?? 4);
        return { text: (v < 0 ? "−$" : "$") + text.replace(/^-/, ""), unit: "" };
      }
      case "%":
        return { text: number(v, s.decimals ?? 1, false), unit: "%" };
      case "score":
        return { text: number(v, s.decimals ?? 0, false), unit: "" };
      default: {
        const text = number(v, s.decimals, s.compact);
        return { text, unit: text === "1" ? singular(shortUnit(unit)) : shortUnit(unit) };
      }
    }
  }

  /** "events" → "event", "queries" → "query" for a count of exactly 1; other units as they are. */
  function singular(u) {
    if (!/^[a-z]{3,}s$/.test(u)) return u;
    return u.endsWith("ies") ? u.slice(0, -3) + "y" : u.slice(0, -1);
  }

  function shortUnit(u) {
    return { "messages/s": "/s", "events/s": "/s" }[u] ?? u ?? "";
  }

  /** A value and unit as one string ("3.4 s", "$1,234", "12.5 %"). */
  function value(v, style) {
    const p = parts(v, style);
    return p.unit ? p.text + " " + p.unit : p.text;
  }

  /** A signed percentage change: "+4.1 %", "−3.2 %". */
  function change(pct) {
    if (pct === undefined || pct === null || !Number.isFinite(pct)) return "";
    const a = Math.abs(pct);
    const text = a >= 100 ? group.format(Math.round(a)) : fixed(a, 1);
    return (pct > 0 ? "+" : pct < 0 ? "−" : "±") + text + " %";
  }

  /** "0.4 s ago", "12 s ago", "3 min ago". */
  function ago(ms) {
    if (!Number.isFinite(ms)) return "never";
    const s = Math.max(0, ms) / 1000;
    if (s < 10) return fixed(s, 1) + " s ago";
    if (s < 120) return Math.round(s) + " s ago";
    if (s < 7200) return Math.round(s / 60) + " min ago";
    return Math.round(s / 3600) + " h ago";
  }

  /** Clock time of an epoch-seconds bucket: "14:05" (":05" seconds when `seconds`). */
  function clock(epochSeconds, seconds) {
    const d = new Date(epochSeconds * 1000);
    const p = n => String(n).padStart(2, "0");
    return p(d.getHours()) + ":" + p(d.getMinutes()) + (seconds ? ":" + p(d.getSeconds()) : "");
  }

  /** "Mon 3 Nov" for day buckets. */
  function day(epochSeconds) {
    return new Date(epochSeconds * 1000).toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  }

  PB.format = { styleOf, metricStyle, number, parts, value, change, ago, clock, day };
})(window.PB = window.PB || {});
