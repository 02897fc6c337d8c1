"""Prints the bench table from results.tsv files (written by bench/run.sh; several files are
merged, e.g. a run with --hosts "1 10" and one with --hosts 50): medians of the runs that
succeeded; a failed run never counts as a time.

Usage: python3 bench/lib/report.py RESULTS.tsv [MORE.tsv ...]"""

import csv
import statistics
import sys
from collections import defaultdict


def load(paths):
    runs = defaultdict(list)  # (workload, tool, M, phase) -> [(seconds, rss_kb, ok)]
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                key = (row["workload"], row["tool"], int(row["M"]), row["phase"])
                runs[key].append((float(row["seconds"]), int(row["peak_rss_kb"]), row["status"] == "ok"))
    return runs


def median_time(runs, key):
    ok = [s for s, _, good in runs.get(key, []) if good]
    return statistics.median(ok) if ok else None


def failures(runs, workload, tool, m):
    return sum(
        1 for phase in ("cold", "warm") for _, _, good in runs.get((workload, tool, m, phase), []) if not good
    )


def counted(runs, workload, tool, m):
    return sum(1 for phase in ("cold", "warm") for _, _, good in runs.get((workload, tool, m, phase), []) if good)


def peak_rss_mb(runs, workload, tool, m):
    peaks = [r for phase in ("cold", "warm") for _, r, good in runs.get((workload, tool, m, phase), []) if good]
    return max(peaks) / 1024 if peaks and max(peaks) > 0 else None


def fmt(x, spec="{:.3f}"):
    return "-" if x is None else spec.format(x)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.3f} ({b / a:.1f}x)" if a > 0 else "-"


def main():
    runs = load(sys.argv[1:])
    ms = sorted({k[2] for k in runs if k[0] == "W1"})
    tools = [t for t in ("drover", "ansible", "pyinfra", "floor", "connect") if any(k[1] == t for k in runs)]
    reps = max((len(v) for v in runs.values()), default=0)
    print(f"\nW1: 50 tasks/host; medians of up to {reps} runs (failed runs excluded, counted in 'fail')")
    print(f"{'tool':<9}{'M':>4}{'cold s':>10}{'warm s':>10}{'peak RSS MB':>13}{'ok runs':>9}{'fail':>6}")
    for m in ms:
        for tool in tools:
            if not any(k[:3] == ("W1", tool, m) for k in runs):
                continue
            cold = median_time(runs, ("W1", tool, m, "cold"))
            warm = median_time(runs, ("W1", tool, m, "warm"))
            print(
                f"{tool:<9}{m:>4}{fmt(cold):>10}{fmt(warm):>10}"
                f"{fmt(peak_rss_mb(runs, 'W1', tool, m), '{:.1f}'):>13}"
                f"{counted(runs, 'W1', tool, m):>9}{failures(runs, 'W1', tool, m):>6}"
            )
    if "connect" in tools:
        print("(connect: opening the M connections alone, in parallel, as the floor does before its execs)")
    print("\nRatios: drover time / other tool's time (lower is better; (Nx) = drover is N times faster)")
    print(f"{'M':>4}  {'phase':<6}{'drover/ansible':>20}{'drover/pyinfra':>20}{'drover/floor':>20}")
    for m in ms:
        for phase in ("cold", "warm"):
            d = median_time(runs, ("W1", "drover", m, phase))
            a = median_time(runs, ("W1", "ansible", m, phase))
            p = median_time(runs, ("W1", "pyinfra", m, phase))
            f = median_time(runs, ("W1", "floor", m, "warm")) if phase == "warm" else None
            print(f"{m:>4}  {phase:<6}{ratio(d, a):>20}{ratio(d, p):>20}{ratio(d, f):>20}")

    w2 = sorted({k[2] for k in runs if k[0] == "W2"})
    for m in w2:
        cold = median_time(runs, ("W2", "drover", m, "cold"))
        warm = median_time(runs, ("W2", "drover", m, "warm"))
        print(
            f"\nW2: 1 task on {m} hosts, drover: cold {fmt(cold)} s, warm {fmt(warm)} s, "
            f"peak RSS {fmt(peak_rss_mb(runs, 'W2', 'drover', m), '{:.1f}')} MB, "
            f"fail {failures(runs, 'W2', 'drover', m)}"
        )

    print("\nTargets (medians, this run):")

    def target(name, ok):
        print(f"  [{'MET' if ok else 'MISSED' if ok is not None else 'n/a'}] {name}")

    def t(tool, m, phase, workload="W1"):
        return median_time(runs, (workload, tool, m, phase))

    def cmp(a, b, factor):
        return None if a is None or b is None else a * factor <= b

    d10w, d10c = t("drover", 10, "warm"), t("drover", 10, "cold")
    target("W1 warm M=10: drover >= 25x faster than ansible-core", cmp(d10w, t("ansible", 10, "warm"), 25))
    target("W1 warm M=10: drover >= 5x faster than pyinfra", cmp(d10w, t("pyinfra", 10, "warm"), 5))
    floor10 = t("floor", 10, "warm")
    target("W1 warm M=10: drover within 3x of the floor", None if floor10 is None or d10w is None else d10w <= 3 * floor10)
    target("W1 cold M=10: drover >= 15x faster than ansible-core", cmp(d10c, t("ansible", 10, "cold"), 15))
    d50w = t("drover", 50, "warm")
    target("W1 warm M=50 <= 2x W1 warm M=10", None if d50w is None or d10w is None else d50w <= 2 * d10w)
    if d50w is not None and d10w:
        line = f"         drover M=50/M=10: {d50w / d10w:.2f}x"
        for tool in ("floor", "connect"):
            a, b = t(tool, 50, "warm"), t(tool, 10, "warm")
            if a is not None and b:
                line += f"; {tool} M=50/M=10: {a / b:.2f}x"
        print(line)
    for m in w2:
        rss = peak_rss_mb(runs, "W2", "drover", m)
        target(f"W2 M={m}: drover peak RSS < 150 MB", None if rss is None else rss < 150)


if __name__ == "__main__":
    main()
