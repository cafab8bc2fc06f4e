"""bench.py's report: the ratio of each implementation's time to bprop's, the checks of
those ratios against the targets of ``benchconfigs``, and the tables printed from them.
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass, field

from benchconfigs import (AGREEMENT_EXAMPLES, FIT_CEILINGS, MEMORY_SLACK_MIB, ONE_PROCESS,
                          STRETCH, TARGETS)
from benchdata import N_TRAIN


@dataclass
class Row:
    """One implementation's epochs on one configuration: a row of the table."""

    config: str
    impl: str
    seconds: list = field(default_factory=list)   # per full epoch (scaled for subsets)
    measured_on: int = 0                          # examples per timed epoch
    note: str = ""

    @property
    def median(self):
        return statistics.median(self.seconds) if self.seconds else float("nan")


def ratios_and_checks(results, torch_present):
    checks = []
    for res in results:
        name = res["config"]["name"]
        rows = {r.impl: r for r in res["rows"]}
        base = rows["bprop"].median
        for impl, row in rows.items():
            row.ratio = row.median / base
            # the same ratio of the fastest epochs: other work on the machine only ever adds
            # time, so a gap between the two ratios says the run was disturbed
            row.ratio_min = min(row.seconds) / min(rows["bprop"].seconds)
            for table, kind in ((TARGETS, "target"), (ONE_PROCESS, "one process"),
                                (STRETCH, "stretch")):
                want = table.get((name, impl))
                if want is not None:
                    checks.append(dict(config=name, impl=impl, kind=kind, ratio=row.ratio,
                                       want=want, ok=row.ratio >= want))
            ceiling = FIT_CEILINGS.get((name, impl))
            if ceiling is not None:
                checks.append(dict(config=name, impl=impl, kind="target", ratio=row.ratio,
                                   want=ceiling, ok=bool(row.ratio <= ceiling), most=True))
        for (cname, impl), want in TARGETS.items():
            if cname == name and impl not in rows:
                checks.append(dict(config=name, impl=impl, kind="target", ratio=None, want=want,
                                   ok=None, note="skipped: torch not installed"
                                   if impl == "torch" and not torch_present else "skipped"))
    return checks


def describe_want(c):
    if c["impl"] == "matmul-floor":
        return f"bprop <= {1 / c['want']:.2f}x floor"
    if c.get("most"):
        return f"<= {c['want']:.2f}x the training pass"
    return f">= {c['want']:g}x" + (" (one process, reported)" if c["kind"] == "one process"
                                   else "")


def print_report(info, results, memory, checks, args, file=None):
    p = lambda *a: print(*a, file=file or sys.stdout)  # noqa: E731
    blas = ", ".join(f"{b.get('internal_api')} {b.get('version')} "
                     f"kernel={b.get('architecture')}" for b in info.get("blas", [])
                     if b.get("internal_api") != "openmp")
    p(f"machine: {info.get('cpu')} ({info['cpus']} CPUs, {'/'.join(info.get('simd', []))}); "
      f"Python {info['python']}, NumPy {info['numpy']}, torch {info['torch'] or 'not installed'}")
    p(f"BLAS: {blas}")
    env = {k: v for k, v in info["env"].items() if v is not None}
    p(f"BLAS environment: {env or 'none of OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE/*_NUM_THREADS set'}")
    if info.get("warning"):
        p(f"WARNING: {info['warning']}")
    load = (info.get("loadavg_start"), info.get("loadavg_end"))
    if None not in load:
        p(f"load average (1 min) before/after (after includes this run): {load[0]:.2f} / "
          f"{load[1]:.2f}" + ("  -- other work was running: timings are noisy, 2-thread "
                              "BLAS especially" if load[0] > 0.5 else ""))
    if not all(res["threads_fixed"] for res in results):
        p("WARNING: the BLAS thread counts in the table could not be applied (no threadpoolctl "
          "and no OpenBLAS found to set through ctypes; pip install threadpoolctl)")
    for res in results:
        got = res.get("threads_in_force") or {}
        want = res["config"]["threads"]
        wrong = [n for n in got.get("blas", []) if n != want]
        if wrong or got.get("torch") not in (None, want):
            p(f"WARNING: {res['config']['name']} ran with BLAS threads {got.get('blas')} and "
              f"torch threads {got.get('torch')}, not {want}")
    p(f"data: {args.source}; {args.rounds} interleaved rounds x {args.epochs_per_round} epochs; "
      f"s/epoch are medians per {N_TRAIN} examples")
    cut = [f"{res['config']['name']} ({res['rounds']})" for res in results
           if res["rounds"] < args.rounds]
    if cut:
        p(f"over the --budget, fewer rounds for: {', '.join(cut)}")
    p("")
    p("| config | impl | threads | s/epoch | min | examples/s | x bprop | x bprop (min) | target |")
    p("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for res in results:
        cfg = res["config"]
        for row in res["rows"]:
            target = next((f"{describe_want(c)}: {'met' if c['ok'] else 'NOT met'}"
                           for c in checks if c["config"] == cfg["name"] and c["impl"] == row.impl
                           and c["ratio"] is not None), "")
            note = " *" if row.note else ""
            threads = (f"{cfg['workers']} proc x 1" if row.impl == "bprop" and
                       cfg.get("workers", 1) > 1 else cfg["threads"])
            p(f"| {cfg['name']} | {row.impl}{note} | {threads} | {row.median:.3f} | "
              f"{min(row.seconds):.3f} | "
              f"{N_TRAIN / row.median:,.0f} | {row.ratio:.2f} | {row.ratio_min:.2f} | {target} |")
    subset = sorted({row.impl for res in results for row in res["rows"] if row.note})
    if subset:
        p(f"\n\\* {' and '.join(subset)}: timed on {args.per_example_subset} examples per "
          f"epoch, scaled to {N_TRAIN}.")
    if args.n_train:
        p(f"(--quick/--n-train: every implementation trained on {args.n_train} examples, "
          "scaled.)")
    p("")
    p("| config | predict 10k (bprop) | feedforward passes | predict 10k (torch) | "
      f"test accuracy | bprop vs torch / torch-functional: max rel. parameter diff, 1 epoch "
      f"on {AGREEMENT_EXAMPLES} |")
    p("|---|---:|---:|---:|---:|---:|")
    for res in results:
        ev = res["eval"]
        t = f"{ev['torch'] * 1e3:.1f} ms" if "torch" in ev else "-"
        d = " / ".join(f"{res[k]:.1e}" if res.get(k) is not None else "-"
                       for k in ("torch_weight_diff", "torch_functional_weight_diff"))
        p(f"| {res['config']['name']} | {ev['bprop'] * 1e3:.1f} ms | {ev['passes']} | {t} | "
          f"{ev['accuracy']:.4f} | {d} |")
    if memory:
        p("")
        p("| config | peak RSS, training | interpreter | data | model | overhead | of which "
          "training | allowed |")
        p("|---|---:|---:|---:|---:|---:|---:|---:|")
        for m in memory:
            if "error" in m:
                p(f"| {m['config']} | error: {m['error']} | | | | | | |")
                continue
            peak = m["peak_kib"] if m["hwm_reset"] else m["ru_maxrss_kib"]
            p(f"| {m['config']} | {peak / 1024:.1f} MiB | {m['base_kib'] / 1024:.1f} MiB | "
              f"{m['data_bytes'] / 2**20:.1f} MiB | {m['model_bytes'] / 2**20:.2f} MiB | "
              f"{m['overhead_mib']:.1f} MiB | {m['training_mib']:.1f} MiB | "
              f"{MEMORY_SLACK_MIB:.0f} MiB |")
        sources = {m["source"] for m in memory if "source" in m} - {args.source}
        if sources:
            p(f"WARNING: the memory runs read other data than the timed runs: {sources}")
    p("")
    for c in checks:
        if c["ratio"] is None:
            p(f"check {c['config']} vs {c['impl']}: {c.get('note', 'skipped')}")
        else:
            status = "ok" if c["ok"] else {"target": "FAIL", "stretch": "NOT MET (stretch, "
                                           "reported)"}.get(c["kind"], "NOT MET")
            p(f"check {c['config']} vs {c['impl']}: ratio {c['ratio']:.2f}, want "
              f"{describe_want(c)}: {status}")
