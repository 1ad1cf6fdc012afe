"""Where the rounds of the last federated GLM went, from the audit logs of the demo network:
the hub's (`task_created`, `answer_received`) and each site's (`task_received`, `answer_sent`
with the site's own `elapsed_ms`), all timestamped to the microsecond on one machine.

    python3 bench/stats_glm_rounds.py DEMO_DIR [ROUNDS]   (the last ROUNDS statistics tasks; 9)

Per round: wake = the task created at the hub until the site records it (the hub wakes the
site's long poll, the site reads the task); site = recorded until the answer is logged
(admission, computation and gate: the site's elapsed_ms in brackets, then the audit record);
send = logged at the site until the hub has checked and logged it; gap = the last answer of the
round before until this task is created (the hub merges, solves and asks again). Each column's
median takes the slowest site of each round, the one the round waits for.
"""
import glob
import json
import statistics
import sys
from datetime import datetime


def at(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def records(path):
    with open(path) as f:
        for line in f:
            try:
                yield json.loads(line)
            except ValueError:
                pass


demo = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 9
hub = list(records(f"{demo}/hub/audit/audit.log"))
created = [e for e in hub if e["kind"] == "task_created" and e["detail"].get("type") == "statistics"][-n:]
ids = {e["detail"]["task"] for e in created}
received = {}
for e in hub:
    if e["kind"] == "answer_received" and e["detail"]["task"] in ids:
        received.setdefault(e["detail"]["task"], {})[e["detail"]["site"]] = at(e["at"])
sites = {}
for path in glob.glob(f"{demo}/agents/*/state/audit/audit.log"):
    site = path.split("/agents/")[1].split("/")[0]
    for e in records(path):
        d = e["detail"]
        if isinstance(d, dict) and d.get("task") in ids:
            sites.setdefault(d["task"], {}).setdefault(site, {})[e["kind"]] = (at(e["at"]), d.get("elapsed_ms"))
cols = {"gap": [], "wake": [], "site": [], "compute": [], "send": [], "round": []}
end = None
print("round    gap |  wake ms per site   |  site ms (compute ms) per site        |  send ms per site   | round ms")
for i, c in enumerate(created, 1):
    t0 = at(c["at"])
    task = c["detail"]["task"]
    wake, site, comp, send = [], [], [], []
    for s, ev in sorted(sites.get(task, {}).items()):
        r = ev.get("task_received", (None, None))[0]
        a, ms = ev.get("answer_sent", (None, None))
        h = received.get(task, {}).get(s)
        if r is None or a is None or h is None:
            continue
        wake.append((r - t0) * 1e3)
        site.append((a - r) * 1e3)
        comp.append(ms or 0)
        send.append((h - a) * 1e3)
    last = max(received.get(task, {}).values(), default=t0)
    gap = (t0 - end) * 1e3 if end else None
    if gap is not None:
        cols["gap"].append(gap)
    for k, v in (("wake", wake), ("site", site), ("compute", comp), ("send", send)):
        if v:
            cols[k].append(max(v))
    cols["round"].append((last - t0) * 1e3)
    f = lambda xs: " ".join(f"{x:4.0f}" for x in xs)
    print(f"{i:5d} {'' if gap is None else f'{gap:6.0f}':>6} | {f(wake):19} | "
          f"{' '.join(f'{a:4.0f} ({b:3d})' for a, b in zip(site, comp)):37} | {f(send):19} | {(last - t0) * 1e3:6.0f}")
    end = last
print("medians, slowest site per round: " + ", ".join(
    f"{k} {statistics.median(v):.0f} ms" for k, v in cols.items() if v))
print(f"first task created to last answer received: {(end - at(created[0]['at'])) * 1e3:.0f} ms")
