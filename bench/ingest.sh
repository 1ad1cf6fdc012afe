#!/usr/bin/env bash
# Ingest benchmark: kakehashi ingest against DuckDB on the same FHIR NDJSON, in one run.
#
#   bench/ingest.sh [PATIENTS]      (default 115000 patients ≈ 2 million resources)
#
# Makes a synthetic German site with the release binary, loads it with `kakehashi ingest`
# (14 standard views to Parquet), then has DuckDB (PyPI) read the same files and flatten the
# main views' columns to Parquet with SQL. Prints resources/s, peak memory and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS=${1:-115000}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -p kakehashi >/dev/null
BIN="$TARGET/release/kakehashi"
WORK=$(mktemp -d /tmp/kh-bench-ingest.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb

echo "== data: $PATIENTS patients (de-berlin, seed 1)"
"$BIN" synth --profile de-berlin --patients "$PATIENTS" --seed 1 --out "$WORK/fhir" | head -1
RESOURCES=$(cat "$WORK"/fhir/*.ndjson | wc -l)
BYTES=$(du -cb "$WORK"/fhir/*.ndjson | tail -1 | cut -f1)
echo "   $RESOURCES resources, $((BYTES / 1000000)) MB of NDJSON"

echo "== kakehashi ingest"
/usr/bin/time -f "%e %M" -o "$WORK/kh.time" "$BIN" ingest --json --site-dir "$WORK/site" "$WORK/fhir" > "$WORK/kh.json"
read -r KH_S KH_KB < "$WORK/kh.time"
KH_RATE=$(python3 -c "print(round($RESOURCES / $KH_S))")
echo "   $KH_S s, $KH_RATE resources/s, peak RSS $((KH_KB / 1024)) MB"

echo "== DuckDB $(python3 -c 'import duckdb; print(duckdb.__version__)') (same files, flatten to Parquet)"
python3 bench/ingest_duckdb.py "$WORK/fhir" "$WORK/duck" > "$WORK/duck.out"
read -r DK_S DK_KB < "$WORK/duck.out"
DK_RATE=$(python3 -c "print(round($RESOURCES / $DK_S))")
echo "   $DK_S s, $DK_RATE resources/s, peak RSS $((DK_KB / 1024)) MB"
python3 -c "print(f'== ratio: kakehashi / DuckDB throughput = {$KH_RATE / $DK_RATE:.2f}')"
