#!/usr/bin/env bash
# Ingest benchmark: kakehashi ingest against DuckDB on the same FHIR NDJSON, in one run.
#
#   bench/ingest.sh [PATIENTS] [ROUNDS]   (default 115000 patients ≈ 2 million resources, 3 rounds)
#
# Makes a synthetic German site with the release binary, loads it with `kakehashi ingest`
# (14 standard views to Parquet), then has DuckDB (PyPI) read the same files and flatten the
# main views' columns to Parquet with SQL; ROUNDS times, the two taking turns, since a shared
# machine's speed drifts by 10-50% from minute to minute. Prints every run, then the medians
# (resources/s, peak memory) and the ratio of the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS=${1:-115000}
ROUNDS=${2:-3}
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

DUCK_VERSION=$(python3 -c 'import duckdb; print(duckdb.__version__)')
for round in $(seq "$ROUNDS"); do
    rm -rf "$WORK/site" "$WORK/duck"
    # each timed run starts with nothing left to write back: otherwise the kernel flushes the
    # 1.5 GB of generated NDJSON (or the previous run's output) on the same two cores meanwhile
    sync
    /usr/bin/time -f "%e %M" -o "$WORK/kh.time" "$BIN" ingest --json --site-dir "$WORK/site" "$WORK/fhir" > "$WORK/kh.json"
    read -r KH_S KH_KB < "$WORK/kh.time"
    echo "   round $round: kakehashi ingest $KH_S s, $(python3 -c "print(round($RESOURCES / $KH_S))") resources/s, peak RSS $((KH_KB / 1024)) MB"
    echo "$KH_S $KH_KB" >> "$WORK/kh.runs"
    sync
    python3 bench/ingest_duckdb.py "$WORK/fhir" "$WORK/duck" > "$WORK/duck.out"
    read -r DK_S DK_KB < "$WORK/duck.out"
    echo "   round $round: DuckDB $DUCK_VERSION (same files, flatten to Parquet) $DK_S s, $(python3 -c "print(round($RESOURCES / $DK_S))") resources/s, peak RSS $((DK_KB / 1024)) MB"
    echo "$DK_S $DK_KB" >> "$WORK/duck.runs"
done
python3 - "$RESOURCES" "$WORK/kh.runs" "$WORK/duck.runs" <<'PY'
import statistics, sys
n = int(sys.argv[1])
def runs(path):
    rows = [line.split() for line in open(path)]
    return [float(s) for s, _ in rows], [int(kb) for _, kb in rows]
(kh, kh_kb), (dk, dk_kb) = runs(sys.argv[2]), runs(sys.argv[3])
for name, secs, kb in (("kakehashi ingest", kh, kh_kb), ("DuckDB", dk, dk_kb)):
    m = statistics.median(secs)
    print(f"== {name}: median {m:.2f} s, {round(n / m)} resources/s "
          f"(runs {min(secs):.2f}-{max(secs):.2f} s), peak RSS up to {max(kb) // 1024} MB")
print(f"== ratio: kakehashi / DuckDB throughput (medians) = {statistics.median(dk) / statistics.median(kh):.2f}")
PY
