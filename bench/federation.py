"""Federation latency and throughput on loopback, real processes.

1. The 4 demo sites: end-to-end latency of a cohort query (create -> merged, all answered),
   and the overhead beyond the slowest site's own computing time.
2. 40 simulated sites (40 agent processes over one small synthetic site): the same.
3. Hub throughput: 200 concurrent queries (threads), zero errors required.

Usage: python3 bench/federation.py [--bin target/release/kakehashi] [--bin OTHER ...] [--out bench-out]

Given several binaries (e.g. a build before a change and one after), runs the whole benchmark
with each in turn, in one run, and prints one table for all.
"""
import argparse, concurrent.futures as cf, json, os, shutil, socket, statistics, subprocess, sys, time, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--bin", action="append", help="a kakehashi binary (repeat to compare builds)")
ap.add_argument("--out", default="bench-out")
ap.add_argument("--sites", type=int, default=40)
a = ap.parse_args()
BINS = [os.path.abspath(b) for b in (a.bin or [os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "kakehashi")])]
QUERY = json.load(open(os.path.join(os.path.dirname(__file__), "cohort", "three.json")))

def port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def call(url, method="GET", body=None, token=None, timeout=120):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        t = r.read()
        return json.loads(t) if t else None

def ask(url, token, deadline=60):
    t0 = time.perf_counter()
    task = call(f"{url}/api/tasks", "POST", {"project": "demo", "spec": {"type": "cohort", "ccdl": QUERY}, "deadline_seconds": deadline}, token)
    m = call(f"{url}/api/tasks/{task['id']}?wait={deadline}", token=token, timeout=deadline + 30)
    total = (time.perf_counter() - t0) * 1000
    states = [s["state"] for s in m["sites"]]
    slowest = max((s["elapsed_ms"] or 0) for s in m["sites"])
    return total, slowest, states

def measure(url, token, n=20):
    ask(url, token)  # warm: builds each site's cohort index
    rows = [ask(url, token) for _ in range(n)]
    assert all(all(x == "answered" for x in r[2]) for r in rows), rows[-1][2]
    tot = sorted(r[0] for r in rows); over = sorted(r[0] - r[1] for r in rows)
    return {"p50_ms": statistics.median(tot), "p95_ms": tot[int(len(tot) * 0.95) - 1], "overhead_p50_ms": statistics.median(over), "slowest_site_p50_ms": statistics.median(r[1] for r in rows)}

def run(K, OUT):
    # 1. the demo network
    shutil.rmtree(OUT, ignore_errors=True); os.makedirs(OUT)
    p = port(); url = f"http://127.0.0.1:{p}"
    demo = subprocess.Popen([K, "demo", "--patients", "5000", "--port", str(p), "--data-dir", os.path.join(OUT, "demo")], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in demo.stdout:
        if "demo network is running" in line:
            break
    token = open(os.path.join(OUT, "demo", "hub", "researcher.token")).read().strip()
    admin = open(os.path.join(OUT, "demo", "hub", "admin.token")).read().strip()
    r4 = measure(url, token)
    print(f"4 demo sites (5,000 patients each): p50 {r4['p50_ms']:.0f} ms, p95 {r4['p95_ms']:.0f} ms; beyond the slowest site's own time: p50 {r4['overhead_p50_ms']:.0f} ms")

    # 3. throughput: 200 concurrent queries
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(200) as ex:
        results = list(ex.map(lambda _: (lambda r: r[2])(ask(url, token, 120)), range(200)))
    dt = time.perf_counter() - t0
    errors = sum(1 for s in results if any(x != "answered" for x in s))
    print(f"200 concurrent queries: {dt:.1f} s, {200 / dt:.1f} queries/s, {errors} errors")

    # 2. 40 simulated sites: register 40 more agents over one small site (the demo's jp-osaka data)
    site_dir = os.path.join(OUT, "demo", "sites", "jp-osaka")
    procs = []
    for i in range(a.sites):
        sid = f"sim-{i:02d}"; d = os.path.join(OUT, "sim", sid); os.makedirs(d, exist_ok=True)
        cfg = os.path.join(d, "site.toml")
        base = f'site_id = "{sid}"\nhub = "{url}"\ntoken_file = "{d}/site.token"\nsite_dir = "{site_dir}"\nstate_dir = "{d}/state"\npoll_seconds = 20\n'
        # a plain-http hub on loopback needs allow_insecure from the build that refuses http
        # hubs on; older builds refuse the unknown key
        for extra in ("allow_insecure = true\n", ""):
            open(cfg, "w").write(base + extra + '[disclosure]\nprojects = ["*"]\n')
            r = subprocess.run([K, "site", "--config", cfg, "--print-public-key"], capture_output=True, text=True)
            if r.returncode == 0:
                break
        r.check_returncode()
        pk = r.stdout.strip()
        tok = call(f"{url}/api/admin/sites", "POST", {"id": sid, "name": sid, "country": "JP", "public_key": pk}, admin)["token"]
        open(f"{d}/site.token", "w").write(tok)
        procs.append(subprocess.Popen([K, "site", "--config", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    while sum(1 for s in call(f"{url}/api/sites", token=admin) if s["status"] == "online") < 4 + a.sites:
        time.sleep(0.2)
    r44 = measure(url, token, 10)
    print(f"{4 + a.sites} sites: p50 {r44['p50_ms']:.0f} ms, p95 {r44['p95_ms']:.0f} ms; beyond the slowest site's own time: p50 {r44['overhead_p50_ms']:.0f} ms")
    for pr in procs:
        pr.terminate()
    demo.terminate(); demo.wait(30)
    return {"four_sites": r4, "many_sites": r44, "concurrent_200": {"seconds": dt, "errors": errors}}


results = {}
for i, b in enumerate(BINS):
    print(f"== {b}")
    results[b] = run(b, os.path.abspath(os.path.join(a.out, "federation", str(i))))
print()
print("| build | 4 sites p50 | 4 sites p95 | beyond slowest site (4) | slowest site (4) | %d sites p50 | %d sites p95 | beyond slowest site (%d) | 200 concurrent |" % ((4 + a.sites,) * 3))
print("|---|---|---|---|---|---|---|---|---|")
for b, r in results.items():
    f, m, c = r["four_sites"], r["many_sites"], r["concurrent_200"]
    print(f"| {b} | {f['p50_ms']:.0f} ms | {f['p95_ms']:.0f} ms | {f['overhead_p50_ms']:.0f} ms | {f['slowest_site_p50_ms']:.0f} ms | {m['p50_ms']:.0f} ms | {m['p95_ms']:.0f} ms | {m['overhead_p50_ms']:.0f} ms | {200 / c['seconds']:.1f} q/s, {c['errors']} errors |")
print(json.dumps(results))
