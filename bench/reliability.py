"""Load and fault figures of the hub (issue 27, point 8), against a real hub and real site
agents on loopback (release binary, real TLS where the scenario is about TLS).

Each subcommand prints its numbers and one line `PASS ...` or `FAIL ...` (exit status 1 on
FAIL):

  concurrent  500 researchers' cohort questions at once (distinct API tokens): 0 errors,
              p50/p99 latency from POST /api/tasks to the merged answer of all 4 sites
  slowloris   1,000 slow connections held open (half trickle a request head after the TLS
              handshake, half never finish the handshake), reopened as the hub closes them,
              while 30 questions are asked: each answered, p99 < 1 s; how the hub closed them
  handshakes  10,000 bad TLS handshakes (garbage, truncated ClientHello, plain HTTP) twice, as
              fast as the client can: rate, the hub's RSS before and after, a question after
  crash       SIGKILL of the hub x50 while researchers ask and the 4 agents answer, restart
              each time: every answer the hub had shown as answered is still stored (and in
              its audit log at the end), `kakehashi audit verify` passes after every restart,
              for the hub and against each site's kept heads (and each site against the hub's)
  signins     N failed sign-ins at once (distinct names, from 16 loopback addresses so no
              address reaches its throttle): the hub's peak RSS stays bounded (< 500 MB)
  offline     one site's agent stopped for N minutes while a researcher keeps asking, then
              restarted: time to catch up, every still-valid task answered by it, the expired
              ones never handed out (offline at the hub, nothing computed at the site),
              memory and disk of the hub and the site over time

Usage:
  python3 bench/reliability.py --bin /work/bench-bin/kakehashi-main [--out DIR] SCENARIO [options]

The sites are the demo's four synthetic sites (`kakehashi demo --prepare-only`, 2,000 patients
each by default), made once in OUT/sites-N. The TLS certificate is the hub's test certificate
(crates/hub/tests/tls). Python 3.11 standard library only.
"""
import argparse, asyncio, concurrent.futures as cf, http.client, json, os, random, shutil, signal, sqlite3, ssl, socket, statistics, subprocess, sys, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TLS_DIR = os.path.join(ROOT, "crates", "hub", "tests", "tls")
QUERY = json.load(open(os.path.join(HERE, "cohort", "three.json")))
SITES = ["de-berlin", "de-frankfurt", "jp-osaka", "jp-tokyo"]
ADMIN_PW = "admin-password-reliability"
PROJECT = "load"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def question(i):
    """A cohort question (bench/cohort/three.json) with CRP > 1 + i/100 mg/L: each i a new
    question, so every site computes, spends ε and writes its ledger."""
    q = json.loads(json.dumps(QUERY))
    q["inclusionCriteria"][1][0]["valueFilter"]["value"] = round(1 + i / 100, 2)
    return q


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


def rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None


def listen_overflows():
    """The kernel's count of connections dropped because a listen queue was full (all
    sockets of the machine: TcpExt ListenOverflows)."""
    lines = [l.split() for l in open("/proc/net/netstat") if l.startswith("TcpExt:")]
    return int(lines[1][lines[0].index("ListenOverflows")])


def du(path):
    total = 0
    for dp, _, fs in os.walk(path):
        for f in fs:
            try:
                total += os.lstat(os.path.join(dp, f)).st_blocks * 512
            except OSError:
                pass
    return total


def mb(b):
    return f"{b / 1e6:.1f} MB"


class HttpError(Exception):
    def __init__(self, status, text):
        super().__init__(f"HTTP {status}: {text[:200]}")
        self.status = status


class Net:
    """A hub (`kakehashi hub --config`) and the four demo sites' agents, as processes."""

    def __init__(self, k, out, sites_dir, tls=False, limits=None, poll_seconds=25, users=1, tokens_per_user=1):
        self.k, self.dir, self.tls = k, out, tls
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        self.port = free_port()
        self.ctx = ssl.create_default_context(cafile=os.path.join(TLS_DIR, "ca.pem")) if tls else None
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.hub_dir = os.path.join(out, "hub")
        self.sites_dir = sites_dir
        self.poll_seconds = poll_seconds
        self.local = threading.local()
        cfg = f'listen = "127.0.0.1:{self.port}"\ndata_dir = "{self.hub_dir}"\n'
        if tls:
            cfg += f'[tls]\ncert = "{TLS_DIR}/hub.pem"\nkey = "{TLS_DIR}/hub.key"\n'
        if limits:
            cfg += "[limits]\n" + "".join(f"{a} = {b}\n" for a, b in limits.items())
        self.cfg = os.path.join(out, "hub.toml")
        open(self.cfg, "w").write(cfg)
        self.hub = None
        self.agents = {}
        self.start_hub()
        self.admin = self.call("POST", "/api/login", {"name": "admin", "password": ADMIN_PW})["session"]
        names = [f"r{u:03d}" for u in range(users)]
        for n in names:
            self.call("POST", "/api/admin/users", {"name": n, "password": "password-of-" + n, "role": "researcher"}, self.admin)
        self.call("POST", "/api/admin/projects", {"id": PROJECT, "title": "Load", "members": names}, self.admin)
        self.tokens = []
        for n in names:
            s = self.call("POST", "/api/login", {"name": n, "password": "password-of-" + n})["session"]
            for t in range(tokens_per_user):
                self.tokens.append(self.call("POST", "/api/tokens", {"label": f"load-{t}"}, s)["token"])
        for s in SITES:
            self.add_site(s)
        for s in SITES:
            self.start_agent(s)
        self.wait_online(len(SITES))

    # --- processes
    def start_hub(self):
        log = open(os.path.join(self.dir, "hub.log"), "ab")
        env = dict(os.environ, KAKEHASHI_ADMIN_PASSWORD=ADMIN_PW)
        self.hub = subprocess.Popen([self.k, "hub", "--config", self.cfg], env=env, stdout=subprocess.DEVNULL, stderr=log)
        t = time.time()
        while True:
            if self.hub.poll() is not None:
                raise SystemExit(f"the hub exited ({self.hub.returncode}); see {self.dir}/hub.log")
            try:
                self.call("GET", "/healthz", fresh=True, timeout=2)
                return time.time() - t
            except Exception:
                pass
            if time.time() - t > 60:
                raise SystemExit("the hub did not start in 60 s")
            time.sleep(0.02)

    def kill_hub(self):
        self.hub.send_signal(signal.SIGKILL)
        self.hub.wait()

    def agent_dir(self, site):
        return os.path.join(self.dir, "agents", site)

    def add_site(self, site):
        d = self.agent_dir(site)
        os.makedirs(d, exist_ok=True)
        cfg = os.path.join(d, "site.toml")
        trust = f'hub_ca = "{TLS_DIR}/ca.pem"\n' if self.tls else "allow_insecure = true\n"
        open(cfg, "w").write(
            f'site_id = "{site}"\nhub = "{self.url}"\ntoken_file = "{d}/site.token"\n'
            f'site_dir = "{self.sites_dir}/sites/{site}"\nstate_dir = "{d}/state"\n'
            f"poll_seconds = {self.poll_seconds}\nmax_backoff_seconds = 1\n{trust}\n"
            '[disclosure]\nprojects = ["*"]\nepsilon = 0.01\nproject_budget = 1000000.0\n'
            "researcher_budget = 1000000.0\ntasks_per_minute = 1000000\n"
        )
        pk = subprocess.run([self.k, "site", "--config", cfg, "--print-public-key"], capture_output=True, text=True, check=True).stdout.strip()
        country = "DE" if site.startswith("de-") else "JP"
        tok = self.call("POST", "/api/admin/sites", {"id": site, "name": site, "country": country, "public_key": pk}, self.admin)["token"]
        open(os.path.join(d, "site.token"), "w").write(tok)

    def start_agent(self, site):
        d = self.agent_dir(site)
        log = open(os.path.join(d, "agent.log"), "ab")
        self.agents[site] = subprocess.Popen([self.k, "site", "--config", os.path.join(d, "site.toml")], stdout=subprocess.DEVNULL, stderr=log)

    def stop_agent(self, site):
        p = self.agents.pop(site)
        p.terminate()
        p.wait(30)

    def wait_online(self, n, timeout=60):
        t = time.time()
        while sum(1 for s in self.call("GET", "/api/sites", token=self.admin) if s["status"] == "online") < n:
            if time.time() - t > timeout:
                raise SystemExit("sites did not come online")
            time.sleep(0.2)

    def close(self):
        for p in list(self.agents.values()) + [self.hub]:
            if p and p.poll() is None:
                p.terminate()
        for p in list(self.agents.values()) + [self.hub]:
            if p:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()

    # --- HTTP
    def conn(self, timeout):
        if self.tls:
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=timeout)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def call(self, method, path, body=None, token=None, fresh=False, timeout=150):
        """One request. A kept-alive connection per thread unless `fresh`; one idle for more
        than 5 s is not reused (the hub closes idle ones after 10 s). Never retried."""
        c = None
        if not fresh:
            cached = getattr(self.local, "c", None)
            if cached and time.time() - cached[1] < 5:
                c = cached[0]
            elif cached:
                cached[0].close()
            self.local.c = None
        if c is None:
            c = self.conn(timeout)
        c.timeout = timeout
        if c.sock is not None:
            c.sock.settimeout(timeout)
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        try:
            c.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
            r = c.getresponse()
            text = r.read().decode()
        except Exception:
            c.close()
            raise
        if fresh or r.will_close:
            c.close()
        else:
            self.local.c = (c, time.time())
        if r.status >= 300:
            raise HttpError(r.status, text)
        return json.loads(text) if text and text[0] in "[{" else text

    def ask(self, token, i, deadline=120, fresh=False):
        """Posts question i and waits for the merged answer of every site. Returns (ms, task,
        states by site)."""
        t0 = time.perf_counter()
        task = self.call("POST", "/api/tasks", {"project": PROJECT, "spec": {"type": "cohort", "ccdl": question(i)}, "deadline_seconds": deadline}, token, fresh=fresh)
        while True:
            m = self.call("GET", f"/api/tasks/{task['id']}?wait={min(deadline, 120)}", token=token, fresh=fresh)
            states = {s["site"]: s["state"] for s in m["sites"]}
            if all(s != "pending" for s in states.values()) or time.perf_counter() - t0 > deadline + 5:
                return (time.perf_counter() - t0) * 1000, task["id"], states


def prepare_sites(k, out, patients):
    d = os.path.join(out, f"sites-{patients}")
    if not os.path.isdir(os.path.join(d, "sites", "jp-tokyo")):
        shutil.rmtree(d, ignore_errors=True)
        subprocess.run([k, "demo", "--prepare-only", "--patients", str(patients), "--data-dir", d], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return d


RESULT = {}  # the run's figures that are times or rates, for the medians over --runs


def verdict(ok, text, **figures):
    RESULT.clear()
    RESULT.update(figures)
    print(("PASS " if ok else "FAIL ") + text, flush=True)
    return 0 if ok else 1


def machine():
    load = open("/proc/loadavg").read().split()[:3]
    return f"{os.cpu_count()} cores, load average {' '.join(load)} at start"


# ---------------------------------------------------------------- concurrent
def concurrent(a, k, sites):
    n = a.n
    users = max(1, n // a.tokens_per_user)
    net = Net(k, os.path.join(a.out, "concurrent"), sites, tls=not a.plain, users=users, tokens_per_user=a.tokens_per_user)
    try:
        net.ask(net.tokens[0], 0)  # warm: each site builds its cohort index
        rss0 = rss_kb(net.hub.pid)
        barrier = threading.Barrier(n)

        def one(i):
            tok = net.tokens[i % len(net.tokens)]
            barrier.wait()
            try:
                ms, _, states = net.ask(tok, 1 + i, deadline=300)
                bad = {s: st for s, st in states.items() if st != "answered"}
                return ms, (f"not answered: {bad}" if bad else None)
            except Exception as e:
                return None, f"{type(e).__name__}: {e}"

        t0 = time.perf_counter()
        with cf.ThreadPoolExecutor(n) as ex:
            res = list(ex.map(one, range(n)))
        wall = time.perf_counter() - t0
        errs = [e for _, e in res if e]
        lat = [ms for ms, e in res if not e]
        print(f"concurrent: {n} researchers' questions at once ({len(set(net.tokens))} API tokens of {users} researchers, {'TLS' if net.tls else 'plain HTTP'}, 4 sites)")
        print(f"  wall {wall:.1f} s, {n / wall:.1f} questions/s; latency (post -> all 4 sites answered) p50 {pct(lat, 50):.0f} ms, p99 {pct(lat, 99):.0f} ms, max {max(lat, default=0):.0f} ms")
        print(f"  errors {len(errs)}" + (f"; first: {errs[:3]}" if errs else ""))
        print(f"  hub RSS {rss0 / 1024:.1f} MB before, {rss_kb(net.hub.pid) / 1024:.1f} MB after")
        return verdict(not errs and len(lat) == n, f"concurrent: {n} questions, {len(errs)} errors, p50 {pct(lat, 50):.0f} ms, p99 {pct(lat, 99):.0f} ms", errors=len(errs), p50_ms=pct(lat, 50), p99_ms=pct(lat, 99), questions_per_s=n / wall)
    finally:
        net.close()


# ---------------------------------------------------------------- slowloris
async def slow_conn(kind, net, stats, stop, head_ctx):
    """Keeps one slow connection of `kind` open until `stop`, reopening it when the hub closes
    it; records how long the hub let each live."""
    hello = client_hello()
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            if kind == "trickle":
                r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", net.port, ssl=head_ctx, server_hostname="127.0.0.1"), 30)
                w.write(b"GET /api/sites HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            else:
                r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", net.port), 30)
                if kind == "hello-part":
                    w.write(hello[: len(hello) // 2])
            await w.drain()
        except Exception as e:
            stats["open_failed"] += 1
            stats[kind + "_failed"] += 1
            stats.setdefault("open_errors", set()).add(f"{kind}: {type(e).__name__} after {time.monotonic() - t0:.1f} s" if time.monotonic() - t0 > 1 else f"{kind}: {type(e).__name__}")
            await asyncio.sleep(0.5)
            continue
        t0 = time.monotonic()  # the hub's clock for this connection starts now (after the handshake for trickle)
        stats["open"] += 1
        stats["max_open"] = max(stats["max_open"], stats["open"])
        stats[kind + "_opened"] += 1
        closed_by_hub = False

        async def trickle():
            i = 0
            while True:
                await asyncio.sleep(1)
                w.write(b"X-%d: %d\r\n" % (i, i))
                await w.drain()
                i += 1

        tr = asyncio.ensure_future(trickle()) if kind == "trickle" else None
        rd = asyncio.ensure_future(r.read(65536))
        st = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait([x for x in (rd, st, tr) if x], return_when=asyncio.FIRST_COMPLETED)
            if st not in done:
                closed_by_hub = True
                if rd in done and not rd.exception() and rd.result():
                    stats.setdefault("answers", set()).add(rd.result()[:40])
        finally:
            for x in (rd, st, tr):
                if x and not x.done():
                    x.cancel()
                elif x and not x.cancelled():
                    x.exception()  # retrieved: a reset is how the hub closes
            stats["open"] -= 1
            try:
                w.close()
            except Exception:
                pass
        if closed_by_hub:
            stats[kind + "_closed"].append(time.monotonic() - t0)


def client_hello():
    """A real TLS ClientHello (what Python's client would send) as bytes."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inc, out, server_hostname="hub.example")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


async def slowloris_run(a, net):
    from collections import defaultdict
    stats = defaultdict(int)
    for kind in ("trickle", "idle", "hello-part"):
        stats[kind + "_closed"] = []
    stop = asyncio.Event()
    n = a.connections
    kinds = ["trickle"] * (n // 2) + ["idle"] * (n // 4) + ["hello-part"] * (n - n // 2 - n // 4)
    tasks = []
    for i, kind in enumerate(kinds):
        tasks.append(asyncio.ensure_future(slow_conn(kind, net, stats, stop, net.ctx)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    t = time.monotonic()
    while stats["open"] < n and time.monotonic() - t < 60:
        await asyncio.sleep(0.1)
    print(f"  {stats['open']} slow connections open after {time.monotonic() - t:.1f} s")
    lat, errs, open_at = [], [], []
    t_attack = time.monotonic()
    for i in range(a.queries):
        open_at.append(stats["open"])
        try:
            ms, _, states = await asyncio.to_thread(net.ask, net.tokens[0], 10_000 + i, 60, True)
            bad = {s: st for s, st in states.items() if st != "answered"}
            if bad:
                errs.append(f"not answered: {bad}")
            else:
                lat.append(ms)
        except Exception as e:
            errs.append(f"{type(e).__name__}: {e}")
        await asyncio.sleep(max(0.0, a.spacing - 0.0))
    # keep the attack going until each kind has had time to be cut off at least once
    while time.monotonic() - t_attack < a.seconds:
        await asyncio.sleep(0.2)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return stats, lat, errs, open_at, time.monotonic() - t_attack


def slowloris(a, k, sites):
    limits = {}
    if a.max_connections:
        limits["max_connections"] = a.max_connections
    net = Net(k, os.path.join(a.out, "slowloris"), sites, tls=True, limits=limits)
    try:
        net.ask(net.tokens[0], 0)
        rss0 = rss_kb(net.hub.pid)
        print(f"slowloris: {a.connections} slow connections to the TLS hub (1/2 trickle a request head after the handshake, 1/4 idle without a byte, 1/4 stop half-way through the ClientHello), reopened when closed; {a.queries} questions meanwhile, each on a new TLS connection")
        lo = listen_overflows()
        stats, lat, errs, open_at, dur = asyncio.run(slowloris_run(a, net))
        lo = listen_overflows() - lo
        print(f"  questions: {len(lat)} answered by all 4 sites, {len(errs)} errors; latency p50 {pct(lat, 50):.0f} ms, p99 {pct(lat, 99):.0f} ms, max {max(lat, default=0):.0f} ms; slow connections open while asked: median {statistics.median(open_at):.0f}, min {min(open_at)}, max {max(open_at)}")
        if errs:
            print(f"  first errors: {errs[:3]}")
        print(f"  attack {dur:.0f} s; at most {stats['max_open']} slow connections open at once; {stats['open_failed']} failed to open {sorted(stats.get('open_errors', []))[:6]}; the kernel's listen-queue overflows meanwhile (machine-wide): {lo}")
        for kind in ("trickle", "idle", "hello-part"):
            c = stats[kind + "_closed"]
            print(f"  {kind}: {stats[kind + '_opened']} opened ({stats[kind + '_failed']} failed to open), {len(c)} closed by the hub after median {pct(c, 50):.1f} s (min {min(c, default=float('nan')):.1f}, max {max(c, default=float('nan')):.1f} s)")
        if stats.get("answers"):
            print(f"  what the hub sent before closing: {sorted(stats['answers'])}")
        alive = net.hub.poll() is None
        print(f"  hub RSS {rss0 / 1024:.1f} MB before, {rss_kb(net.hub.pid) / 1024:.1f} MB after; hub running: {alive}")
        ok = alive and not errs and len(lat) == a.queries and pct(lat, 99) < 1000 and statistics.median(open_at) >= a.connections * 0.9
        return verdict(ok, f"slowloris: {a.connections} slow connections, {len(lat)}/{a.queries} questions answered, p50 {pct(lat, 50):.0f} ms, p99 {pct(lat, 99):.0f} ms (< 1000 required)", errors=len(errs), p50_ms=pct(lat, 50), p99_ms=pct(lat, 99), max_ms=max(lat, default=0), hub_closed_trickle_median_s=pct(stats["trickle_closed"], 50), hub_closed_idle_median_s=pct(stats["idle_closed"], 50), hub_closed_hello_part_median_s=pct(stats["hello-part_closed"], 50))
    finally:
        net.close()


# ---------------------------------------------------------------- handshakes
async def bad_handshakes(port, n, conc, hello, counts):
    kinds = ["garbage", "truncated-hello", "plain-http"]
    sem = asyncio.Semaphore(conc)
    rnd = random.Random(27)

    async def one(i):
        kind = kinds[i % 3]
        async with sem:
            try:
                r, w = await asyncio.open_connection("127.0.0.1", port)
            except Exception as e:
                counts["connect_failed"] += 1
                counts.setdefault("connect_errors", set()).add(type(e).__name__)
                return
            try:
                if kind == "garbage":
                    w.write(rnd.randbytes(rnd.randint(1, 600)))
                elif kind == "truncated-hello":
                    w.write(hello[: rnd.randint(5, len(hello) - 1)])
                else:
                    w.write(b"GET /api/sites HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                await w.drain()
                if kind == "truncated-hello":
                    counts[kind + "_abandoned"] += 1  # the client gives up mid-handshake
                else:
                    data = await asyncio.wait_for(r.read(4096), 15)
                    counts[kind + ("_alert" if data else "_closed")] += 1
            except (ConnectionError, asyncio.TimeoutError, OSError) as e:
                counts[kind + "_" + type(e).__name__] += 1
            finally:
                w.close()

    await asyncio.gather(*(one(i) for i in range(n)))


def handshakes(a, k, sites):
    from collections import defaultdict
    net = Net(k, os.path.join(a.out, "handshakes"), sites, tls=True)
    try:
        net.ask(net.tokens[0], 0)
        hello = client_hello()
        pid = net.hub.pid
        rss = [rss_kb(pid)]
        rates = []
        print(f"handshakes: {a.rounds} rounds of {a.n} bad TLS handshakes (1/3 random bytes, 1/3 a ClientHello cut short and abandoned, 1/3 plain HTTP to the TLS port), {a.concurrency} at a time")
        print(f"  hub RSS before: {rss[0] / 1024:.1f} MB")
        for rnd in range(a.rounds):
            counts = defaultdict(int)
            t0 = time.perf_counter()
            asyncio.run(bad_handshakes(net.port, a.n, a.concurrency, hello, counts))
            dt = time.perf_counter() - t0
            time.sleep(1)
            rss.append(rss_kb(pid))
            c = {x: y for x, y in sorted(counts.items()) if x != "connect_errors"}
            rates.append(a.n / dt)
            print(f"  round {rnd + 1}: {a.n} in {dt:.1f} s = {a.n / dt:.0f}/s; {c}; hub RSS after {rss[-1] / 1024:.1f} MB")
        time.sleep(a.settle)
        rss.append(rss_kb(pid))
        ms, _, states = net.ask(net.tokens[0], 20_000, 60, fresh=True)
        answered = all(s == "answered" for s in states.values())
        alive = net.hub.poll() is None
        print(f"  after {a.settle} s: hub RSS {rss[-1] / 1024:.1f} MB; a question then: {ms:.0f} ms, states {sorted(set(states.values()))}")
        growth_last = (rss[-2] - rss[1]) / 1024 if len(rss) > 3 else (rss[-2] - rss[0]) / 1024
        ok = alive and answered and growth_last < a.max_growth_mb
        return verdict(ok, f"handshakes: {a.n * a.rounds} bad handshakes, hub serving: {answered}, RSS {rss[0] / 1024:.1f} -> {' -> '.join(f'{x / 1024:.1f}' for x in rss[1:])} MB (growth after the first round {growth_last:.1f} MB, < {a.max_growth_mb} MB required)", handshakes_per_s=statistics.median(rates), question_after_ms=ms, rss_before_mb=rss[0] / 1024, rss_after_mb=rss[-1] / 1024)
    finally:
        net.close()


# ---------------------------------------------------------------- crash
def hub_answers(hub_dir):
    c = sqlite3.connect(f"file:{hub_dir}/hub.sqlite?mode=ro", uri=True, timeout=30)
    try:
        return set(c.execute("SELECT task, site FROM answers").fetchall())
    finally:
        c.close()


def hub_tasks(hub_dir):
    c = sqlite3.connect(f"file:{hub_dir}/hub.sqlite?mode=ro", uri=True, timeout=30)
    try:
        return {r[0] for r in c.execute("SELECT id FROM tasks").fetchall()}
    finally:
        c.close()


def logged_answers(hub_dir):
    out = set()
    for line in open(os.path.join(hub_dir, "audit", "audit.log"), errors="replace"):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("kind") == "answer_received":
            out.add((e["detail"]["task"], e["detail"]["site"]))
    return out


def verify(k, args):
    r = subprocess.run([k, "audit", "verify", *args], capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip().splitlines()[-1:] if r.returncode else ""


def crash(a, k, sites):
    net = Net(k, os.path.join(a.out, "crash"), sites, tls=False, poll_seconds=5, users=a.researchers)
    rng = random.Random(a.seed)
    print(f"crash: {a.rounds} SIGKILLs of the hub (seed {a.seed}) while {a.researchers} researchers ask and the 4 site agents answer")
    created, seen = set(), set()  # tasks acknowledged (2xx) and (task, site) the hub showed answered
    lock = threading.Lock()
    running = threading.Event()
    running.set()
    quit_ = threading.Event()
    counter = [100_000]

    def researcher(tok):
        while not quit_.is_set():
            running.wait()
            with lock:
                counter[0] += 1
                i = counter[0]
            try:
                t = net.call("POST", "/api/tasks", {"project": PROJECT, "spec": {"type": "cohort", "ccdl": question(i)}, "deadline_seconds": 900}, tok, timeout=10)
                with lock:
                    created.add(t["id"])
                m = net.call("GET", f"/api/tasks/{t['id']}?wait=3", token=tok, timeout=10)
                with lock:
                    seen.update((t["id"], s["site"]) for s in m["sites"] if s["state"] == "answered")
            except Exception:
                time.sleep(0.05)  # the hub is down: try again

    threads = [threading.Thread(target=researcher, args=(net.tokens[i],), daemon=True) for i in range(a.researchers)]
    for t in threads:
        t.start()
    failures, restarts, verifies, lost_total = [], [], 0, set()
    t_start = time.time()
    try:
        for rnd in range(a.rounds):
            time.sleep(0.3 + rng.random() * 2.2)
            net.kill_hub()
            running.clear()
            for p in net.agents.values():
                p.send_signal(signal.SIGSTOP)
            time.sleep(0.3)  # let researchers' calls in flight fail before counting
            with lock:
                seen_now, created_now = set(seen), set(created)
            restarts.append(net.start_hub())
            ok, msg = verify(k, ["--hub-dir", net.hub_dir])
            verifies += 1
            if not ok:
                failures.append(f"round {rnd}: hub chain: {msg}")
            for s in SITES:
                st = os.path.join(net.agent_dir(s), "state")
                for args in (["--hub-dir", net.hub_dir, "--against", st], ["--site-dir", f"{sites}/sites/{s}", "--state-dir", st, "--against", f"{net.hub_dir}/anchors/{s}.jsonl"]):
                    if args[-1].endswith(".jsonl") and not os.path.exists(args[-1]):
                        continue
                    ok, msg = verify(k, args)
                    verifies += 1
                    if not ok:
                        failures.append(f"round {rnd}: {' '.join(args[:2])} {s}: {msg}")
            stored = hub_answers(net.hub_dir)
            lost = seen_now - stored
            lost_tasks = created_now - hub_tasks(net.hub_dir)
            lost_total.update(lost)
            if lost or lost_tasks:
                failures.append(f"round {rnd}: answers shown then lost {sorted(lost)[:5]} ({len(lost)}), tasks acknowledged then lost {sorted(lost_tasks)[:5]} ({len(lost_tasks)})")
            print(f"  round {rnd + 1}: restart {restarts[-1] * 1000:.0f} ms, {len(created_now)} tasks acknowledged, {len(seen_now)} answers shown as answered, all stored: {not lost and not lost_tasks}", flush=True)
            for p in net.agents.values():
                p.send_signal(signal.SIGCONT)
            running.set()
        # stop asking; every acknowledged task must end answered by every site, and in the log
        quit_.set()
        for t in threads:
            t.join(30)
        t0 = time.time()
        while True:
            with lock:
                want = {(t, s) for t in created for s in SITES}
            missing = want - hub_answers(net.hub_dir)
            if not missing or time.time() - t0 > a.catch_up:
                break
            time.sleep(1)
        not_logged = (seen | (want - missing)) - logged_answers(net.hub_dir)
        ok, msg = verify(k, ["--hub-dir", net.hub_dir])
        if not ok:
            failures.append(f"final: {msg}")
        print(f"  {a.rounds} kills in {time.time() - t_start:.0f} s; restart median {statistics.median(restarts) * 1000:.0f} ms, max {max(restarts) * 1000:.0f} ms; {verifies} `audit verify` runs")
        print(f"  {len(created)} tasks acknowledged, {len(want) - len(missing)} of their {len(want)} site answers stored {time.time() - t0:.0f} s after the load stopped; {len(seen)} answers had been shown as answered; not in the audit log: {len(not_logged)}")
        if missing:
            print(f"  not answered: {sorted(missing)[:5]}")
        for f in failures[:10]:
            print("  " + f)
        retries = sum(open(os.path.join(net.agent_dir(s), "agent.log"), errors="replace").read().count("hub unreachable; retrying") for s in SITES)
        late_logged = open(os.path.join(net.dir, "hub.log"), errors="replace").read().count("a stored answer was not logged")
        print(f"  answer posts cut by a kill and sent again by the agents: {retries}; answers the hub had stored but not yet logged when killed, logged on the agent's retry: {late_logged}")
        ok = not failures and not missing and not not_logged
        return verdict(ok, f"crash: {a.rounds} SIGKILLs under load, {len(created)} tasks acknowledged, {len(seen)} answers shown as answered before a kill; lost: {len(lost_total)} answers, {len(failures)} failed checks (chain or stored answers), {len(missing)} site answers missing at the end, {len(not_logged)} not in the audit log", restart_median_ms=statistics.median(restarts) * 1000)
    finally:
        quit_.set()
        running.set()
        for p in net.agents.values():
            p.send_signal(signal.SIGCONT)
        net.close()


# ---------------------------------------------------------------- signins
def signins(a, k, sites):
    d = os.path.join(a.out, "signins")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    port = free_port()
    env = dict(os.environ, KAKEHASHI_ADMIN_PASSWORD=ADMIN_PW)
    hub = subprocess.Popen([k, "hub", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(d, "hub")], env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "hub.log"), "wb"))
    try:
        t = time.time()
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
                break
            except OSError:
                if time.time() - t > 60:
                    raise SystemExit("the hub did not start")
                time.sleep(0.05)

        def login(i):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=300, source_address=(f"127.0.0.{2 + i % 16}", 0))
            try:
                c.request("POST", "/api/login", json.dumps({"name": f"nobody-{i}", "password": "wrong"}), {"content-type": "application/json"})
                return c.getresponse().status
            except Exception as e:
                return type(e).__name__
            finally:
                c.close()

        login(10_000)  # warm: the dummy hash
        time.sleep(0.5)
        before = rss_kb(hub.pid)
        peak, stop = [before], threading.Event()

        def watch():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kb(hub.pid) or 0)
                time.sleep(0.005)

        threading.Thread(target=watch, daemon=True).start()
        barrier = threading.Barrier(a.n)
        t0 = time.perf_counter()
        with cf.ThreadPoolExecutor(a.n) as ex:
            res = list(ex.map(lambda i: (barrier.wait(), login(i))[1], range(a.n)))
        dt = time.perf_counter() - t0
        stop.set()
        time.sleep(0.05)
        from collections import Counter
        counts = dict(Counter(res))
        alive = hub.poll() is None
        print(f"signins: {a.n} failed sign-ins at once from 16 addresses: answers {counts} in {dt:.1f} s; hub RSS {before / 1024:.0f} MB before, peak {peak[0] / 1024:.0f} MB; hub running: {alive}")
        refused = sum(v for x, v in counts.items() if x in (401, 429))
        ok = alive and refused == a.n and peak[0] / 1024 < a.max_rss_mb
        return verdict(ok, f"signins: {a.n} at once, {refused} refused (401, or 429 by the throttle), peak hub RSS {peak[0] / 1024:.0f} MB (< {a.max_rss_mb} MB required)", seconds=dt, peak_rss_mb=peak[0] / 1024)
    finally:
        hub.terminate()
        hub.wait(20)


# ---------------------------------------------------------------- offline
def offline(a, k, sites):
    site = a.site
    net = Net(k, os.path.join(a.out, f"offline-{a.minutes}"), sites, tls=False, poll_seconds=25)
    tok = net.tokens[0]
    period = a.minutes * 60
    short = int(max(10, min(120, period // 4)))  # deadline of the tasks meant to expire
    long_ = int(period + 1800)
    try:
        net.ask(tok, 0)
        st_dir = os.path.join(net.agent_dir(site), "state")

        def sample(label):
            procs = {s: p.pid for s, p in net.agents.items()}
            r = {"t": round(time.time() - t_off), "label": label, "hub_rss_mb": rss_kb(net.hub.pid) / 1024, "hub_disk": du(net.hub_dir), "site_state_disk": du(st_dir),
                 "agents_rss_mb": {s: round(rss_kb(pid) / 1024, 1) for s, pid in procs.items()}}
            samples.append(r)
            print(f"  [{r['t']:>5} s] {label}: hub RSS {r['hub_rss_mb']:.1f} MB, hub disk {mb(r['hub_disk'])}, {site} state {mb(r['site_state_disk'])}, agents RSS {r['agents_rss_mb']}", flush=True)

        samples = []
        t_off = time.time()
        sample("before")
        site_rss_before = rss_kb(net.agents[site].pid) / 1024
        net.stop_agent(site)
        t_off = time.time()
        print(f"offline: {site}'s agent stopped for {a.minutes} min; a task every {a.every} s, alternately valid (deadline {long_} s) and short (deadline {short} s, posted only while they expire before the agent returns)")
        tasks = []  # (id, deadline epoch)
        i, n_short = 0, 0
        next_sample = time.time() + a.sample_every
        while time.time() - t_off < period:
            i += 1
            left = period - (time.time() - t_off)
            kind_short = i % 2 == 0 and left > short + 5
            dl = short if kind_short else long_
            t = net.call("POST", "/api/tasks", {"project": PROJECT, "spec": {"type": "cohort", "ccdl": question(1000 + i)}, "deadline_seconds": dl}, tok)
            tasks.append((t["id"], time.time() + dl, kind_short))
            n_short += kind_short
            if time.time() >= next_sample:
                sample("offline")
                next_sample += a.sample_every
            time.sleep(max(0.0, min(a.every, period - (time.time() - t_off))))
        sample("end of offline")
        t_back = time.time()
        net.start_agent(site)
        valid = [t for t, dl, _ in tasks if dl > t_back]
        expired = [t for t, dl, _ in tasks if dl <= t_back]
        caught = None
        while time.time() - t_back < a.catch_up:
            done = {t for t, s in hub_answers(net.hub_dir) if s == site}
            if all(t in done for t in valid):
                caught = time.time() - t_back
                break
            time.sleep(0.2)
        time.sleep(2)
        sample("caught up")
        done = {t for t, s in hub_answers(net.hub_dir) if s == site}
        missing = [t for t in valid if t not in done]
        # the expired: offline at the hub, no answer stored, nothing computed at the site
        states = {}
        for t in expired:
            m = net.call("GET", f"/api/tasks/{t}", token=tok)
            for s in m["sites"]:
                if s["site"] == site:
                    states[s["state"]] = states.get(s["state"], 0) + 1
                    reason = s.get("reason")
        answered_expired = [t for t in expired if t in done]
        site_log = os.path.join(st_dir, "audit", "audit.log")
        computed = set()
        for line in open(site_log):
            e = json.loads(line)
            if e.get("kind") == "answer_sent":
                computed.add(e["detail"]["task"])
        computed_expired = [t for t in expired if t in computed]
        others = sum(1 for t, _, _ in tasks for s in SITES if s != site and (t, s) in hub_answers(net.hub_dir))
        site_rss_after = rss_kb(net.agents[site].pid) / 1024
        ok_v, msg = verify(k, ["--site-dir", f"{sites}/sites/{site}", "--state-dir", st_dir, "--against", f"{net.hub_dir}/anchors/{site}.jsonl"])
        print(f"  {len(tasks)} tasks posted while {site} was offline: {len(valid)} still valid when it came back, {len(expired)} expired")
        print(f"  catch-up: all {len(valid)} valid tasks answered by {site} in {caught:.1f} s" if caught is not None else f"  catch-up: {len(missing)} of {len(valid)} valid tasks still unanswered after {a.catch_up} s")
        print(f"  expired: states at the hub {states} (reason: {reason if expired else '-'}); answers stored {len(answered_expired)}, computed at the site {len(computed_expired)}")
        print(f"  the other 3 sites answered {others} of {len(tasks) * 3}; {site}'s agent RSS {site_rss_before:.1f} MB before, {site_rss_after:.1f} MB after catching up; audit verify of {site} against the hub: {'ok' if ok_v else msg}")
        hub_rss = [s["hub_rss_mb"] for s in samples]
        print(f"  hub RSS min {min(hub_rss):.1f} MB, max {max(hub_rss):.1f} MB over {len(samples)} samples; hub disk {mb(samples[0]['hub_disk'])} -> {mb(samples[-1]['hub_disk'])} ({(samples[-1]['hub_disk'] - samples[0]['hub_disk']) / max(1, len(tasks)) / 1024:.1f} KiB per task)")
        json.dump({"samples": samples, "tasks": len(tasks), "valid": len(valid), "expired": len(expired), "catch_up_s": caught}, open(os.path.join(a.out, f"offline-{a.minutes}.json"), "w"), indent=1)
        ok = caught is not None and not missing and not answered_expired and not computed_expired and set(states) <= {"offline", "late"} and others == len(tasks) * 3 and ok_v
        return verdict(ok, f"offline: {site} offline {a.minutes} min, {len(valid)} valid tasks answered in {caught if caught is None else round(caught, 1)} s after it came back, {len(expired)} expired ones not handed out ({states}), hub RSS {min(hub_rss):.1f}-{max(hub_rss):.1f} MB", catch_up_s=caught)
    finally:
        net.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "kakehashi"))
    ap.add_argument("--out", default="bench-out/reliability")
    ap.add_argument("--patients", type=int, default=2000, help="patients per synthetic site")
    ap.add_argument("--runs", type=int, default=1, help="repeat the scenario; prints the medians of its times over the runs")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("concurrent")
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--tokens-per-user", type=int, default=10)
    p.add_argument("--plain", action="store_true", help="plain HTTP instead of TLS")
    p = sub.add_parser("slowloris")
    p.add_argument("--connections", type=int, default=1000)
    p.add_argument("--queries", type=int, default=30)
    p.add_argument("--spacing", type=float, default=0.5, help="seconds between questions")
    p.add_argument("--seconds", type=float, default=40, help="least duration of the attack")
    p.add_argument("--max-connections", type=int, default=0, help="the hub's [limits] max_connections (default: the hub's default)")
    p = sub.add_parser("handshakes")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--settle", type=int, default=12, help="seconds to wait before the last RSS (the handshake timeout is 10 s)")
    p.add_argument("--max-growth-mb", type=float, default=16)
    p = sub.add_parser("crash")
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--researchers", type=int, default=4)
    p.add_argument("--seed", type=int, default=int(time.time()))
    p.add_argument("--catch-up", type=int, default=300)
    p = sub.add_parser("signins")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--max-rss-mb", type=float, default=500)
    p = sub.add_parser("offline")
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--every", type=float, default=10, help="seconds between tasks")
    p.add_argument("--site", default="jp-tokyo")
    p.add_argument("--sample-every", type=float, default=300)
    p.add_argument("--catch-up", type=int, default=1800)
    a = ap.parse_args()
    a.out = os.path.abspath(a.out)
    os.makedirs(a.out, exist_ok=True)
    k = os.path.abspath(a.bin)
    print(f"# {k}; {machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
    sites = prepare_sites(k, a.out, a.patients)
    run = {"concurrent": concurrent, "slowloris": slowloris, "handshakes": handshakes, "crash": crash, "signins": signins, "offline": offline}[a.cmd]
    rcs, figures = [], []
    for r in range(a.runs):
        if a.runs > 1:
            print(f"## run {r + 1} of {a.runs}", flush=True)
        rcs.append(run(a, k, sites))
        figures.append(dict(RESULT))
    if a.runs > 1:
        print(f"## {a.cmd}: {sum(1 for x in rcs if x == 0)} of {a.runs} runs passed; medians over the runs (each run's figure in brackets):")
        for key in figures[0]:
            xs = [f[key] for f in figures if f.get(key) is not None]
            if xs:
                print(f"  {key}: {statistics.median(xs):.1f} [{', '.join(f'{x:.1f}' for x in xs)}]")
        verdict(all(x == 0 for x in rcs), f"{a.cmd}: all {a.runs} runs passed" if all(x == 0 for x in rcs) else f"{a.cmd}: {sum(1 for x in rcs if x)} of {a.runs} runs failed")
    sys.exit(max(rcs))


if __name__ == "__main__":
    main()
