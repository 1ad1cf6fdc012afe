#!/usr/bin/env bash
# Surveillance at scale: the weekly SARI series (sari-icosari: stays, ICU, deaths, influenza/RSV/
# SARS-CoV-2 positivity per ISO week) of a synthetic de-berlin site from its store, beside DuckDB
# (PyPI) doing the same work in SQL on the same Parquet files (bench/surveillance_duckdb.py). Both
# outputs are compared cell for cell and the script stops on any difference. Both sides are timed
# as whole processes, interleaved, RUNS times each; medians, the ratio and peak RSS are printed.
# Then the series as a season table with its MEM fit, once.
#
#   bench/surveillance.sh [PATIENTS] [RUNS]     (default 200000 patients, 5 runs; seed 1)
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS=${1:-200000}
RUNS=${2:-5}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -p kakehashi --bins >/dev/null
BIN="$TARGET/release/kakehashi"
WORK=$(mktemp -d /tmp/kh-bench-surv.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb==2.0.1

echo "== data: $PATIENTS patients (de-berlin, seed 1)"
/usr/bin/time -f "%e" -o "$WORK/synth.t" "$BIN" synth --profile de-berlin --patients "$PATIENTS" --seed 1 --out "$WORK/fhir" >/dev/null
/usr/bin/time -f "%e" -o "$WORK/ingest.t" "$BIN" ingest --site-dir "$WORK/site" "$WORK/fhir" | head -1
echo "   synth $(cat "$WORK/synth.t") s, ingest $(cat "$WORK/ingest.t") s, Parquet $(du -sm "$WORK/site/segments" | cut -f1) MB"
rm -rf "$WORK/fhir"

DUCK=$(python3 -c 'import duckdb; print(duckdb.__version__)')
echo "== weekly SARI series, $RUNS runs each, interleaved (whole processes: kakehashi CLI / python3 + DuckDB $DUCK)"
: > "$WORK/kh.times"
: > "$WORK/dk.times"
for i in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %M" -a -o "$WORK/kh.times" "$BIN" surveillance series --site-dir "$WORK/site" \
    --definition sari-icosari --by '' --format csv > "$WORK/series.csv" 2>/dev/null
  /usr/bin/time -f "%e %M" -a -o "$WORK/dk.times" python3 bench/surveillance_duckdb.py "$WORK/site" "$WORK/duck.csv" >/dev/null
  if ! cmp -s "$WORK/series.csv" "$WORK/duck.csv"; then
    echo "!! outputs differ (run $i): kakehashi < > DuckDB"
    diff "$WORK/series.csv" "$WORK/duck.csv" | head -20
    exit 1
  fi
done
WEEKS=$(($(wc -l < "$WORK/series.csv") - 1))
python3 - "$WORK/kh.times" "$WORK/dk.times" "$WORK/series.csv" <<'EOF'
import csv, statistics, sys
def load(p):
    rows = [l.split() for l in open(p) if l.strip() and l.split()[0][0].isdigit()]
    return [float(r[0]) for r in rows], max(int(r[1]) for r in rows) // 1024
kh, kh_mb = load(sys.argv[1])
dk, dk_mb = load(sys.argv[2])
rows = list(csv.DictReader(open(sys.argv[3])))
cases = sum(int(r["cases"]) for r in rows)
tests = sum(int(r[k]) for r in rows for k in r if k.endswith("_tests"))
print(f"   outputs equal cell for cell: {len(rows)} weeks, {cases} SARI stays, {tests} tests")
print(f"   kakehashi: median {statistics.median(kh):.2f} s (runs {' '.join(f'{x:.2f}' for x in kh)}), peak RSS {kh_mb} MB")
print(f"   DuckDB:    median {statistics.median(dk):.2f} s (runs {' '.join(f'{x:.2f}' for x in dk)}), peak RSS {dk_mb} MB")
print(f"== ratio kakehashi / DuckDB: time {statistics.median(kh) / statistics.median(dk):.2f}x, peak RSS {kh_mb / dk_mb:.2f}x")
EOF

/usr/bin/time -f "%e" -o "$WORK/mem.t" bash -c "'$BIN' surveillance series --site-dir '$WORK/site' --definition sari-icosari --by '' --format mem --per 100000 2>/dev/null > '$WORK/mem.csv' && '$BIN' surveillance mem --input '$WORK/mem.csv' > '$WORK/mem.txt'"
echo "== series as a season table + MEM fit ($WEEKS weeks): $(cat "$WORK/mem.t") s"
sed -n '1,12p' "$WORK/mem.txt" | sed 's/^/   | /'
