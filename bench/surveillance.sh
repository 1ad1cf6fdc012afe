#!/usr/bin/env bash
# Surveillance at scale: the weekly SARI series (sari-icosari, six-plus seasons) and its MEM
# thresholds for a 1,000,000-patient synthetic site, from the site's store, beside DuckDB (PyPI)
# counting the same hospital stays (inpatient encounters with an ICD-10 J09–J22 diagnosis) per
# ISO week of admission with SQL on the same Parquet files.
#
#   bench/surveillance.sh [PATIENTS]     (default 1000000, de-berlin, seed 1)
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS=${1:-1000000}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -p kakehashi >/dev/null
BIN="$TARGET/release/kakehashi"
WORK=$(mktemp -d /tmp/kh-bench-surv.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb

echo "== data: $PATIENTS patients (de-berlin, seed 1)"
/usr/bin/time -f "%e" -o "$WORK/synth.t" "$BIN" synth --profile de-berlin --patients "$PATIENTS" --seed 1 --out "$WORK/fhir" >/dev/null
/usr/bin/time -f "%e" -o "$WORK/ingest.t" "$BIN" ingest --site-dir "$WORK/site" "$WORK/fhir" | head -1
echo "   synth $(cat "$WORK/synth.t") s, ingest $(cat "$WORK/ingest.t") s"
rm -rf "$WORK/fhir"

echo "== kakehashi"
/usr/bin/time -f "%e %M" -o "$WORK/series.t" "$BIN" surveillance series --site-dir "$WORK/site" --definition sari-icosari --by '' --format csv > "$WORK/series.csv" 2>/dev/null
read -r SERIES_S SERIES_KB < "$WORK/series.t"
WEEKS=$(($(wc -l < "$WORK/series.csv") - 1))
echo "   series: $SERIES_S s, $WEEKS weeks, peak RSS $((SERIES_KB / 1024)) MB"
/usr/bin/time -f "%e" -o "$WORK/mem.t" bash -c "'$BIN' surveillance series --site-dir '$WORK/site' --definition sari-icosari --by '' --format mem --per 100000 2>/dev/null > '$WORK/mem.csv' && '$BIN' surveillance mem --input '$WORK/mem.csv' > '$WORK/mem.txt'"
echo "   series as a season table + MEM fit: $(cat "$WORK/mem.t") s"
sed -n '1,12p' "$WORK/mem.txt" | sed 's/^/   | /'

echo "== DuckDB $(python3 -c 'import duckdb; print(duckdb.__version__)') (same Parquet files: inpatient stays with J09-J22 per ISO week)"
read -r DK_S DK_WEEKS DK_CASES < <(python3 bench/surveillance_duckdb.py "$WORK/site")
KH_CASES=$(python3 -c "import csv; print(sum(int(r['cases']) for r in csv.DictReader(open('$WORK/series.csv'))))")
echo "   $DK_S s, $DK_WEEKS weeks, $DK_CASES stays (kakehashi: $KH_CASES)"
python3 -c "print(f'== ratio: DuckDB time / kakehashi series time = {$DK_S / $SERIES_S:.2f}')"
