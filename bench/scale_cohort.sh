#!/usr/bin/env bash
# Cohort counts on a large site, cold: each count a whole `kakehashi cohort count` process (start,
# read the snapshot's saved cohort index from disk, count, exit), 5 runs per query, beside
# DuckDB's warm in-process p50 of the same query in SQL on the same files
# (bench/cohort/cohort_duckdb.py, 5 runs after a warm-up). The counts must agree.
#
#   bench/scale_cohort.sh SITE     (a site made by bench/scale.sh; its last load built the index)
set -euo pipefail
cd "$(dirname "$0")/.."
SITE=${1:?site directory}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/kakehashi}
WORK=$(mktemp -d /tmp/kh-scale-cohort.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DU=$(python3 bench/cohort/cohort_duckdb.py "$SITE" 5)
echo "$DU" > "$WORK/duck.json"
for q in one three ten; do
  : > "$WORK/$q.t"
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f "%e %M" -a -o "$WORK/$q.t" "$BIN" cohort count --site-dir "$SITE" \
      --ccdl "bench/cohort/$q.json" --format json > "$WORK/$q.json"
  done
done
python3 - "$WORK" <<'PY'
import json, statistics, sys
w = sys.argv[1]
du = json.load(open(f"{w}/duck.json"))
print(f"{'query':<7}{'count':>10}{'kakehashi cold p50':>20}{'peak RSS':>10}{'DuckDB warm p50':>17}{'kh/DuckDB':>11}")
for q in ["one", "three", "ten"]:
    kh = json.load(open(f"{w}/{q}.json"))
    rows = [l.split() for l in open(f"{w}/{q}.t") if l.strip() and l[0].isdigit()]
    secs = statistics.median(float(r[0]) for r in rows)
    rss = max(int(r[1]) for r in rows) // 1024
    assert kh["count"] == du[q]["count"], f"{q}: kakehashi {kh['count']} vs DuckDB {du[q]['count']}"
    d = du[q]["p50_ms"] / 1000
    print(f"{q:<7}{kh['count']:>10}{secs:>18.2f} s{rss:>7} MB{d:>15.2f} s{secs / d:>10.2f}x")
PY
