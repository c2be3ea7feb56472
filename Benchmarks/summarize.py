#!/usr/bin/env python3
"""Turns Benchmarks/run's raw results into one table: Pulseboard's median and spread, each
peer's, the ratio, and the target.

Input: TSV rows `workload, measure, unit, better (low|high), system, value` (one per run).
Output: a Markdown table (paste it into the README) and a line per target: met or not.
"""

import statistics
import sys
from collections import OrderedDict

NAMES = {"pulseboard": "Pulseboard", "clickhouse": "ClickHouse", "clickhouse-1000": "ClickHouse, 1,000-row inserts", "nchan": "Nchan", "python": "Python"}


def fmt(value):
    if value is None:
        return "–"
    magnitude = abs(value)
    if magnitude >= 100_000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def cell(values):
    if not values:
        return "–"
    median = statistics.median(values)
    if len(values) == 1:
        return fmt(median)
    return f"{fmt(median)} ({fmt(min(values))}–{fmt(max(values))})"


def main():
    path = sys.argv[1]
    targets_path = sys.argv[2] if len(sys.argv) > 2 else None
    rows = OrderedDict()  # (workload, measure) -> {"unit", "better", system -> [values]}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 6:
                continue
            workload, measure, unit, better, system, value = parts
            try:
                number = float(value)
            except ValueError:
                continue
            entry = rows.setdefault((workload, measure), {"unit": unit, "better": better, "systems": OrderedDict()})
            entry["systems"].setdefault(system, []).append(number)

    targets = {}
    if targets_path:
        with open(targets_path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 4:
                    # workload, measure, comparison (< > <= >= or peer / 2peer), value or peer name
                    rules = targets.setdefault((parts[0], parts[1]), [])
                    if (parts[2], parts[3]) not in rules:
                        rules.append((parts[2], parts[3]))

    print("| workload | measure | Pulseboard | peers (ratio = Pulseboard / peer) | target | met |")
    print("|---|---|---|---|---|---|")
    verdicts = []
    for (workload, measure), entry in rows.items():
        systems = entry["systems"]
        ours = systems.get("pulseboard", [])
        peers = [p for p in systems if p != "pulseboard"]
        label = f"{measure} ({entry['unit']})" if entry["unit"] else measure
        cells, texts, results, missed_texts = [], [], [], []
        for index, peer in enumerate(peers or [None]):
            theirs = systems.get(peer, []) if peer else []
            if peer:
                ratio = ""
                if ours and theirs and statistics.median(theirs) > 0:
                    ratio = f", {statistics.median(ours) / statistics.median(theirs):.2f}×"
                cells.append(f"{NAMES.get(peer, peer)}: {cell(theirs)}{ratio}")
            for text, met in target_for(targets.get((workload, measure), []), ours, theirs, peer, entry["better"], index == 0):
                texts.append(text)
                results.append(met)
                if not met:
                    missed_texts.append(text)
        met = all(results) if results else None
        if met is not None:
            # What a missed row lacks, then what it meets.
            others = [t for t in texts if t not in missed_texts]
            detail = ", ".join(missed_texts) + (f" (met: {', '.join(others)})" if others else "")
            verdicts.append((workload, measure, met, detail))
        print(f"| {workload} | {label} | {cell(ours)} | {'; '.join(cells) or '–'} | {', '.join(texts)} "
              f"| {'' if met is None else ('yes' if met else '**no**')} |")
    print()
    missed = [v for v in verdicts if not v[2]]
    print(f"targets: {len(verdicts) - len(missed)} of {len(verdicts)} met")
    for workload, measure, _, text in missed:
        print(f"  not met: {workload} / {measure}: {text}")


def target_for(rules, ours, theirs, peer, better, first):
    """The rules that apply to this row (absolute ones on the first peer row only), each as
    (text, met)."""
    texts, results = [], []
    if not ours:
        return []
    median = statistics.median(ours)
    for comparison, value in rules:
        if comparison in ("<", ">", "<=", ">="):
            if not first:
                continue
            limit = float(value)
            texts.append(f"{comparison} {fmt(limit)}")
            results.append({"<": median < limit, ">": median > limit, "<=": median <= limit, ">=": median >= limit}[comparison])
        elif comparison.endswith("peer") and theirs and peer == value:
            factor = float(comparison[:-4] or 1)  # e.g. "2peer": at least twice the peer
            peer_median = statistics.median(theirs)
            if better == "high":
                texts.append(f"≥ {fmt(factor)}× {NAMES.get(peer, peer)}" if factor != 1 else f"≥ {NAMES.get(peer, peer)}")
                results.append(median >= factor * peer_median)
            else:
                texts.append(f"≤ {NAMES.get(peer, peer)}" if factor == 1 else f"≤ {fmt(factor)}× {NAMES.get(peer, peer)}")
                results.append(median <= factor * peer_median)
    return list(zip(texts, results))


if __name__ == "__main__":
    main()
