//! MIABIS JSON: a catalogue written with the MIABIS Core 3 attribute names and value labels
//! (diseases as MIABIS structured disease data: ontology, version, code).

use crate::catalogue::{Catalogue, Contact};
use crate::vocab::ValueSet;
use serde_json::{Map, Value, json};

fn labels<V: ValueSet>(vs: &[V]) -> Value {
    Value::from(vs.iter().map(|v| v.label()).collect::<Vec<_>>())
}

fn put(m: &mut Map<String, Value>, key: &str, v: Option<impl Into<Value>>) {
    if let Some(v) = v {
        m.insert(key.to_owned(), v.into());
    }
}

fn contact(c: &Contact) -> Value {
    let mut m = Map::new();
    put(&mut m, "firstName", c.first_name.clone());
    put(&mut m, "lastName", c.last_name.clone());
    put(&mut m, "phone", c.phone.clone());
    m.insert("email".into(), c.email.clone().into());
    put(&mut m, "address", c.address.clone());
    put(&mut m, "zip", c.zip.clone());
    put(&mut m, "city", c.city.clone());
    put(&mut m, "country", c.country.clone());
    put(&mut m, "department", c.department.clone());
    put(&mut m, "orcid", c.orcid.clone());
    Value::Object(m)
}

/// The catalogue as MIABIS JSON (pretty-printed, attribute order as in MIABIS Core 3).
pub fn miabis_json(cat: &Catalogue) -> String {
    let biobanks: Vec<Value> = cat
        .biobanks
        .iter()
        .map(|b| {
            let mut m = Map::new();
            m.insert("id".into(), b.id.clone().into());
            put(&mut m, "acronym", b.acronym.clone());
            m.insert("name".into(), b.name.clone().into());
            put(&mut m, "url", b.url.clone());
            m.insert("juristicPerson".into(), b.juristic_person.clone().into());
            m.insert("country".into(), b.country.clone().into());
            m.insert("contact".into(), contact(&b.contact));
            m.insert("description".into(), b.description.clone().into());
            m.insert(
                "infrastructuralCapabilities".into(),
                labels(&b.infrastructural_capabilities),
            );
            m.insert(
                "organisationalCapabilities".into(),
                labels(&b.organisational_capabilities),
            );
            m.insert(
                "bioprocessingAndAnalyticalCapabilities".into(),
                labels(&b.bioprocessing_capabilities),
            );
            m.insert(
                "qualityManagementStandards".into(),
                labels(&b.quality_standards),
            );
            Value::Object(m)
        })
        .collect();
    let collections: Vec<Value> = cat
        .collections
        .iter()
        .map(|c| {
            let mut m = Map::new();
            m.insert("id".into(), c.id.clone().into());
            m.insert("biobank".into(), c.biobank.clone().into());
            put(&mut m, "acronym", c.acronym.clone());
            m.insert("name".into(), c.name.clone().into());
            put(&mut m, "url", c.url.clone());
            m.insert("contact".into(), contact(&c.contact));
            m.insert("description".into(), c.description.clone().into());
            put(&mut m, "sampleSource", c.sample_source.map(|s| s.label()));
            m.insert("sex".into(), labels(&c.sex));
            if let Some(a) = c.age {
                put(&mut m, "ageLow", a.low);
                put(&mut m, "ageHigh", a.high);
                m.insert("ageUnit".into(), a.unit.label().into());
            }
            m.insert("datasetType".into(), labels(&c.dataset_types));
            m.insert("sampleType".into(), labels(&c.material_types));
            m.insert("storageTemperature".into(), labels(&c.storage_temperatures));
            m.insert(
                "disease".into(),
                Value::from(
                    c.diseases
                        .iter()
                        .map(
                            |d| json!({"ontology": "ICD", "version": "ICD-10", "code": d.as_str()}),
                        )
                        .collect::<Vec<_>>(),
                ),
            );
            m.insert("sampleCollectionSetting".into(), labels(&c.settings));
            m.insert("collectionDesign".into(), labels(&c.designs));
            m.insert(
                "useAndAccessConditions".into(),
                labels(&c.access_conditions),
            );
            put(&mut m, "collectionStatus", c.status.map(|s| s.label()));
            put(&mut m, "totalNumberOfSubjects", c.number_of_subjects);
            put(&mut m, "numberOfSamples", c.number_of_samples);
            m.insert("inclusionCriteria".into(), labels(&c.inclusion_criteria));
            m.insert("publications".into(), Value::from(c.publications.clone()));
            Value::Object(m)
        })
        .collect();
    let doc = json!({
        "standard": "MIABIS Core 3.0",
        "biobanks": biobanks,
        "collections": collections,
    });
    // A tree of maps, strings and numbers always serialises.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
