#!/usr/bin/env bash
# The README's federated GLM (`died ~ age_band + sex + country`, binomial, the shipped SARI
# dataset) through the demo network (hub + four site agents on loopback, each answering one
# round of tasks per IRLS iteration), beside Python statsmodels fitting the same model on the
# pooled rows (each site's `kakehashi stats dataset` export, concatenated) in the same run.
# The GLM is timed as the CLI sees it (whole process, RUNS runs after one warm-up run in which
# each site compiles its dataset); statsmodels as the fit alone and as a whole process (reading
# the CSV). The coefficients of both are compared (relative 1e-6) and the script stops on a
# difference. Medians and the ratio are printed, then the last run's rounds from the audit logs
# (`bench/stats_glm_rounds.py`: the hub's wake of the sites, each site's work, the answers' way
# back).
#
#   bench/stats_glm.sh [PATIENTS] [RUNS]    (default: the demo's 15,000-20,000 per site; 5 runs)
#
# BIN=path/to/kakehashi to use a given binary (default: $CARGO_TARGET_DIR/debug/kakehashi,
# built if missing; the numbers in BENCHMARKS.md say which build they are from).
# DEMO_DIR=dir keeps the demo's sites there (a later run reuses them and starts in seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS=${1:-}
RUNS=${2:-5}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET/debug/kakehashi}
[ -x "$BIN" ] || cargo build -p kakehashi --bin kakehashi >/dev/null
python3 -c "import statsmodels" 2>/dev/null || { echo "statsmodels is needed: pip install statsmodels"; exit 1; }
WORK=$(mktemp -d /tmp/kh-bench-stats.XXXXXX)
PORT=$((20000 + RANDOM % 20000))
DEMO_PID=
cleanup() { [ -n "$DEMO_PID" ] && kill "$DEMO_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
DATASET=docs/examples/sari-mortality.json
FORMULA="died ~ age_band + sex + country"

echo "== demo network${PATIENTS:+ ($PATIENTS patients per site)} on 127.0.0.1:$PORT"
DEMO_DIR=${DEMO_DIR:-$WORK/demo}
"$BIN" demo --data-dir "$DEMO_DIR" --port "$PORT" ${PATIENTS:+--patients "$PATIENTS"} > "$WORK/demo.out" 2> "$WORK/demo.err" &
DEMO_PID=$!
for _ in $(seq 1200); do
  grep -q "demo network is running" "$WORK/demo.out" 2>/dev/null && break
  sleep 0.5
done
grep -q "demo network is running" "$WORK/demo.out" || { echo "demo did not start"; tail "$WORK/demo.err"; exit 1; }
TOKEN=$(cat "$DEMO_DIR/hub/researcher.token")
cat > "$WORK/glm.sh" <<SH
#!/bin/sh
exec "$BIN" stats glm --hub "http://127.0.0.1:$PORT" --token "$TOKEN" --project demo \
  --dataset "$DATASET" --formula "$FORMULA" --family binomial --format json
SH
chmod +x "$WORK/glm.sh"

/usr/bin/time -f "%e" -o "$WORK/warm.t" "$WORK/glm.sh" > "$WORK/warm.json"
echo "   warm-up (each site compiles its dataset): $(cat "$WORK/warm.t") s"
: > "$WORK/kh.times"
for i in $(seq "$RUNS"); do
  /usr/bin/time -f "%e" -a -o "$WORK/kh.times" "$WORK/glm.sh" > "$WORK/glm.json"
done

# the pooled rows: every site's dataset, exported by its steward, concatenated
for s in "$DEMO_DIR"/sites/*/; do
  "$BIN" stats dataset --site-dir "$s" --dataset "$DATASET" --out "$WORK/$(basename "$s").csv" >/dev/null 2>&1
done
python3 - "$WORK" <<'PY'
import glob, sys, pandas as pd
w = sys.argv[1]
pd.concat([pd.read_csv(f, dtype={"age_band": str, "sex": str, "country": str, "site": str})
           for f in sorted(glob.glob(w + "/*.csv"))]).to_csv(w + "/pooled.csv.txt", index=False)
PY
cat > "$WORK/sm.py" <<'PY'
import json, re, sys, time
t0 = time.perf_counter()
import pandas as pd, statsmodels.api as sm, statsmodels.formula.api as smf
df = pd.read_csv(sys.argv[1], dtype={"age_band": str, "sex": str, "country": str})
df = df.dropna(subset=["died", "age_band", "sex", "country"])
t1 = time.perf_counter()
m = smf.glm("died ~ C(age_band, Treatment(reference='<18')) + C(sex, Treatment(reference='female')) + C(country, Treatment(reference='DE'))",
            df, family=sm.families.Binomial()).fit(tol=1e-10)
t2 = time.perf_counter()
out = {}
for name in m.params.index:
    g = re.fullmatch(r"C\((\w+),.*\)\[T\.(.+)\]", name)
    out["(Intercept)" if name == "Intercept" else "%s[%s]" % g.groups()] = [m.params[name], m.bse[name]]
print(json.dumps({"n": int(m.nobs), "fit_s": t2 - t1, "total_s": t2 - t0, "coefficients": out}))
PY
: > "$WORK/sm.times"
for i in $(seq "$RUNS"); do
  /usr/bin/time -f "%e" -a -o "$WORK/sm.times" python3 "$WORK/sm.py" "$WORK/pooled.csv.txt" > "$WORK/sm.$i.json"
done
python3 - "$WORK" "$RUNS" <<'PY'
import json, statistics, sys
w, runs = sys.argv[1], int(sys.argv[2])
times = lambda p: [float(l) for l in open(p) if l.strip() and l.strip()[0].isdigit()]
kh = times(w + "/kh.times"); smw = times(w + "/sm.times")
fed = json.load(open(w + "/glm.json"))
sms = [json.load(open(f"{w}/sm.{i}.json")) for i in range(1, runs + 1)]
fits = [s["fit_s"] for s in sms]
ref = sms[0]
assert fed["n"] == ref["n"], (fed["n"], ref["n"])
worst = 0.0
for c in fed["coefficients"]:
    b, se = ref["coefficients"][c["term"]]
    for x, y in ((c["estimate"], b), (c["std_error"], se)):
        worst = max(worst, abs(x - y) / max(abs(x), abs(y)))
assert worst < 1e-6, f"coefficients differ: {worst:.2e}"
med = statistics.median
print(f"   {fed['n']} rows at {len(fed['sites'])} sites, {fed['iterations']} iterations; coefficients equal to statsmodels (max relative difference {worst:.1e})")
print(f"   kakehashi GLM through the hub (CLI process): median {med(kh):.2f} s (runs {' '.join(f'{x:.2f}' for x in kh)})")
print(f"   statsmodels on the pooled CSV: fit median {med(fits):.3f} s, whole process median {med(smw):.2f} s")
print(f"== ratio kakehashi (federated, {len(fed['sites'])} sites) / statsmodels (pooled, one process): {med(kh) / med(smw):.2f}x of the whole process, {med(kh) / med(fits):.1f}x of the fit alone")
PY
echo "== where the last run's rounds went (audit logs of the hub and the sites)"
python3 bench/stats_glm_rounds.py "$DEMO_DIR" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["iterations"])' "$WORK/glm.json")"
