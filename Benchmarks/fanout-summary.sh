#!/usr/bin/env bash
# Medians and spreads of several Benchmarks/fanout.sh runs. Reads their printed tables (files
# given as arguments, or stdin) and prints, per server × transport × N: the number of runs, the
# median and min–max of p50, p99, CPU µs per delivery (gross, and net of the idle CPU measured
# before connecting) and RSS KiB per subscriber, all frames delivered over all runs, and the
# pulseboard / nchan ratios of the medians (< 1: pulseboard is better).
#
#   bash Benchmarks/fanout.sh > run1.txt; bash Benchmarks/fanout.sh > run2.txt; ...
#   bash Benchmarks/fanout-summary.sh run1.txt run2.txt run3.txt
set -euo pipefail
awk '
    function stats(name, key, cnt,    v, j, k, t) {
        for (j = 1; j <= cnt; j++) v[j] = val[name, key, j] + 0
        for (j = 2; j <= cnt; j++) { t = v[j]; k = j - 1; while (k >= 1 && v[k] > t) { v[k + 1] = v[k]; k-- } v[k + 1] = t }
        lo = v[1]; hi = v[cnt]
        return (cnt % 2) ? v[(cnt + 1) / 2] : (v[cnt / 2] + v[cnt / 2 + 1]) / 2
    }
    function cell(name, key, cnt,    m) {
        m = stats(name, key, cnt)
        med[name, key] = m
        return cnt > 1 ? sprintf("%.1f (%.1f–%.1f)", m, lo, hi) : sprintf("%.1f", m)
    }
    function ratio(name, key, other) {
        return ((name, other) in med && med[name, other] > 0) ? sprintf("%.2f", med[name, key] / med[name, other]) : "-"
    }
    # Rows of the printed table: server tr N ready p50 p99 max got/expected (pct) errors CPU% idle% µs net RSS ...
    $1 ~ /^(pulseboard|nchan)$/ && $3 ~ /^[0-9]+$/ && $5 ~ /^[0-9.]+$/ {
        key = $1 " " $2 " " $3
        if (!(key in runs)) order[++keys] = key
        i = ++runs[key]
        val["p50", key, i] = $5; val["p99", key, i] = $6; val["cpu", key, i] = $13
        val["net", key, i] = $14; val["rss", key, i] = $15
        split($8, d, "/"); got[key] += d[1]; expected[key] += d[2]; errors[key] += $10
    }
    END {
        fmt = "%-10s  %-3s  %6s  %4s  %-20s  %-20s  %-20s  %-20s  %-18s  %-15s  %6s  %9s  %9s  %9s\n"
        printf fmt, "server", "tr", "N", "runs", "p50 ms", "p99 ms", "µs CPU/dlv", "net µs CPU/dlv", "RSS KiB/sub", "delivered", "errors", "p99 ratio", "CPU ratio", "net ratio"
        for (o = 1; o <= keys; o++) {
            key = order[o]; split(key, f, " "); cnt = runs[key]
            c1 = cell("p50", key, cnt); c2 = cell("p99", key, cnt); c3 = cell("cpu", key, cnt)
            c4 = cell("net", key, cnt); c5 = cell("rss", key, cnt)
        }
        for (o = 1; o <= keys; o++) {
            key = order[o]; split(key, f, " "); cnt = runs[key]
            other = "nchan " f[2] " " f[3]
            r1 = r2 = r3 = "-"
            if (f[1] == "pulseboard") { r1 = ratio("p99", key, other); r2 = ratio("cpu", key, other); r3 = ratio("net", key, other) }
            printf fmt, f[1], f[2], f[3], cnt, cell("p50", key, cnt), cell("p99", key, cnt), cell("cpu", key, cnt), \
                cell("net", key, cnt), cell("rss", key, cnt), sprintf("%.2f%%", 100 * got[key] / expected[key]), errors[key], r1, r2, r3
        }
    }' "$@"
