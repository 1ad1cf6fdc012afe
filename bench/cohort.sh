#!/usr/bin/env bash
# Cohort count latency, kakehashi vs DuckDB on the same Parquet files, one run. kakehashi reads
# the cohort index saved at ingest in a fresh process (the cold start: index read + first count),
# then counts warm; the p50 is over all runs, the cold one included.
# Usage: bench/cohort.sh [PATIENTS...]   (default: 100000 1000000)
# Needs: a release build (cargo build --release -p kakehashi --bins --examples) and `pip install duckdb`.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${CARGO_TARGET_DIR:-target}/release
K=$T/kakehashi
B=$T/examples/cohort_bench
OUT=${BENCH_OUT:-bench-out}
mkdir -p "$OUT"
for N in "${@:-100000 1000000}"; do
  for n in $N; do
    SITE=$OUT/cohort-site-$n
    if [ ! -f "$SITE/CURRENT" ]; then
      "$K" synth --profile de-berlin --patients "$n" --seed 11 --out "$OUT/cohort-fhir-$n" >/dev/null
      "$K" ingest --site-dir "$SITE" "$OUT/cohort-fhir-$n" | grep "cohort index built" | sed "s/^/ingest: /"
    fi
    echo "== $n patients ($(du -sh "$SITE/segments" | cut -f1) of Parquet)"
    KH=$("$B" "$SITE" 50)
    DU=$(python3 bench/cohort/cohort_duckdb.py "$SITE" 20)
    python3 - "$KH" "$DU" <<'PY'
import json, sys
kh, du = json.loads(sys.argv[1]), json.loads(sys.argv[2])
if kh['index_build_ms']:
    print(f"index built by this run (the snapshot had none): {kh['index_build_ms']:.0f} ms")
print(f"{kh['patients']} patients; cold start: saved index read in {kh['index_load_ms']:.0f} ms, then the first count (query one)")
print(f"{'query':<8}{'count':>9}{'first run':>11}{'kakehashi p50':>15}{'p95':>9}{'DuckDB p50':>12}{'p95':>9}{'kh/DuckDB p50':>15}{'first/DuckDB p50':>18}")
for q in ["one", "three", "ten"]:
    a, b = kh[q], du[q]
    assert a["count"] == b["count"], f"{q}: kakehashi {a['count']} vs DuckDB {b['count']}"
    print(f"{q:<8}{a['count']:>9}{a['first_ms']:>9.1f}ms{a['p50_ms']:>13.2f}ms{a['p95_ms']:>7.2f}ms{b['p50_ms']:>10.1f}ms{b['p95_ms']:>7.1f}ms{a['p50_ms']/b['p50_ms']:>14.3f}x{a['first_ms']/b['p50_ms']:>17.3f}x")
PY
  done
done
