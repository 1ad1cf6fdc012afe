//! The network's catalogue (migration 6) through its service on a real hub of each backend:
//! a site's file is checked as the site checks it, kept once per version, replaced when it
//! changes; a broken file, a clash with another site's ids or a newer report version is
//! refused and changes nothing; searches and the MIABIS export read what is kept; every
//! change is in the audit log.

use super::Fresh;
use super::cases::sid;
use kakehashi_federation::catalogue::{CATALOGUE_VERSION, CatalogueReport};
use kakehashi_hub::service::catalogue;
use kakehashi_model::Country;
use std::collections::BTreeMap;

/// A one-biobank, one-collection catalogue file.
pub fn catalogue_file(bank: &str, coll: &str, country: &str, material: &str, icd: &str) -> String {
    format!(
        r#"[[biobank]]
id = "{bank}"
name = "Biobank {bank}"
juristic_person = "Hospital of {bank}"
country = "{country}"
description = "A biobank"
contact = {{ email = "bank@{bank}.example" }}

[[collection]]
id = "{coll}"
biobank = "{bank}"
name = "Collection {coll}"
description = "Samples of {coll}"
contact = {{ email = "coll@{bank}.example" }}
sex = ["Female", "Male"]
dataset_types = ["Clinical"]
material_types = ["{material}"]
diseases = ["{icd}"]
"#
    )
}

fn report(text: &str) -> CatalogueReport {
    CatalogueReport {
        version: CATALOGUE_VERSION,
        file: "catalogue.toml".into(),
        text: text.into(),
    }
}

fn query(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub fn each_sites_catalogue_is_kept_checked_and_searchable(fresh: Fresh<'_>) {
    let place = fresh();
    let data = tempfile::tempdir().unwrap();
    let hub = place.hub(data.path());
    for (id, c) in [("de-a", Country::Germany), ("jp-b", Country::Japan)] {
        hub.db
            .put_site(&sid(id), id, c, "key", &format!("tok-{id}"))
            .unwrap();
    }
    let de = hub.db.site_by_token("tok-de-a").unwrap().unwrap();
    let jp = hub.db.site_by_token("tok-jp-b").unwrap().unwrap();
    let audit = |h: &kakehashi_hub::Hub| {
        h.audit
            .tail(1000)
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "catalogue_received")
            .count()
    };

    let first = catalogue_file("de-bb", "de-sera", "DE", "Serum", "A98.0");
    let got = catalogue::accept(&hub, &de, report(&first)).unwrap();
    assert!(got.changed);
    assert_eq!((got.biobanks, got.collections), (1, 1));
    // the same file again: kept once, logged once
    assert!(
        !catalogue::accept(&hub, &de, report(&first))
            .unwrap()
            .changed
    );
    assert_eq!(audit(&hub), 1);
    let jp_text = catalogue_file("jp-bb", "jp-dna", "JP", "DNA", "J18.-");
    catalogue::accept(&hub, &jp, report(&jp_text)).unwrap();
    assert_eq!(audit(&hub), 2);

    // refused, changing nothing: a MIABIS problem (named with file, entry, line, field) ...
    let broken = first.replace("Serum", "Sera");
    let e = catalogue::accept(&hub, &de, report(&broken)).unwrap_err();
    assert_eq!(e.status.as_u16(), 400);
    assert!(
        e.message.contains("catalogue.toml of site de-a")
            && e.message
                .contains("collection \"de-sera\" (line 10), material_types[0]")
            && e.message.contains("unknown material type \"Sera\""),
        "{}",
        e.message
    );
    // ... a collection id another site publishes ...
    let clash = catalogue_file("jp-bb2", "de-sera", "JP", "DNA", "J18.-");
    let e = catalogue::accept(&hub, &jp, report(&clash)).unwrap_err();
    assert_eq!(e.status.as_u16(), 409);
    assert!(
        e.message
            .contains("collection id \"de-sera\" is already published by site \"de-a\""),
        "{}",
        e.message
    );
    // ... a newer report, another file name
    let mut newer = report(&first);
    newer.version = CATALOGUE_VERSION + 1;
    assert_eq!(
        catalogue::accept(&hub, &de, newer)
            .unwrap_err()
            .status
            .as_u16(),
        409
    );
    let mut other = report(&first);
    other.file = "../secrets.toml".into();
    assert_eq!(
        catalogue::accept(&hub, &de, other)
            .unwrap_err()
            .status
            .as_u16(),
        400
    );
    assert_eq!(audit(&hub), 2);
    let kept = hub.db.catalogues().unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0].catalogue.collections[0].id, "de-sera");
    assert_eq!(kept[1].catalogue.collections[0].id, "jp-dna");

    // searches over both sites
    let find = |pairs: &[(&str, &str)]| -> Vec<String> {
        let s = catalogue::search_of(&query(pairs)).unwrap();
        catalogue::find(&hub, &s)
            .unwrap()
            .into_iter()
            .map(|h| format!("{}/{}", h.site, h.collection.id))
            .collect()
    };
    assert_eq!(find(&[]), ["de-a/de-sera", "jp-b/jp-dna"]);
    assert_eq!(find(&[("material", "DNA")]), ["jp-b/jp-dna"]);
    assert_eq!(find(&[("disease", "A98")]), ["de-a/de-sera"]);
    assert_eq!(find(&[("country", "de")]), ["de-a/de-sera"]);
    assert_eq!(find(&[("q", "hospital")]), Vec::<String>::new());
    assert_eq!(find(&[("q", "jp-bb")]), ["jp-b/jp-dna"]);
    let e = catalogue::search_of(&query(&[("material", "blood plasma")])).unwrap_err();
    assert!(
        e.message.starts_with("material: unknown material type"),
        "{}",
        e.message
    );

    // a change replaces the site's catalogue; text with SQL in it is kept verbatim
    let nasty = "x'); DROP TABLE site_catalogues; --";
    let changed = first.replace("Samples of de-sera", nasty);
    assert!(
        catalogue::accept(&hub, &de, report(&changed))
            .unwrap()
            .changed
    );
    assert_eq!(audit(&hub), 3);
    let kept = hub.db.catalogues().unwrap();
    assert_eq!(kept[0].catalogue.collections[0].description, nasty);
    assert_eq!(kept.len(), 2);

    // the network's MIABIS JSON has both sites' entries
    let json: serde_json::Value = serde_json::from_str(&catalogue::miabis(&hub).unwrap()).unwrap();
    assert_eq!(json["standard"], "MIABIS Core 3.0");
    let ids: Vec<&str> = json["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["de-sera", "jp-dna"]);
    assert_eq!(json["collections"][1]["sampleType"][0], "DNA");
}
