//! The demo network's EDC studies, posted through the hub's study API once (when the hub
//! has none of them yet): the "VHF registry" and the "SFTS registry" built from ISARIC ARC,
//! with the four demo sites as data access groups, a demo data manager (`datamanager`,
//! the study role `data_manager`: all sites, export and API rights) and, per study, a
//! REDCap API token of theirs in `DATA_DIR/hub/redcap-<study-id>.token`, so that PyCap (or
//! any REDCap client) can point at `<hub>/redcap/api/` at once.

use anyhow::Context;
use kakehashi_edc::study::{EthicsApproval, ProtocolCitation, Site, StudyStatus};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The demo data manager's name (password `kakehashi-demo`, hub role researcher).
pub const DATA_MANAGER: &str = "datamanager";

async fn call(req: reqwest::RequestBuilder, what: &str) -> anyhow::Result<String> {
    let r = req.send().await.with_context(|| what.to_owned())?;
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "hub: {what}: HTTP {status}: {text}");
    Ok(text)
}

/// The token file of a study's demo data manager.
pub fn token_file(hub_dir: &Path, study: &str) -> PathBuf {
    hub_dir.join(format!("redcap-{study}.token"))
}

/// Creates the two registries (unless there), the data manager and their API tokens
/// (unless written); the studies' ids.
pub async fn seed(
    http: &reqwest::Client,
    url: &str,
    admin: &str,
    hub_dir: &Path,
    sites: &[(&str, &str, &str)],
) -> anyhow::Result<Vec<String>> {
    call(
        http.post(format!("{url}/api/admin/users"))
            .bearer_auth(admin)
            .json(
                &json!({"name": DATA_MANAGER, "password": "kakehashi-demo", "role": "researcher"}),
            ),
        "creating the demo data manager",
    )
    .await?;
    let have: Vec<Value> = serde_json::from_str(
        &call(
            http.get(format!("{url}/api/studies")).bearer_auth(admin),
            "listing the studies",
        )
        .await?,
    )?;
    let mut ids = Vec::new();
    for mut s in [
        kakehashi_edc::arc::vhf_study()?,
        kakehashi_edc::arc::sfts_study()?,
    ] {
        ids.push(s.id.clone());
        if have.iter().any(|h| h["id"] == s.id.as_str()) {
            continue;
        }
        s.title = if s.id.starts_with("vhf") {
            "VHF registry".into()
        } else {
            "SFTS registry".into()
        };
        s.sponsor = "NUM (DE) and JIHS (JP), demo".into();
        s.status = StudyStatus::Active;
        s.protocol = Some(ProtocolCitation {
            document: format!("proto-{}", s.id),
            version: 1,
        });
        s.ethics = vec![
            EthicsApproval {
                country: "DE".into(),
                committee: "Ethikkommission der Charité (demo)".into(),
                reference: format!("EA2/{}-demo", s.acronym),
                approved_on: "2026-05-04".into(),
            },
            EthicsApproval {
                country: "JP".into(),
                committee: "JIHS Research Ethics Committee (demo)".into(),
                reference: format!("JIHS-{}-demo", s.acronym),
                approved_on: "2026-05-11".into(),
            },
        ];
        s.sites = study_sites(sites);
        call(
            http.post(format!("{url}/api/studies"))
                .bearer_auth(admin)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(s.to_json()),
            "creating a demo study",
        )
        .await?;
        call(
            http.post(format!("{url}/api/studies/{}/members", s.id))
                .bearer_auth(admin)
                .json(&json!({"user": DATA_MANAGER, "role": "data_manager", "dag": null})),
            "making the data manager a member",
        )
        .await?;
    }
    if !have.iter().any(|h| h["id"] == OUTBREAK) {
        sleeping_outbreak_study(http, url, admin, sites).await?;
    }
    for id in &ids {
        let file = token_file(hub_dir, id);
        if file.exists() {
            continue;
        }
        let t: Value = serde_json::from_str(
            &call(
                http.post(format!("{url}/api/studies/{id}/tokens"))
                    .bearer_auth(admin)
                    .json(&json!({"user": DATA_MANAGER})),
                "minting the data manager's REDCap API token",
            )
            .await?,
        )?;
        let token = t["token"].as_str().context("no token")?;
        std::fs::write(&file, token).with_context(|| format!("writing {}", file.display()))?;
    }
    Ok(ids)
}

/// The sleeping outbreak protocol's id.
pub const OUTBREAK: &str = "vhf-outbreak";

/// A pre-approved outbreak protocol on the VHF registry's forms, sleeping: its sites and roles
/// are ready, Germany's ethics approval is recorded, Japan's not yet; `kakehashi study
/// activate vhf-outbreak --site de_berlin` starts it at a site in one step.
async fn sleeping_outbreak_study(
    http: &reqwest::Client,
    url: &str,
    admin: &str,
    sites: &[(&str, &str, &str)],
) -> anyhow::Result<()> {
    let mut s = kakehashi_edc::arc::vhf_study()?;
    s.id = OUTBREAK.into();
    s.title = "VHF outbreak protocol".into();
    s.acronym = "VHF-OUT".into();
    s.sponsor = "NUM (DE) and JIHS (JP), demo".into();
    s.status = StudyStatus::Sleeping;
    s.protocol = Some(ProtocolCitation {
        document: "proto-vhf-outbreak".into(),
        version: 1,
    });
    s.ethics = vec![EthicsApproval {
        country: "DE".into(),
        committee: "Ethikkommission der Charité (demo)".into(),
        reference: "EA2/VHF-OUT-demo".into(),
        approved_on: "2026-09-21".into(),
    }];
    s.sites = study_sites(sites);
    call(
        http.post(format!("{url}/api/studies"))
            .bearer_auth(admin)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(s.to_json()),
        "creating the sleeping outbreak study",
    )
    .await?;
    call(
        http.post(format!("{url}/api/studies/{OUTBREAK}/members"))
            .bearer_auth(admin)
            .json(&json!({"user": DATA_MANAGER, "role": "data_manager", "dag": null})),
        "making the data manager a member of the outbreak study",
    )
    .await?;
    Ok(())
}

/// The demo's sites as a study's data access groups (REDCap's rule: `_` for `-`).
fn study_sites(sites: &[(&str, &str, &str)]) -> Vec<Site> {
    sites
        .iter()
        .map(|(id, name, country)| Site {
            dag: id.replace('-', "_"),
            name: (*name).into(),
            country: (*country).into(),
        })
        .collect()
}
