"""``benchmarks/scale.py``'s summary: figures per size and the growth from the smallest to the largest."""

from __future__ import annotations

import os
import statistics


def print_report(results: dict[int, dict]) -> dict:
    """Print the table of every size and the growth ratios; returns the same as one JSON-able dict."""
    sizes = sorted(results)
    nightly = {}
    for n in sizes:
        nights = results[n]["nights"]
        nightly[n] = {k: statistics.median(night["seconds"][k] for night in nights)
                      for k in nights[0]["seconds"]}
    print("\nnightly operations (median of the nights, seconds):")
    print("  " + "operation".ljust(28) + "".join(f"{n:>14,}" for n in sizes))
    for op in nightly[sizes[0]]:
        print("  " + op.ljust(28) + "".join(f"{nightly[n][op]:>14.2f}" for n in sizes))
    alerts = {n: statistics.median(night["alerts"] for night in results[n]["nights"]) for n in sizes}
    print("  " + "(alerts per night)".ljust(28) + "".join(f"{alerts[n]:>14,.0f}" for n in sizes))
    blocks = _blocks_per_alert(results)
    if blocks:
        print("\nwork of each nightly operation (median of the nights: blocks touched per alert of the "
              "night; seconds waiting on block reads):")
        for op in blocks[sizes[0]]:
            print("  " + op.ljust(28) + "".join(
                f"{blocks[n][op][0]:>9.1f} {blocks[n][op][1]:>5.1f}s" for n in sizes))
    print("\nreads at the clock (p50; first byte / whole answer ms; returned; ms per object):")
    for read in results[sizes[0]]["reads"]:
        cells = []
        for n in sizes:
            r = results[n]["reads"][read]
            cells.append(f"{r['first_byte'] * 1000:.0f}/{r['seconds'] * 1000:.0f} ms, {r['returned']:,}, "
                         f"{r['per_object_ms']:.3f}")
        print(f"  {read}: " + " | ".join(f"{n:,}: {c}" for n, c in zip(sizes, cells, strict=True)))
    print("\ndisk (GB: database; biggest tables table+indexes):")
    for n in sizes:
        disk = results[n]["disk"]
        top = ", ".join(f"{t} {v['table'] / 1e9:.1f}+{v['indexes'] / 1e9:.1f}"
                        for t, v in list(disk["tables"].items())[:6])
        print(f"  {n:,}: {disk['database'] / 1e9:.1f} GB; {top}")
    growth = {}
    if len(sizes) > 1:
        small, big = sizes[0], sizes[-1]
        print(f"\ngrowth from {small:,} to {big:,} objects ({big / small:.0f}x the data):")
        per_alert = alerts[big] / max(alerts[small], 1)
        print(f"  (the night's alerts grew {per_alert:.2f}x: the cost of each nightly operation per alert "
              "of the night is the second figure)")
        for op in nightly[small]:
            growth[op] = nightly[big][op] / max(nightly[small][op], 1e-6)
            growth[f"{op} per alert"] = growth[op] / per_alert
            print(f"  nightly {op}: {growth[op]:.2f}x; per alert of the night {growth[op] / per_alert:.2f}x")
        for op in (blocks.get(small, {}) if big in blocks else {}):
            growth[f"{op} blocks per alert"] = blocks[big][op][0] / max(blocks[small][op][0], 1e-9)
            print(f"  {op}: blocks touched per alert {growth[f'{op} blocks per alert']:.2f}x; "
                  f"seconds waiting on reads {blocks[small][op][1]:.1f} -> {blocks[big][op][1]:.1f}")
        for read in results[small]["reads"]:
            a, b = results[small]["reads"][read], results[big]["reads"][read]
            growth[f"{read} per object"] = b["per_object_ms"] / max(a["per_object_ms"], 1e-9)
            growth[f"{read} first byte"] = b["first_byte"] / max(a["first_byte"], 1e-9)
            print(f"  {read}: per object {growth[f'{read} per object']:.2f}x, "
                  f"first byte {growth[f'{read} first byte']:.2f}x")
    loads = [results[n]["load_before"] for n in sizes] + [results[n]["load_after"] for n in sizes]
    print("load average during the runs (1 min): " + ", ".join(f"{lo[0]:.2f}" for lo in loads))
    return {"sizes": {str(n): results[n] for n in sizes},
            "nightly_median": {str(n): nightly[n] for n in sizes},
            "growth": growth, "load_average_now": os.getloadavg()}


def _blocks_per_alert(results: dict[int, dict]) -> dict[int, dict[str, tuple[float, float]]]:
    """Per size that recorded them: op -> (median blocks touched per alert, median seconds reading)."""
    out = {}
    for n, result in results.items():
        nights = [night for night in result["nights"] if "io" in night]
        if not nights:
            continue
        out[n] = {op: (statistics.median(night["io"][op]["blocks"] / max(night["alerts"], 1)
                                         for night in nights),
                       statistics.median(night["io"][op]["read_seconds"] for night in nights))
                  for op in nights[0]["io"]}
    return out
