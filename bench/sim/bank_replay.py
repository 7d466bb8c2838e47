"""Replay the Anonymous Bank call log through the simulator and compare per half hour.

    .venv/bin/python bench/sim/bank_replay.py [--reps 5] [--log PATH]

Prints a Markdown table: the log against the simulation without and with wrap-up
calibrated from the log (see ``satupintu.engine.simulate.bank``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from satupintu.engine.simulate.bank import compare_bank_log  # noqa: E402

LOG = Path("/work/shared/data/anonymous-bank-1999-02.tsv")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--log", default=str(LOG))
    args = ap.parse_args()
    plain = compare_bank_log(args.log, replications=args.reps)
    wrap = compare_bank_log(args.log, replications=args.reps, wrap_up=True)
    print("| half hour | calls | agents | SL log | SL sim | SL sim+wrap | ASA log | ASA sim | "
          "ASA sim+wrap | aband. log | aband. sim | aband. sim+wrap |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, label in enumerate(plain.label):
        print(
            f"| {label} | {plain.offered[i]:.0f} | {plain.agents[i]:.1f} | "
            f"{plain.log['sl'][i]:.2f} | {plain.sim['sl'][i]:.2f} | {wrap.sim['sl'][i]:.2f} | "
            f"{plain.log['asa_s'][i]:.0f} | {plain.sim['asa_s'][i]:.0f} | "
            f"{wrap.sim['asa_s'][i]:.0f} | {plain.log['abandon_rate'][i]:.3f} | "
            f"{plain.sim['abandon_rate'][i]:.3f} | {wrap.sim['abandon_rate'][i]:.3f} |"
        )
    for name, c in (("sim", plain), ("sim+wrap", wrap)):
        tl, ts = c.total_log, c.total_sim
        print(f"\nWhole month, {name}: SL log {tl['sl']:.3f} vs {ts['sl'][0]:.3f} ± "
              f"{ts['sl'][1]:.3f}; ASA log {tl['asa_s']:.1f} s vs {ts['asa_s'][0]:.1f} ± "
              f"{ts['asa_s'][1]:.1f} s; abandonment log {tl['abandon_rate']:.3f} vs "
              f"{ts['abandon_rate'][0]:.3f} ± {ts['abandon_rate'][1]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
