-- The same three questions in SQL for DuckDB, over the site's Parquet files (views made by
-- cohort_duckdb.py). Ages as of the run date, in completed years, as the engine counts them.
-- name: one
SELECT COUNT(DISTINCT patient_id) FROM condition
WHERE code_system IN ('http://fhir.de/CodeSystem/bfarm/icd-10-gm','http://fhir.de/CodeSystem/dimdi/icd-10-gm','http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10','http://hl7.org/fhir/sid/icd-10')
  AND (code = 'J18' OR code LIKE 'J18.%');
-- name: three
SELECT COUNT(*) FROM (
  SELECT patient_id FROM condition WHERE code_system IN ('http://fhir.de/CodeSystem/bfarm/icd-10-gm','http://fhir.de/CodeSystem/dimdi/icd-10-gm','http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10','http://hl7.org/fhir/sid/icd-10')
    AND (code IN ('J09','J10','J11','J12','J18','U07.1') OR code LIKE 'J09.%' OR code LIKE 'J10.%' OR code LIKE 'J11.%' OR code LIKE 'J12.%' OR code LIKE 'J18.%' OR code LIKE 'U07.1%')
  INTERSECT
  SELECT patient_id FROM observation WHERE ((code_system = 'http://loinc.org' AND code = '1988-5') OR (code_system = 'urn:oid:1.2.392.200119.4.504' AND code = '5C070000002306201')) AND value_ucum = 'mg/L' AND value_quantity > 20
  INTERSECT
  SELECT id FROM patient WHERE date_diff('year', birth_date, current_date) - CASE WHEN strftime(birth_date, '%m-%d') > strftime(current_date, '%m-%d') THEN 1 ELSE 0 END BETWEEN 60 AND 150
);
-- name: ten
SELECT COUNT(*) FROM (
  (SELECT patient_id FROM condition WHERE code_system IN ('http://fhir.de/CodeSystem/bfarm/icd-10-gm','http://fhir.de/CodeSystem/dimdi/icd-10-gm','http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10','http://hl7.org/fhir/sid/icd-10')
     AND (code IN ('J18','J10','J12') OR code LIKE 'J18.%' OR code LIKE 'J10.%' OR code LIKE 'J12.%')
   INTERSECT
   SELECT id FROM patient WHERE date_diff('year', birth_date, current_date) - CASE WHEN strftime(birth_date, '%m-%d') > strftime(current_date, '%m-%d') THEN 1 ELSE 0 END BETWEEN 18 AND 150
   INTERSECT
   SELECT patient_id FROM observation WHERE ((code_system = 'http://loinc.org' AND code = '1988-5') OR (code_system = 'urn:oid:1.2.392.200119.4.504' AND code = '5C070000002306201')) AND value_ucum = 'mg/L' AND value_quantity > 10
   INTERSECT
   SELECT patient_id FROM observation WHERE ((code_system = 'http://loinc.org' AND code = '6690-2') OR (code_system = 'urn:oid:1.2.392.200119.4.504' AND code = '2A010000001930101')) AND value_ucum = '10*3/uL' AND value_quantity BETWEEN 0 AND 30
   INTERSECT
   SELECT id FROM patient WHERE gender IN ('female','male'))
  EXCEPT
  (SELECT patient_id FROM condition WHERE code_system IN ('http://fhir.de/CodeSystem/bfarm/icd-10-gm','http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10','http://fhir.de/CodeSystem/dimdi/icd-10-gm','http://hl7.org/fhir/sid/icd-10') AND code LIKE 'U07.1%'
   UNION
   SELECT patient_id FROM condition WHERE code_system IN ('http://fhir.de/CodeSystem/bfarm/icd-10-gm','http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10','http://fhir.de/CodeSystem/dimdi/icd-10-gm','http://hl7.org/fhir/sid/icd-10') AND (code = 'J21' OR code LIKE 'J21.%')
     AND patient_id IN (SELECT id FROM patient WHERE date_diff('year', birth_date, current_date) - CASE WHEN strftime(birth_date, '%m-%d') > strftime(current_date, '%m-%d') THEN 1 ELSE 0 END BETWEEN 0 AND 2)
   UNION
   SELECT patient_id FROM condition WHERE code_system IN ('http://fhir.de/CodeSystem/bfarm/icd-10-gm','http://jpfhir.jp/fhir/core/CodeSystem/JP_ICD10','http://fhir.de/CodeSystem/dimdi/icd-10-gm','http://hl7.org/fhir/sid/icd-10') AND (code = 'A96.2' OR code LIKE 'A96.2%'))
);
