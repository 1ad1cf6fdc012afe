#!/usr/bin/env bash
# AMR over a whole site store: the cumulative antibiogram of a site with ~1,000,000 isolates,
# kakehashi (re-reads every MIC with EUCAST 2025, CLSI M39 first isolates, MDRO classes) beside
# DuckDB (PyPI) on the same Parquet files computing first isolates and counts of the lab's own
# S/I/R with SQL (less work than kakehashi: no re-reading of MICs, no MDRO classes).
#
#   bench/amr_site.sh [PATIENTS]     (default 70000 patients of bench/profiles/de-amr-heavy.toml)
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS=${1:-70000}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -p kakehashi >/dev/null
BIN="$TARGET/release/kakehashi"
WORK=$(mktemp -d /tmp/kh-bench-amr.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb

echo "== data: $PATIENTS patients (bench/profiles/de-amr-heavy.toml, seed 1)"
"$BIN" synth --profile bench/profiles/de-amr-heavy.toml --patients "$PATIENTS" --seed 1 --out "$WORK/fhir" | head -1
"$BIN" ingest --site-dir "$WORK/site" "$WORK/fhir" | tail -1
ISOLATES=$("$BIN" sql --site-dir "$WORK/site" "select count(distinct id) as n from microbiology_isolate" | grep -Eo '[0-9]+' | tail -1)
TESTS=$("$BIN" sql --site-dir "$WORK/site" "select count(distinct id) as n from microbiology_susceptibility" | grep -Eo '[0-9]+' | tail -1)
echo "   $ISOLATES isolates, $TESTS susceptibility results"

run() { # label, args...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$BIN" amr antibiogram --site-dir "$WORK/site" --format json "$@" > "$WORK/out.json"
  read -r S KB < "$WORK/t"
  CELLS=$(python3 -c "import json; v=json.load(open('$WORK/out.json')); print(len(v['counts'][0]['counts']['cells']))")
  echo "   $label: $S s (whole command: open store, read views, first isolates, re-read, MDRO), peak RSS $((KB / 1024)) MB, $CELLS cells"
}
echo "== kakehashi amr antibiogram"
run "EUCAST 2025, every organism and drug" --guideline "EUCAST 2025"
KH_S=$S
run "EUCAST 2025, by year" --guideline "EUCAST 2025" --by-year
run "CLSI 2025, blood only" --guideline "CLSI 2025" --specimen blood

echo "== DuckDB $(python3 -c 'import duckdb; print(duckdb.__version__)') (same Parquet files; lab S/I/R, first isolates by SQL)"
DK_S=$(python3 bench/amr_site_duckdb.py "$WORK/site")
echo "   $DK_S s"
python3 -c "print(f'== ratio: DuckDB time / kakehashi time = {$DK_S / $KH_S:.2f}')"
