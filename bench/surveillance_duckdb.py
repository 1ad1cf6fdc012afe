"""The peer side of bench/surveillance.sh: the weekly SARI series with DuckDB, doing the same work
as `kakehashi surveillance series --definition sari-icosari --by '' --format csv` on the same
Parquet files, and writing the same CSV (the script compares them cell for cell).

The same work, as crates/surveillance/src/series.rs defines it:
- cases: top-level inpatient stays (class IMP; `part_of` followed up to 8 levels) with an ICD-10
  diagnosis whose normalised code (upper case, without . ! * + † and blanks) falls in J09-J22,
  linked to the stay (dated no later than its end) or, unlinked, dated within the stay; counted by
  the ISO week of admission on the Berlin calendar; ICU when the stay or a stay inside it is an
  ICU stay (type `intensivstationaer` or class ICU); died when discharged dead (07, 079,
  deceased) or the patient died from a day before admission to a day after discharge;
- tests: observations coded with a panel LOINC code (crates/surveillance/data/pathogens.toml),
  with an effective time and a readable result (SNOMED CT value, interpretation, or text), one
  per observation and pathogen, by the ISO week of the specimen;
- every week from the first to the last with a case or a test, zeros included.
JLAC10-coded results (Japanese sites) are not handled here: the script stops if the site has any.

Usage: surveillance_duckdb.py SITE_DIR OUT.csv   (prints the query's seconds)
"""
import glob
import sys
import time
import tomllib
from pathlib import Path

import duckdb

site, out = sys.argv[1], sys.argv[2]
root = Path(__file__).resolve().parent.parent
panel = tomllib.loads((root / "crates/surveillance/data/pathogens.toml").read_text())
pathogens = [p["name"] for p in panel["pathogen"]]
loinc = [(c, i) for i, p in enumerate(panel["pathogen"]) for c in p["loinc"]]


def files(view):
    return glob.glob(f"{site}/segments/*/{view}.parquet")


t = time.perf_counter()
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("SET TimeZone = 'UTC'")
con.execute("CREATE TEMP TABLE panel(code VARCHAR, pathogen INTEGER)")
con.executemany("INSERT INTO panel VALUES (?, ?)", loinc)
jlac = con.execute(
    "SELECT count(*) FROM read_parquet(?) WHERE code_system LIKE '%1.2.392.200119.4.504%' OR code_system LIKE '%JLAC10%'",
    [files("observation")],
).fetchone()[0]
if jlac:
    sys.exit(f"{jlac} JLAC10-coded observations: this peer does not read JLAC10")
SQL = """
WITH
dx AS (
  SELECT patient_id, encounter_id, coalesce(onset_date_time, recorded_date) AS t
  FROM (SELECT *, upper(regexp_replace(code, '[.!*+† ]', '', 'g')) AS n FROM read_parquet($cond))
  WHERE code_system IN ('http://fhir.de/CodeSystem/bfarm/icd-10-gm',
                        'http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10',
                        'http://hl7.org/fhir/sid/icd-10')
    AND patient_id IS NOT NULL AND length(n) >= 3 AND substr(n, 1, 3) BETWEEN 'J09' AND 'J22'
),
obs AS (
  SELECT o.id, o.patient_id, o.effective_date_time AS t, p.pathogen,
    CASE
      WHEN o.value_code IN ('260373001', '10828004') THEN true
      WHEN o.value_code IN ('260415000', '260385009') THEN false
      WHEN o.interpretation_code IN ('POS', 'DET', 'A') THEN true
      WHEN o.interpretation_code IN ('NEG', 'ND', 'N') THEN false
      WHEN lower(trim(o.value_string)) IN ('positive', 'detected', 'pos', '+', '陽性') THEN true
      WHEN lower(trim(o.value_string)) IN ('negative', 'not detected', 'neg', '-', '陰性') THEN false
    END AS positive
  FROM read_parquet($obs) o JOIN panel p ON p.code = o.code
  WHERE o.code_system = 'http://loinc.org' AND o.id IS NOT NULL AND o.patient_id IS NOT NULL
    AND o.effective_date_time IS NOT NULL
),
tests AS (
  SELECT pathogen, any_value(t) AS t, any_value(positive) AS positive
  FROM obs GROUP BY id, pathogen HAVING any_value(positive) IS NOT NULL
),
reached AS (SELECT DISTINCT patient_id FROM dx),
enc AS (
  SELECT e.* FROM read_parquet($enc) e SEMI JOIN reached r ON r.patient_id = e.patient_id
  WHERE e.id IS NOT NULL
),
walk AS (
  WITH RECURSIVE w(id, cur, depth) AS (
    SELECT id, id, 0 FROM enc
    UNION ALL
    SELECT w.id, p.id, w.depth + 1
    FROM w JOIN enc c ON c.id = w.cur JOIN enc p ON p.id = c.part_of_id
    WHERE w.depth < 8
  )
  SELECT id, arg_max(cur, depth) AS top FROM w GROUP BY id
),
stays AS (
  SELECT e.* FROM enc e
  WHERE NOT EXISTS (SELECT 1 FROM enc p WHERE p.id = e.part_of_id)
    AND e.class_code = 'IMP' AND e.period_start IS NOT NULL
),
linked AS (SELECT w.top, d.t FROM dx d JOIN walk w ON w.id = d.encounter_id),
unlinked AS (SELECT d.patient_id, d.t FROM dx d ANTI JOIN walk w ON w.id = d.encounter_id),
cases AS (
  SELECT s.id, s.period_start AS t,
    EXISTS (SELECT 1 FROM enc i JOIN walk w ON w.id = i.id WHERE w.top = s.id
            AND (list_contains(i.type_codes, 'intensivstationaer') OR i.class_code = 'ICU')) AS icu,
    coalesce(s.discharge_disposition_code IN ('07', '079', 'deceased'), false)
      OR EXISTS (SELECT 1 FROM read_parquet($pat) p WHERE p.id = s.patient_id
                 AND p.deceased_date_time >= s.period_start - INTERVAL 1 DAY
                 AND (s.period_end IS NULL OR p.deceased_date_time <= s.period_end + INTERVAL 1 DAY)) AS died
  FROM stays s
  WHERE EXISTS (SELECT 1 FROM linked l WHERE l.top = s.id
                AND (l.t IS NULL OR s.period_end IS NULL OR l.t <= s.period_end))
     OR EXISTS (SELECT 1 FROM unlinked u WHERE u.patient_id = s.patient_id AND u.t IS NOT NULL
                AND u.t >= s.period_start AND (s.period_end IS NULL OR u.t <= s.period_end))
),
events AS (
  SELECT CAST(timezone('Europe/Berlin', t) AS DATE) AS day, 1 AS c, icu::INT AS icu, died::INT AS died,
         NULL::INT AS pathogen, NULL::BOOLEAN AS positive FROM cases
  UNION ALL
  SELECT CAST(timezone('Europe/Berlin', t) AS DATE), 0, 0, 0, pathogen, positive FROM tests
),
weekly AS (
  SELECT date_trunc('week', day)::DATE AS monday, sum(c) AS cases, sum(icu) AS icu, sum(died) AS deaths,
    COLUMNS_PLACEHOLDER
  FROM events GROUP BY ALL
),
grid AS (
  SELECT CAST(range AS DATE) AS monday FROM range(
    (SELECT min(monday) FROM weekly), (SELECT max(monday) FROM weekly) + INTERVAL 7 DAY, INTERVAL 7 DAY)
)
SELECT isoyear(g.monday) || '-W' || lpad(CAST(week(g.monday) AS VARCHAR), 2, '0') AS week, g.monday, coalesce(w.cases, 0), coalesce(w.icu, 0),
  coalesce(w.deaths, 0), COALESCE_PLACEHOLDER
FROM grid g LEFT JOIN weekly w USING (monday) ORDER BY g.monday
"""
cols = ",\n    ".join(
    f"count(*) FILTER (WHERE pathogen = {i}) AS t{i}, count(*) FILTER (WHERE pathogen = {i} AND positive) AS p{i}"
    for i in range(len(pathogens))
)
coal = ", ".join(f"coalesce(w.t{i}, 0), coalesce(w.p{i}, 0)" for i in range(len(pathogens)))
sql = SQL.replace("COLUMNS_PLACEHOLDER", cols).replace("COALESCE_PLACEHOLDER", coal)
rows = con.execute(
    sql,
    {"cond": files("condition"), "obs": files("observation"), "enc": files("encounter"), "pat": files("patient")},
).fetchall()
with open(out, "w") as f:
    head = ["week", "week_start", "cases", "icu", "deaths"]
    for p in pathogens:
        head += [f"{p}_tests", f"{p}_positive", f"{p}_positivity"]
    f.write(",".join(head) + "\n")
    for r in rows:
        cells = [r[0], r[1].isoformat(), *map(str, r[2:5])]
        for i in range(len(pathogens)):
            tests, pos = r[5 + 2 * i], r[6 + 2 * i]
            cells += [str(tests), str(pos), f"{pos / tests:.4f}" if tests else ""]
        f.write(",".join(cells) + "\n")
print(f"{time.perf_counter() - t:.3f}")
