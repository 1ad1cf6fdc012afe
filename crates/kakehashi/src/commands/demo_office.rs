//! The demo network's partnership office, posted through the hub's office API once (when the
//! hub has no agreement yet): the NUM–JIHS MoU signed 15 April 2026, the bodies, the first
//! bilateral symposium in Berlin as a past event with minutes, two versions of the SARI
//! protocol with translations, an SOP, exchanges, a training course and upcoming meetings
//! with actions (dated from today, so they stay upcoming). The researcher is a member of
//! the working groups and owns actions, so `kakehashi office events --mine` shows them.

use anyhow::Context;
use base64::Engine;
use chrono::{Days, NaiveDate, Utc};
use serde_json::{Value, json};

/// Posts `body` to `path` with `token`; the answer's text.
async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<String> {
    let r = http
        .post(format!("{url}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "hub: {path}: HTTP {status}: {text}");
    Ok(text)
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn member(person: &str, role: &str) -> Value {
    json!({"person": person, "role": role, "from": "2026-04-15", "until": "2029-04-14"})
}

const PROTOCOL_V1: &str = "# SARI surveillance protocol\n\n1. Case definition: ICOSARI (J09-J22 as main diagnosis).\n2. Weekly counts by age group.\n3. Thresholds by the Moving Epidemic Method.\n";
const PROTOCOL_V2: &str = "# SARI surveillance protocol\n\n1. Case definition: ICOSARI (J09-J22 as main diagnosis).\n2. Weekly counts by age group and country.\n3. Thresholds by the Moving Epidemic Method.\n4. Pathogen results by JLAC10 and LOINC codes.\n";
const PROTOCOL_V1_DE: &str = "# SARI-Surveillance-Protokoll\n\n1. Falldefinition: ICOSARI (J09-J22 als Hauptdiagnose).\n2. Wöchentliche Zahlen nach Altersgruppe.\n3. Schwellen nach der Moving Epidemic Method.\n";
const PROTOCOL_V1_JA: &str = "# SARIサーベイランス・プロトコル\n\n1. 症例定義: ICOSARI（主診断 J09-J22）。\n2. 年齢群別の週別件数。\n3. Moving Epidemic Method による閾値。\n";
const PROTOCOL_V2_DE: &str = "# SARI-Surveillance-Protokoll\n\n1. Falldefinition: ICOSARI (J09-J22 als Hauptdiagnose).\n2. Wöchentliche Zahlen nach Altersgruppe und Land.\n3. Schwellen nach der Moving Epidemic Method.\n4. Erregerbefunde nach JLAC10- und LOINC-Codes.\n";
const SOP: &str = "# SOP: shipping AMR isolates\n\n1. Subculture on blood agar.\n2. Package as UN3373.\n3. Record the MIC panel in WHONET.\n";

const EUCAST_ADOPTION: &str = "# Adoption of the EUCAST clinical breakpoints\n\nThe network reads MICs and zone diameters by the EUCAST clinical breakpoint tables of this year, for German and Japanese sites alike; CLSI M100 interpretations are shown beside them where sites report them.\n";

/// The documents that govern what the network computes: the ICOSARI case definition (its
/// approved version is exactly the text the software ships, so the surveillance page shows
/// that it matches) and the adoption of the newest installed EUCAST breakpoints (when the
/// AMR reference tables are installed).
async fn definitions(
    http: &reqwest::Client,
    url: &str,
    admin: &str,
    researcher: &str,
) -> anyhow::Result<()> {
    let icosari = kakehashi_surveillance::definition::SHIPPED
        .iter()
        .find(|(n, _)| *n == "sari-icosari")
        .map(|(_, t)| *t)
        .context("the ICOSARI case definition is shipped")?;
    let eucast = kakehashi_amr::Reference::shared().ok().and_then(|r| {
        r.guidelines()
            .iter()
            .filter(|g| g.to_string().starts_with("EUCAST"))
            .max_by_key(|g| g.year)
            .map(ToString::to_string)
    });
    let mut docs = vec![(
        json!({"id": "def-sari-icosari", "title": "SARI case definition (ICOSARI)", "kind": "method", "lang": "en",
               "governs": [{"kind": "case_definition", "name": "sari-icosari"}]}),
        json!({"file_name": "sari-icosari.toml", "content_base64": b64(icosari), "note": "as computed by the sites"}),
    )];
    if let Some(g) = eucast {
        docs.push((
            json!({"id": "method-eucast", "title": format!("Adoption of the {g} breakpoints"), "kind": "method", "lang": "en",
                   "governs": [{"kind": "breakpoints", "guideline": g}]}),
            json!({"file_name": "eucast.md", "content_base64": b64(EUCAST_ADOPTION), "note": "adopted by the AMR working group"}),
        ));
    }
    for (doc, version) in docs {
        let id = doc["id"].as_str().unwrap_or_default().to_owned();
        post(http, url, admin, "/api/office/documents", doc).await?;
        let path = format!("/api/office/documents/{id}/versions");
        post(http, url, researcher, &path, version).await?;
        let path = format!("/api/office/documents/{id}/step");
        post(
            http,
            url,
            researcher,
            &path,
            json!({"version": 1, "step": "submit"}),
        )
        .await?;
        post(
            http,
            url,
            admin,
            &path,
            json!({"version": 1, "step": "approve"}),
        )
        .await?;
    }
    Ok(())
}

/// Seeds the office unless the hub has an agreement already. `admin` is the network office's
/// token, `researcher` a member's.
pub async fn seed(
    http: &reqwest::Client,
    url: &str,
    admin: &str,
    researcher: &str,
) -> anyhow::Result<()> {
    let have: Vec<Value> = http
        .get(format!("{url}/api/office/agreements"))
        .bearer_auth(admin)
        .send()
        .await?
        .json()
        .await
        .context("reading the office's agreements")?;
    if !have.is_empty() {
        return Ok(());
    }
    post(http, url, admin, "/api/office/agreements", json!({
        "id": "mou-2026",
        "title": "Memorandum of Understanding between NUM and JIHS",
        "parties": [
            {"short": "NUM", "name": "Netzwerk Universitätsmedizin", "country": "DE"},
            {"short": "JIHS", "name": "Japan Institute for Health Security", "country": "JP"}
        ],
        "signatories": [
            {"party": "NUM", "name": "Speaker of the NUM", "title": "Speaker"},
            {"party": "JIHS", "name": "President of JIHS", "title": "President"}
        ],
        "signed": "2026-04-15", "term_start": "2026-04-15", "term_end": "2029-04-14",
        "renewal": "mutual_agreement", "extension_months": 36, "notice_days": 90, "decision_lead_days": 90
    })).await?;
    let bodies = [
        (
            "steering",
            "Steering committee",
            "steering_committee",
            None,
            vec![
                member("admin", "chair"),
                member("steward-jp-tokyo", "co_chair"),
                member("researcher", "member"),
            ],
        ),
        (
            "wg-vhf",
            "Working group VHF",
            "working_group",
            Some("VHF"),
            vec![
                member("steward-de-berlin", "chair"),
                member("researcher", "member"),
            ],
        ),
        (
            "wg-sfts",
            "Working group SFTS",
            "working_group",
            Some("SFTS"),
            vec![
                member("steward-jp-osaka", "chair"),
                member("researcher", "member"),
            ],
        ),
        (
            "wg-amr",
            "Working group AMR",
            "working_group",
            Some("AMR"),
            vec![
                member("steward-de-frankfurt", "chair"),
                member("researcher", "member"),
            ],
        ),
        (
            "wg-sari",
            "Working group ARI/SARI",
            "working_group",
            Some("ARI/SARI"),
            vec![
                member("steward-jp-tokyo", "chair"),
                member("researcher", "secretary"),
            ],
        ),
        (
            "wg-repositories",
            "Working group repositories",
            "working_group",
            Some("Repositories"),
            vec![member("steward-de-berlin", "chair")],
        ),
    ];
    for (id, name, kind, theme, members) in bodies {
        post(
            http,
            url,
            admin,
            "/api/office/bodies",
            json!({"id": id, "name": name, "kind": kind, "theme": theme, "members": members}),
        )
        .await?;
    }
    for (body, date, text, vote) in [
        (
            "steering",
            "2026-04-15",
            "Adopt the work plan of the MoU and set up five theme working groups.",
            json!({"kind": "consensus"}),
        ),
        (
            "steering",
            "2026-04-15",
            "The SARI protocol is drafted by the ARI/SARI working group.",
            json!({"kind": "consensus"}),
        ),
        (
            "wg-amr",
            "2026-06-10",
            "Interpret MICs by EUCAST 2025 at all sites.",
            json!({"kind": "counted", "yes": 2, "no": 0, "abstain": 0}),
        ),
    ] {
        post(http, url, admin, "/api/office/decisions", json!({"body": body, "date": date, "text": text, "vote": vote, "documents": ["proto-sari"]})).await?;
    }
    // the library: the researcher writes, the office approves
    post(http, url, admin, "/api/office/documents", json!({"id": "proto-sari", "title": "SARI surveillance protocol", "kind": "protocol", "lang": "en"})).await?;
    post(http, url, admin, "/api/office/documents", json!({"id": "sop-amr-isolates", "title": "SOP: shipping AMR isolates", "kind": "sop", "lang": "en"})).await?;
    let step = |doc: &'static str,
                version: u32,
                lang: Option<&'static str>,
                step: &'static str,
                token: &'static str| {
        (
            format!("/api/office/documents/{doc}/step"),
            json!({"version": version, "lang": lang, "step": step}),
            token,
        )
    };
    let version = |text: &str, note: &str| json!({"file_name": "protocol.md", "content_base64": b64(text), "note": note});
    let tr = |v: u32, lang: &str, text: &str| json!({"version": v, "lang": lang, "file_name": format!("protocol-{lang}.md"), "content_base64": b64(text)});
    post(
        http,
        url,
        researcher,
        "/api/office/documents/proto-sari/versions",
        version(PROTOCOL_V1, "first version"),
    )
    .await?;
    post(
        http,
        url,
        researcher,
        "/api/office/documents/proto-sari/translations",
        tr(1, "de", PROTOCOL_V1_DE),
    )
    .await?;
    post(
        http,
        url,
        researcher,
        "/api/office/documents/proto-sari/translations",
        tr(1, "ja", PROTOCOL_V1_JA),
    )
    .await?;
    post(
        http,
        url,
        researcher,
        "/api/office/documents/sop-amr-isolates/versions",
        json!({"file_name": "sop.md", "content_base64": b64(SOP), "note": "first version"}),
    )
    .await?;
    let steps = [
        step("proto-sari", 1, None, "submit", "r"),
        step("proto-sari", 1, None, "approve", "a"),
        step("proto-sari", 1, Some("de"), "submit", "r"),
        step("proto-sari", 1, Some("de"), "approve", "a"),
        step("proto-sari", 1, Some("ja"), "submit", "r"),
        step("proto-sari", 1, Some("ja"), "approve", "a"),
        step("sop-amr-isolates", 1, None, "submit", "r"),
        step("sop-amr-isolates", 1, None, "approve", "a"),
    ];
    for (path, body, who) in steps {
        post(
            http,
            url,
            if who == "a" { admin } else { researcher },
            &path,
            body,
        )
        .await?;
    }
    post(
        http,
        url,
        researcher,
        "/api/office/documents/proto-sari/versions",
        version(PROTOCOL_V2, "by country; pathogen codes"),
    )
    .await?;
    post(
        http,
        url,
        researcher,
        "/api/office/documents/proto-sari/translations",
        tr(2, "de", PROTOCOL_V2_DE),
    )
    .await?;
    let (path, body, _) = step("proto-sari", 2, None, "submit", "r");
    post(http, url, researcher, &path, body).await?;
    definitions(http, url, admin, researcher).await?;
    registry_protocols(http, url, admin, researcher).await?;
    // exchanges and training
    for x in [
        json!({"id": "x-2026-amr", "person": "researcher", "home": "JIHS, Tokyo", "host": "Universitätsklinikum Frankfurt", "start": "2026-09-01", "end": "2026-11-27", "purpose": "AMR surveillance methods and WHONET exports", "theme": "AMR", "funding": "JIHS fellowship", "status": "completed", "report": "Antibiogram pipeline set up at both sites."}),
        json!({"id": "x-2027-sfts", "person": "steward-de-berlin", "home": "Charité – Universitätsmedizin Berlin", "host": "JIHS, Tokyo", "start": "2027-05-10", "end": "2027-06-04", "purpose": "SFTS case management and laboratory diagnostics", "theme": "SFTS", "funding": "NUM", "status": "planned", "report": null}),
    ] {
        post(http, url, admin, "/api/office/exchanges", x).await?;
    }
    post(http, url, admin, "/api/office/courses", json!({
        "id": "course-genomic-amr-2026", "title": "Genomic surveillance of antimicrobial resistance",
        "curriculum": ["Sequencing and assembly", "Resistance genes and MICs", "Federated antibiograms"],
        "trainers": ["steward-de-frankfurt", "steward-jp-osaka"],
        "participants": ["researcher", "steward-de-berlin", "steward-jp-tokyo"],
        "sessions": [
            {"date": "2026-10-05", "topic": "Sequencing and assembly", "attended": ["researcher", "steward-de-berlin", "steward-jp-tokyo"]},
            {"date": "2026-10-06", "topic": "Resistance genes and MICs", "attended": ["researcher", "steward-jp-tokyo"]},
            {"date": "2026-10-07", "topic": "Federated antibiograms", "attended": ["researcher", "steward-jp-tokyo"]}
        ]
    })).await?;
    // events: the symposium, then meetings from today on
    let today = Utc::now().date_naive();
    let day = |n: u64| today.checked_add_days(Days::new(n)).unwrap_or(today);
    let due = |n: u64| day(n).to_string();
    let at = |d: NaiveDate, hm: &str| format!("{d}T{hm}:00");
    let events = [
        json!({"id": "symposium-2026-berlin", "title": "First bilateral JIHS–NUM symposium", "kind": "conference", "body": null,
               "tz": "Europe/Berlin", "start": "2026-04-15T09:00:00", "end": "2026-04-15T17:30:00", "location": "Berlin",
               "agenda": ["Welcome", "The NUM and JIHS networks", "Signing of the MoU", "Working groups: VHF, SFTS, AMR, ARI/SARI, repositories"],
               "participants": [{"person": "admin", "presence": "in_person"}, {"person": "steward-jp-tokyo", "presence": "in_person"}, {"person": "researcher", "presence": "remote"}],
               "minutes": "The MoU between NUM and JIHS was signed. Five working groups were set up; the steering committee meets every quarter.",
               "actions": [{"text": "Nominate the working groups' chairs", "owner": "admin", "due": "2026-05-31", "status": "done"}],
               "sequence": 0}),
        json!({"id": "steering-next", "title": "Steering committee: renewal timeline and work plan", "kind": "meeting", "body": "steering",
               "tz": "Asia/Tokyo", "start": at(day(21), "16:00"), "end": at(day(21), "17:30"), "location": "online",
               "agenda": ["Activity since the symposium", "Renewal timeline of the MoU", "Exchanges 2027"],
               "participants": [{"person": "admin", "presence": "remote"}, {"person": "steward-jp-tokyo", "presence": "in_person"}, {"person": "researcher", "presence": "remote"}],
               "minutes": null,
               "actions": [{"text": "Collect the working groups' reports", "owner": "researcher", "due": due(14), "status": "open"},
                           {"text": "Send the draft work plan 2027", "owner": "researcher", "due": due(5), "status": "open"}],
               "sequence": 0}),
        json!({"id": "wg-amr-next", "title": "Working group AMR: pooled antibiogram 2026", "kind": "meeting", "body": "wg-amr",
               "tz": "Europe/Berlin", "start": at(day(35), "09:00"), "end": at(day(35), "10:30"), "location": "online",
               "agenda": ["Pooled antibiogram", "SOP: shipping isolates"],
               "participants": [{"person": "steward-de-frankfurt", "presence": "remote"}, {"person": "researcher", "presence": "remote"}],
               "minutes": null,
               "actions": [{"text": "Run the pooled antibiogram for 2026", "owner": "researcher", "due": due(30), "status": "open"}],
               "sequence": 0}),
        json!({"id": "visit-tokyo", "title": "NUM delegation visit to JIHS", "kind": "visit", "body": null,
               "tz": "Asia/Tokyo", "start": at(day(60), "09:30"), "end": at(day(62), "17:00"), "location": "JIHS, Tokyo",
               "agenda": ["Laboratories", "Repositories", "Joint studies"],
               "participants": [{"person": "admin", "presence": "in_person"}, {"person": "steward-de-berlin", "presence": "in_person"}],
               "minutes": null,
               "actions": [{"text": "Book the laboratory tours", "owner": "steward-jp-tokyo", "due": due(45), "status": "open"}],
               "sequence": 0}),
    ];
    for e in events {
        post(http, url, admin, "/api/office/events", e).await?;
    }
    Ok(())
}

/// The protocols the EDC studies run under (the studies cite version 1 of each): the two
/// registries and the sleeping outbreak protocol, each written by the researcher and approved
/// by the office.
async fn registry_protocols(
    http: &reqwest::Client,
    url: &str,
    admin: &str,
    researcher: &str,
) -> anyhow::Result<()> {
    for (id, title, text) in [
        (
            "proto-vhf-registry",
            "VHF registry protocol",
            "# VHF registry protocol\n\n1. Patients with a confirmed or probable viral haemorrhagic fever at a participating site.\n2. Case report forms from ISARIC ARC's VHF preset (presentation, daily, medication, pathogen testing, outcome, follow-up).\n3. Consent before enrolment; the site mints the subject's pseudonym.\n",
        ),
        (
            "proto-sfts-registry",
            "SFTS registry protocol",
            "# SFTS registry protocol\n\n1. Patients with laboratory-confirmed SFTS (SFTSV RT-PCR or serology).\n2. Case report forms derived from the VHF registry (tick and animal exposure, platelets, CK/LDH/AST/ALT, favipiravir).\n3. Consent before enrolment; the site mints the subject's pseudonym.\n",
        ),
        (
            "proto-vhf-outbreak",
            "VHF outbreak protocol (pre-approved, sleeping)",
            "# VHF outbreak protocol\n\nPre-approved protocol activated site by site when an outbreak of a viral haemorrhagic fever reaches a partner country; forms of the VHF registry.\n",
        ),
    ] {
        post(
            http,
            url,
            admin,
            "/api/office/documents",
            json!({"id": id, "title": title, "kind": "protocol", "lang": "en"}),
        )
        .await?;
        post(
            http,
            url,
            researcher,
            &format!("/api/office/documents/{id}/versions"),
            json!({"file_name": "protocol.md", "content_base64": b64(text), "note": "first version"}),
        )
        .await?;
        for (step, token) in [("submit", researcher), ("approve", admin)] {
            post(
                http,
                url,
                token,
                &format!("/api/office/documents/{id}/step"),
                json!({"version": 1, "lang": null, "step": step}),
            )
            .await?;
        }
    }
    Ok(())
}
