"""Simulator and router benchmarks, side by side with Ciw and SimPy.

Run with the benchmark venv (never the main one):

    .venv-bench/bin/python bench/sim/run.py            # full run, writes bench/sim/results.md
    .venv-bench/bin/python bench/sim/run.py --reps 2   # fewer replications

Notes written by hand in results.md below the line ``NOTES`` (see below) are kept when
a run rewrites the file.

Same model, same number of replications and customers for every tool. Service level is
answered within 20 s / answered, after a 5 % warm-up, with a 95 % CI over replications.
"events" counts two events per customer (arrival and departure) for every tool, so
events/s ratios equal customers/s ratios.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from satupintu.engine.router import Agent, Interaction, Matcher, RuleSet  # noqa: E402
from satupintu.engine.simulate import (  # noqa: E402
    ANSWERED,
    quick_simulate,
    run_once,
    scenario_from_dict,
)
from satupintu.engine.simulate.models import mmc_scenario  # noqa: E402
from satupintu.engine.simulate.stats import ci95  # noqa: E402

AHT = 300.0
T = 20.0
NOTES = "<!-- notes by hand: run.py keeps what follows -->"


# ---------------------------------------------------------------------------- models
def satupintu_mmc(lam: float, c: int, n: int, seed: int
                  ) -> tuple[float, float, list[float]]:
    sc = mmc_scenario(arrival_rate=lam, aht_s=AHT, agents=c, customers=n)
    c0, t0 = time.process_time(), time.perf_counter()
    res = run_once(sc, seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    keep = (res.arrival > 0.05 * sc.horizon_s) & (res.outcome == ANSWERED)
    return wall, cpu, res.wait[keep].tolist()


def network_scenario(nodes: list[tuple[float, int]], n: int) -> Any:
    lam_total = sum(lam for lam, _ in nodes)
    horizon = n / lam_total
    return scenario_from_dict({
        "name": "network", "interval": horizon, "intervals": 1,
        "rules": {"version": "net", "queues": {
            f"n{k}": {"steps": [{"target": f"'n{k}' in agent.skills"}]}
            for k in range(len(nodes))}},
        "queues": [{"name": f"n{k}", "skills": {f"n{k}": 1}, "arrivals": lam * horizon,
                    "handle_time": {"dist": "exponential", "mean": AHT}}
                   for k, (lam, _) in enumerate(nodes)],
        "agents": [{"group": f"pool{k}", "count": c, "skills": {f"n{k}": 3},
                    "capacity": {"chat": 0, "email": 0}} for k, (_, c) in enumerate(nodes)],
    })


def satupintu_network(nodes: list[tuple[float, int]], n: int, seed: int
                      ) -> tuple[float, float, list[float]]:
    sc = network_scenario(nodes, n)
    c0, t0 = time.process_time(), time.perf_counter()
    res = run_once(sc, seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    keep = (res.arrival > 0.05 * sc.horizon_s) & (res.outcome == ANSWERED)
    return wall, cpu, res.wait[keep].tolist()


def satupintu_quick(lam: float, c: int, n: int, seed: int
                    ) -> tuple[float, float, float, float]:
    c0 = time.process_time()
    r = quick_simulate(calls=lam * 3600, interval_s=3600, aht_s=AHT, agents=c, customers=n,
                       seed=seed, warmup=0.05)
    return r.seconds, time.process_time() - c0, r.sl, r.asa_s


def ciw_run(nodes: list[tuple[float, int]], n: int, seed: int
            ) -> tuple[float, float, list[float]]:
    import ciw

    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam) for lam, _ in nodes],
        service_distributions=[ciw.dists.Exponential(rate=1 / AHT) for _ in nodes],
        number_of_servers=[c for _, c in nodes],
        routing=[[0.0] * len(nodes) for _ in nodes],
    )
    ciw.seed(seed)
    c0, t0 = time.process_time(), time.perf_counter()
    sim = ciw.Simulation(net)
    sim.simulate_until_max_customers(n, method="Finish")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    recs = sim.get_all_records()
    horizon = max(r.arrival_date for r in recs)
    return wall, cpu, [r.waiting_time for r in recs if r.arrival_date > 0.05 * horizon]


def simpy_run(nodes: list[tuple[float, int]], n: int, seed: int
              ) -> tuple[float, float, list[float]]:
    import simpy

    rng = random.Random(seed)
    lam_total = sum(lam for lam, _ in nodes)
    env = simpy.Environment()
    servers = [simpy.Resource(env, capacity=c) for _, c in nodes]
    waits: list[tuple[float, float]] = []
    probs = [lam / lam_total for lam, _ in nodes]

    def customer(node: int) -> Any:
        arrived = env.now
        with servers[node].request() as req:
            yield req
            waits.append((arrived, env.now - arrived))
            yield env.timeout(rng.expovariate(1 / AHT))

    def source() -> Any:
        for _ in range(n):
            yield env.timeout(rng.expovariate(lam_total))
            node = rng.choices(range(len(nodes)), probs)[0] if len(nodes) > 1 else 0
            env.process(customer(node))

    env.process(source())
    c0, t0 = time.process_time(), time.perf_counter()
    env.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    horizon = max(a for a, _ in waits)
    return wall, cpu, [w for a, w in waits if a > 0.05 * horizon]


def sl_asa(waits: list[float]) -> tuple[float, float]:
    arr = np.asarray(waits)
    return float(np.mean(arr <= T)), float(np.mean(arr))


# --------------------------------------------------------------------------- runner
def compare(title: str, n: int, reps: int, tools: dict[str, Callable[[int], Any]]
            ) -> tuple[str, dict[str, dict[str, float]]]:
    # tools take turns replication by replication, so a burst of load on the shared
    # cores hits all of them alike
    runs: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in tools}
    for r in range(reps):
        for name, fn in tools.items():
            res = fn(100 + r)
            if len(res) == 4:
                wall, cpu, sl, asa = res
            else:
                wall, cpu, waits = res
                sl, asa = sl_asa(waits)
            runs[name].append((wall, cpu, sl, asa))
            print(f"  {title} {name} rep {r}: {wall:.3f}s (CPU {cpu:.3f}s) SL {sl:.4f} "
                  f"ASA {asa:.2f}", flush=True)
    out: dict[str, dict[str, float]] = {}
    for name, rows in runs.items():
        sl_m, sl_h = ci95([row[2] for row in rows])
        asa_m, asa_h = ci95([row[3] for row in rows])
        wall = statistics.mean(row[0] for row in rows)
        cpu = statistics.mean(row[1] for row in rows)
        out[name] = {"wall": wall, "cpu": cpu, "cps": n / wall, "eps": 2 * n / wall,
                     "sl": sl_m, "sl_ci": sl_h, "asa": asa_m, "asa_ci": asa_h}
    ref = out["SatuPintu (full router)"]
    lines = [f"### {title} ({n:,} customers × {reps} replications)", "",
             "| tool | wall s (mean) | CPU s (mean) | customers/s | events/s | "
             "time ÷ SatuPintu full (wall / CPU) | SL (95 % CI) | ASA s (95 % CI) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, d in out.items():
        lines.append(
            f"| {name} | {d['wall']:.3f} | {d['cpu']:.3f} | {d['cps']:,.0f} | "
            f"{d['eps']:,.0f} | {d['wall'] / ref['wall']:.2f}× / {d['cpu'] / ref['cpu']:.2f}× | "
            f"{d['sl']:.4f} ± {_hw(d['sl_ci'], 4)} | {d['asa']:.2f} ± {_hw(d['asa_ci'], 2)} |")
    return "\n".join(lines) + "\n", out


def statistics_line(mmc: dict[str, dict[str, float]], net: dict[str, dict[str, float]],
                    theory: tuple[float, float]) -> str:
    """Whether the tools' 95 % intervals overlap and Erlang C lies in SatuPintu's (computed,
    not assumed)."""
    def overlap(rows: dict[str, dict[str, float]], key: str) -> bool:
        return max(d[key] - d[key + "_ci"] for d in rows.values()) <= min(
            d[key] + d[key + "_ci"] for d in rows.values())

    same = all(overlap(rows, key) for rows in (mmc, net) for key in ("sl", "asa"))
    sp = mmc["SatuPintu (full router)"]
    inside = (abs(sp["sl"] - theory[0]) <= sp["sl_ci"]
              and abs(sp["asa"] - theory[1]) <= sp["asa_ci"])
    return ("the service level and ASA confidence intervals of all tools "
            f"{'overlap' if same else 'do NOT all overlap'} (both models), and Erlang C "
            f"{'lies inside' if inside else 'lies OUTSIDE'} SatuPintu's (M/M/c).")


def _hw(x: float, digits: int) -> str:
    return "n/a" if math.isnan(x) else f"{x:.{digits}f}"


def erlang_c(lam: float, c: int) -> tuple[float, float]:
    a = lam * AHT
    top = a**c / math.factorial(c) * c / (c - a)
    pw = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return 1 - pw * math.exp(-(c / AHT - lam) * T), pw / (c / AHT - lam)


# ----------------------------------------------------------------------------- week
def week_scenario() -> Any:
    rng = np.random.default_rng(5)
    days, per_day = 7, 48
    n_int = days * per_day
    shape = np.array([max(0.0, math.sin(math.pi * (h - 14) / 32)) for h in range(per_day)])
    queues, rules = [], {}
    for q in range(10):
        base = 50 + 10 * q  # contacts per busy half hour
        rates = np.tile(shape * base, days) * np.repeat(
            [1.0, 1.0, 1.0, 1.0, 0.9, 0.5, 0.3], per_day)
        queues.append({"name": f"q{q}", "client": "c", "skills": {f"s{q}": 1},
                       "arrivals": [round(float(x), 2) for x in rates],
                       "handle_time": {"dist": "lognormal", "mean": 280, "sd": 150},
                       "patience": {"dist": "exponential", "mean": 150}, "acw": 15})
        rules[f"q{q}"] = {"steps": [
            {"target": f"agent.skills['s{q}'] >= 4", "timeout": 20},
            {"target": f"'s{q}' in agent.skills"}]}
    agents = []
    for a in range(300):
        skills = {f"s{s}": int(rng.integers(1, 6)) for s in rng.choice(10, 3, replace=False)}
        start = 7 + (a % 4) * 3  # 07:00, 10:00, 13:00, 16:00 starts
        shifts = [{"start": f"{d} {start:02d}:00", "end": f"{d} {start + 8:02d}:00",
                   "breaks": [[f"{d} {start + 4:02d}:00", f"{d} {start + 4:02d}:30"]]}
                  for d in range(days) if (a + d) % 7 < 5]
        agents.append({"id": f"a{a}", "skills": skills, "clients": ["c"],
                       "capacity": {"chat": 0, "email": 0}, "shifts": shifts})
    return scenario_from_dict({"name": "week", "interval": 1800, "intervals": n_int,
                               "rules": {"version": "w", "queues": rules},
                               "queues": queues, "agents": agents})


# --------------------------------------------------------------------------- router
def router_bench(n_agents: int = 5000, n_skills: int = 100, n_queues: int = 50,
                 n_waiting: int = 5000, n_events: int = 20000) -> dict[str, Any]:
    rng = random.Random(3)
    steps = [
        {"target": "interaction.skills.all(s, s in agent.skills && agent.skills[s] >= 4)",
         "timeout": 20},
        {"target": "interaction.skills.all(s, s in agent.skills && agent.skills[s] >= 2)",
         "timeout": 40, "priority_boost": 1},
        {"target": "interaction.skills.all(s, s in agent.skills)"},
    ]
    rules = RuleSet.from_dict({"version": "r", "queues": {
        f"q{q}": {"strategy": ["longest_idle", "highest_proficiency", "fewest_contacts",
                               "least_occupied"][q % 4], "steps": steps}
        for q in range(n_queues)}})
    m = Matcher(rules, auto_accept=True)
    for a in range(n_agents):
        skills = {f"s{s}": rng.randint(1, 5) for s in rng.sample(range(n_skills), 4)}
        m.add_agent(Agent(f"a{a}", skills=skills, clients=("c",),
                          capacity={"call": 1, "chat": 0, "email": 0}))
    now = 0.0
    seq = 0
    busy: list[str] = []

    def new_ix() -> Interaction:
        nonlocal seq
        seq += 1
        q = rng.randrange(n_queues)
        return Interaction(f"i{seq}", f"q{q}", client="c", skills={f"s{2 * q}": 1},
                           priority=rng.choice((0, 0, 0, 1)), enqueue_time=now)

    def take(offers: list[Any]) -> None:
        for o in offers:
            busy.append(o.interaction.id)

    for _ in range(n_agents + n_waiting):
        take(m.enqueue(new_ix(), now))
    for a in range(n_agents):
        take(m.set_ready(f"a{a}", now))
    # top up the queue to n_waiting
    while m.waiting_count < n_waiting:
        take(m.enqueue(new_ix(), now))
    # per event: wall clock, and this thread's CPU clock (the wall clock of an event also
    # counts the time slices the two shared cores gave to other processes meanwhile)
    lat: dict[str, list[int]] = {k: [] for k in ("arrival", "ready", "timeout")}
    cpu: dict[str, list[int]] = {k: [] for k in ("arrival", "ready", "timeout")}
    wall_ns = time.perf_counter_ns
    cpu_ns = time.thread_time_ns
    decisions0 = m.decisions
    t_start = time.perf_counter()
    for _ in range(n_events):
        now += 0.05
        t0, c0 = wall_ns(), cpu_ns()
        take(m.advance(now))
        lat["timeout"].append(wall_ns() - t0)
        cpu["timeout"].append(cpu_ns() - c0)
        # an agent finishes (agent-ready event: picks the best waiting interaction)
        k = rng.randrange(len(busy))
        busy[k], busy[-1] = busy[-1], busy[k]
        done = busy.pop()
        t0, c0 = wall_ns(), cpu_ns()
        take(m.complete(done, now))
        lat["ready"].append(wall_ns() - t0)
        cpu["ready"].append(cpu_ns() - c0)
        # a new contact arrives (arrival event: looks for an available eligible agent)
        t0, c0 = wall_ns(), cpu_ns()
        take(m.enqueue(new_ix(), now))
        lat["arrival"].append(wall_ns() - t0)
        cpu["arrival"].append(cpu_ns() - c0)
    wall = time.perf_counter() - t_start
    decisions = m.decisions - decisions0

    def pct(v: list[int], p: float) -> float:
        return float(np.percentile(np.asarray(v), p)) / 1000.0

    return {
        "agents": n_agents, "skills": n_skills, "queues": n_queues,
        "waiting_end": m.waiting_count, "available_end": len(m._avail["call"]),
        "events": 3 * n_events, "decisions": decisions, "wall": wall,
        "events_per_s": 3 * n_events / wall, "decisions_per_s": decisions / wall,
        **{f"{k}_p{p}": pct(lat[k], p) for k in lat for p in (50, 99)},
        **{f"{k}_cpu_p{p}": pct(cpu[k], p) for k in cpu for p in (50, 99)},
    }


# ----------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--out", default=str(Path(__file__).with_name("results.md")))
    args = ap.parse_args()
    n, reps = args.customers, args.reps
    import ciw
    import simpy

    lam, c = 12 / AHT, 15
    load_start = os.getloadavg()
    md = ["# Simulator and router benchmarks", "",
          f"Machine: {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, Ciw {ciw.__version__}, SimPy {simpy.__version__}. "
          "Command: `.venv-bench/bin/python bench/sim/run.py`. Two shared cores: "
          "wall times vary by up to ±30 % between runs; ratios are taken within one run, "
          "the tools taking turns replication by replication. CPU s is the process's "
          "CPU time over the same span (less sensitive to other work on the machine).",
          ""]
    theory = erlang_c(lam, c)
    text, mmc = compare("M/M/c, c = 15, AHT 300 s, load 12 Erlang", n, reps, {
        "SatuPintu (full router)": lambda s: satupintu_mmc(lam, c, n, s),
        "SatuPintu quick form": lambda s: satupintu_quick(lam, c, n, s),
        "Ciw": lambda s: ciw_run([(lam, c)], n, s),
        "SimPy": lambda s: simpy_run([(lam, c)], n, s),
    })
    md += [text, f"Erlang C: SL {theory[0]:.4f}, ASA {theory[1]:.2f} s.", ""]
    nodes = [(8 / AHT, 10), (6 / AHT, 8), (3 / AHT, 5)]
    text, net = compare("Network of three M/M/c nodes (10, 8 and 5 servers, own pools)", n,
                      reps, {
        "SatuPintu (full router)": lambda s: satupintu_network(nodes, n, s),
        "Ciw": lambda s: ciw_run(nodes, n, s),
        "SimPy": lambda s: simpy_run(nodes, n, s),
    })
    md += [text, "SatuPintu routes with CEL skill targets (`'n0' in agent.skills`), one "
           "matcher across the three queues; Ciw and SimPy have one queue per node.", ""]
    # quick form at 1M customers
    q = quick_simulate(calls=lam * 3600, interval_s=3600, aht_s=AHT, agents=c,
                       customers=1_000_000, seed=1)
    qa = quick_simulate(calls=lam * 3600, interval_s=3600, aht_s=AHT, agents=c,
                        customers=1_000_000, seed=1, patience_s=120)
    md += ["### Quick form (`satupintu simulate --calls … --agents 15`), 1,000,000 customers",
           "", f"- M/M/c: {q.customers_per_s:,.0f} customers/s (SL {q.sl:.4f})",
           f"- M/M/c+M (patience 120 s): {qa.customers_per_s:,.0f} customers/s", ""]
    # week
    sc = week_scenario()
    t0 = time.perf_counter()
    res = run_once(sc, 1)
    wall = time.perf_counter() - t0
    md += ["### A week, 300 agents, 10 queues, 336 half-hour intervals", "",
           f"- {res.n:,} contacts, {res.events:,} events, multi-skill agents (3 skills "
           "each), bullseye rules, shifts with breaks, patience and wrap-up: "
           f"**{wall:.2f} s** per replication ({res.n / wall:,.0f} contacts/s)", ""]
    print(f"week: {res.n} contacts in {wall:.2f}s", flush=True)
    rb = router_bench()
    md += ["### Router at scale", "",
           f"{rb['agents']:,} agents, {rb['skills']} skills, {rb['queues']} queues, "
           f"{rb['waiting_end']:,} waiting interactions, three-ring bullseye CEL rules. "
           f"Each round: step time-outs, one agent finishes (agent-ready decision), one "
           f"contact arrives (arrival decision); {rb['events']:,} events.", "",
           "| event | p50 µs | p99 µs | CPU clock p50 µs | CPU clock p99 µs |",
           "|---|---:|---:|---:|---:|",
           *[f"| {label} | {rb[k + '_p50']:.1f} | {rb[k + '_p99']:.1f} | "
             f"{rb[k + '_cpu_p50']:.1f} | {rb[k + '_cpu_p99']:.1f} |"
             for label, k in (("arrival", "arrival"), ("agent ready", "ready"),
                              ("step time-outs", "timeout"))], "",
           f"- {rb['decisions_per_s']:,.0f} decisions/s, {rb['events_per_s']:,.0f} "
           f"events/s; {rb['available_end']} idle agents that no waiting contact matches "
           "stay in the pool (an arrival skips those its group already found ineligible "
           "by one set difference).", ""]
    print(rb, flush=True)
    full = mmc["SatuPintu (full router)"]["wall"]
    nfull = net["SatuPintu (full router)"]
    r_mmc, r_net = mmc["Ciw"]["wall"] / full, net["Ciw"]["wall"] / nfull["wall"]
    c_mmc = mmc["Ciw"]["cpu"] / mmc["SatuPintu (full router)"]["cpu"]
    c_net = net["Ciw"]["cpu"] / nfull["cpu"]
    met = "met" if min(r_mmc, r_net) >= 10 else "not met"
    md += ["### Against the targets", "",
           f"- Full router vs Ciw, M/M/c: {r_mmc:.2f}× faster (CPU time {c_mmc:.2f}×); "
           f"network: {r_net:.2f}× faster (CPU time {c_net:.2f}×) "
           f"(target 10×: **{met}**; every assignment goes through the CEL router's "
           f"Python matcher, {full / n * 1e6:.1f} µs per customer in all, Ciw "
           f"{mmc['Ciw']['wall'] / n * 1e6:.1f} µs).",
           f"- Full router vs SimPy (no router): M/M/c {mmc['SimPy']['wall'] / full:.2f}×, "
           f"network {net['SimPy']['wall'] / net['SatuPintu (full router)']['wall']:.2f}× "
           "(above 1 = SatuPintu faster).",
           f"- Quick form vs Ciw: {mmc['Ciw']['wall'] / mmc['SatuPintu quick form']['wall']:.0f}"
           f"× faster; {q.customers_per_s:,.0f} customers/s (target 1,000,000: "
           f"{'met' if q.customers_per_s >= 1e6 else 'not met'}).",
           f"- Router p99: arrival {rb['arrival_p99']:.0f} µs, agent ready "
           f"{rb['ready_p99']:.0f} µs (target under 1 ms: "
           f"{'met' if max(rb['arrival_p99'], rb['ready_p99']) < 1000 else 'not met'}); "
           f"on the thread's CPU clock {rb['arrival_cpu_p99']:.0f} µs and "
           f"{rb['ready_cpu_p99']:.0f} µs ("
           f"{'met' if max(rb['arrival_cpu_p99'], rb['ready_cpu_p99']) < 1000 else 'not met'}"
           ").",
           f"- Statistics: {statistics_line(mmc, net, theory)}",
           f"- Machine load (1-minute load average, two cores): {load_start[0]:.1f} at the "
           f"start, {os.getloadavg()[0]:.1f} at the end.", ""]
    out = Path(args.out)
    text = "\n".join(md)
    # notes written by hand below the marker survive a new run
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    if NOTES in old:
        text += "\n" + old[old.index(NOTES):]
    out.write_text(text, encoding="utf-8")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
