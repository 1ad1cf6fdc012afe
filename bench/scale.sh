#!/usr/bin/env bash
# A large site on this machine (docs/scale.md): PATIENTS synthetic de-berlin patients made and
# loaded in PARTS parts (`synth --shard K/N`, one load and one segment per part, only one part's
# NDJSON on disk at a time), then the site's questions timed as whole processes, 5 runs each:
# a SQL count (kakehashi and DuckDB on the same files), the weekly SARI series, and the same SQL
# with the Parquet files in a local S3 server (moto) after `site publish`.
#
#   bench/scale.sh [PATIENTS] [PARTS] [SITE]   (default 10000000 patients in 10 parts;
#                                               SITE default /tmp/kh-scale/site, kept for reuse)
# CATCHMENT (default 0): the SARI catchment as a multiple of PATIENTS; the profile's 20 would add
# the admissions of a 200-million catchment at 10 M patients (about 2x the NDJSON).
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS=${1:-10000000}
PARTS=${2:-10}
CATCHMENT=${CATCHMENT:-0}
SITE=${3:-/tmp/kh-scale/site}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BIN:-$TARGET/release/kakehashi}
[ -x "$BIN" ] || cargo build --release -p kakehashi --bins >/dev/null
WORK=$(mktemp -d /tmp/kh-scale-work.XXXXXX)
trap 'rm -rf "$WORK"; [ -n "${MOTO:-}" ] && kill "$MOTO" 2>/dev/null || true' EXIT
python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb==2.0.1

if [ ! -f "$SITE/CURRENT" ]; then
  echo "== making and loading $PATIENTS patients in $PARTS parts into $SITE"
  for k in $(seq 0 $((PARTS - 1))); do
    /usr/bin/time -f "%e" -o "$WORK/synth.t" "$BIN" synth --profile de-berlin --patients "$PATIENTS" \
      --catchment "$CATCHMENT" --seed 1 --shard "$k/$PARTS" --out "$WORK/fhir" > "$WORK/synth.out"
    head -1 "$WORK/synth.out" | sed 's/^/   /'
    DEFER=--defer-index; [ "$k" -eq $((PARTS - 1)) ] && DEFER=
    /usr/bin/time -f "%e %M" -o "$WORK/ingest.t" "$BIN" ingest $DEFER --site-dir "$SITE" "$WORK/fhir" > "$WORK/ingest.out"
    echo "   part $k: synth $(cat "$WORK/synth.t") s; $(sed -n 2p "$WORK/ingest.out"); $(grep "cohort index" "$WORK/ingest.out" | cut -c1-34); ingest $(cut -d' ' -f1 "$WORK/ingest.t") s, peak RSS $(($(cut -d' ' -f2 "$WORK/ingest.t") / 1024)) MB"
    rm -rf "$WORK/fhir"
  done
fi
echo "== site: $(du -sh "$SITE/segments" | cut -f1) of Parquet in $(ls "$SITE/segments" | wc -l) segments"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # label, command...: 5 runs, median seconds and peak RSS
  local label=$1; shift
  : > "$WORK/t"
  for _ in 1 2 3 4 5; do
    if ! /usr/bin/time -f "%e %M" -a -o "$WORK/t" "$@" > "$WORK/out" 2>"$WORK/err"; then
      # a question the machine cannot answer (out of memory: killed by signal 9) is reported
      echo "   $label: FAILED: $(grep -h -E "signal|status" "$WORK/t" | tail -1) $(tail -2 "$WORK/err")"
      return 1
    fi
  done
  echo "   $label: median $(cut -d' ' -f1 "$WORK/t" | median) s (runs $(cut -d' ' -f1 "$WORK/t" | tr '\n' ' ')), peak RSS $(($(cut -d' ' -f2 "$WORK/t" | sort -n | tail -1) / 1024)) MB"
}

Q="SELECT count(*) AS n, count(DISTINCT patient_id) AS p FROM condition WHERE code LIKE 'J1%'"
echo "== questions (whole processes, 5 runs each)"
timeit "kakehashi sql: $Q" "$BIN" sql --site-dir "$SITE" --format csv "$Q"
KH_OUT=$(tail -1 "$WORK/out")
cat > "$WORK/q.py" <<EOF
import duckdb, glob, sys
con = duckdb.connect(); con.execute("SET threads = 2")
files = glob.glob("$SITE/segments/*/condition.parquet")
r = con.execute("SELECT count(*), count(DISTINCT patient_id) FROM read_parquet(?) WHERE code LIKE 'J1%'", [files]).fetchone()
print(f"{r[0]},{r[1]}")
EOF
timeit "DuckDB, the same SQL on the same files" python3 "$WORK/q.py"
DK_OUT=$(tail -1 "$WORK/out")
[ "$KH_OUT" = "$DK_OUT" ] || { echo "!! answers differ: kakehashi $KH_OUT, DuckDB $DK_OUT"; exit 1; }
echo "   both: $KH_OUT (rows, patients)"
timeit "weekly SARI series (sari-icosari)" "$BIN" surveillance series --site-dir "$SITE" --definition sari-icosari --by '' --format csv || true

if python3 -c "import moto.server, boto3" 2>/dev/null; then
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 -m moto.server -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 & MOTO=$!
  sleep 3
  export AWS_ENDPOINT=http://127.0.0.1:$PORT AWS_ALLOW_HTTP=true AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_DEFAULT_REGION=us-east-1
  python3 -c "import boto3; boto3.client('s3', endpoint_url='$AWS_ENDPOINT', aws_access_key_id='x', aws_secret_access_key='x', region_name='us-east-1').create_bucket(Bucket='scale')"
  /usr/bin/time -f "%e" -o "$WORK/pub.t" "$BIN" site publish --site-dir "$SITE" --to s3://scale/site 2>&1 | sed 's/^/   /'
  echo "   publish: $(cat "$WORK/pub.t") s"
  timeit "kakehashi sql from S3 (moto on loopback): same SQL" "$BIN" sql --site-url s3://scale/site --format csv "$Q"
  [ "$(tail -1 "$WORK/out")" = "$KH_OUT" ] || { echo "!! S3 answer differs"; exit 1; }
fi
