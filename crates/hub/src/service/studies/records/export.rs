//! A study's clinical data exported by a member whose role may export: the REDCap-style flat
//! CSV (`edc::flat`, with the data access group column) or CDISC ODM 1.3.2 with the audit
//! trail (`edc::odm_clinical`). Only the forms the role may export and the subjects of the
//! sites the role sees; every export is in the audit log.

use super::{Access, access, audit};
use crate::db::User;
use crate::service::ApiResult;
use crate::{ApiError, Hub};
use kakehashi_edc::flat::{self, ExportOptions, FlatRecord};
use serde::{Deserialize, Serialize};

/// The export formats of clinical data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordsFormat {
    /// REDCap's flat CSV (checkbox `var___code` columns, event, repeat and DAG columns).
    Csv,
    /// CDISC ODM 1.3.2: metadata, admin data and clinical data with audit records.
    Odm,
    /// FHIR R4: a collection Bundle of the forms as Questionnaires and the saved instances
    /// as QuestionnaireResponses.
    Fhir,
}

/// An export: its media type and text.
#[derive(Debug, Clone)]
pub struct Exported {
    /// `text/csv` or `application/xml`.
    pub content_type: &'static str,
    /// The file's text.
    pub body: String,
    /// Subjects in it.
    pub subjects: usize,
}

/// Exports `study`'s data for `user` in `format`; 403 when the role may export no form.
pub fn export(hub: &Hub, user: &User, study: &str, format: RecordsFormat) -> ApiResult<Exported> {
    let a: Access = access(hub, user, study)?;
    let rid = flat::record_id_field(&a.study).to_owned();
    let mut s = a.study.clone();
    s.fields
        .retain(|f| a.role.rights(&f.form).export || f.variable == rid);
    if !s.fields.iter().any(|f| f.variable != rid) {
        return Err(ApiError::forbidden(format!(
            "the study role {} may export no form",
            a.role.name
        )));
    }
    let exportable: Vec<&str> = s.forms();
    let data = super::super::redcap_records::visible_data(hub, &a).map_err(ApiError::internal)?;
    let (content_type, body) = match format {
        RecordsFormat::Csv => {
            let records: Vec<FlatRecord<'_>> = data
                .iter()
                .map(|(subject, forms)| FlatRecord {
                    record: &subject.record,
                    site: &subject.site,
                    forms,
                })
                .collect();
            let o = ExportOptions {
                dags: true,
                ..ExportOptions::default()
            };
            let (cols, rows) = flat::export(&s, &records, &o);
            ("text/csv; charset=utf-8", flat::to_csv(&cols, &rows))
        }
        RecordsFormat::Odm => {
            let subjects: Vec<_> = data.iter().map(|(x, _)| x.clone()).collect();
            let forms: Vec<_> = data
                .iter()
                .flat_map(|(_, f)| f.iter())
                .filter(|f| exportable.contains(&f.form.as_str()))
                .cloned()
                .collect();
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            (
                "application/xml; charset=utf-8",
                kakehashi_edc::odm_clinical::write_clinical(&s, &subjects, &forms, &now),
            )
        }
        RecordsFormat::Fhir => {
            let forms: Vec<_> = data
                .iter()
                .flat_map(|(_, f)| f.iter())
                .filter(|f| exportable.contains(&f.form.as_str()))
                .cloned()
                .collect();
            let base = hub
                .cfg
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", hub.cfg.listen));
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let b = kakehashi_edc::fhir_qr::bundle(&base, &s, &forms, &now);
            (
                "application/fhir+json; charset=utf-8",
                serde_json::to_string_pretty(&b).map_err(|e| ApiError::internal(e.to_string()))?,
            )
        }
    };
    audit(
        hub,
        &user.name,
        "records_exported",
        serde_json::json!({"study": study, "format": format, "subjects": data.len(),
            "sites": if a.role.all_sites { None } else { a.member.dag.clone() }}),
    )?;
    Ok(Exported {
        content_type,
        body,
        subjects: data.len(),
    })
}
