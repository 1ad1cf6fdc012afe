//! A study's clinical data exported by a member whose role may export: the REDCap-style flat
//! CSV (`edc::flat`, with the data access group column), the same rows as a typed Parquet
//! file ([`super::parquet`]), CDISC ODM 1.3.2 with the audit trail (`edc::odm_clinical`) or
//! FHIR Questionnaires and QuestionnaireResponses. Only the forms the role may export and the subjects of the
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
    /// Parquet for analysis: the flat CSV's rows and columns, typed from the dictionary.
    Parquet,
}

impl RecordsFormat {
    /// The file name extension of an export in this format.
    pub fn extension(self) -> &'static str {
        match self {
            RecordsFormat::Csv => "csv",
            RecordsFormat::Odm => "xml",
            RecordsFormat::Fhir => "json",
            RecordsFormat::Parquet => "parquet",
        }
    }
}

/// An export: its media type and bytes.
#[derive(Debug, Clone)]
pub struct Exported {
    /// `text/csv`, `application/xml`, `application/fhir+json` or
    /// `application/vnd.apache.parquet`.
    pub content_type: &'static str,
    /// The file (UTF-8 text but for Parquet).
    pub body: Vec<u8>,
    /// Subjects in it.
    pub subjects: usize,
}

impl Exported {
    /// The file as text (empty for a Parquet file).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }
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
    // the flat formats read values and status only; ODM and FHIR the whole stored form
    let data = match format {
        RecordsFormat::Csv | RecordsFormat::Parquet => {
            super::super::redcap_records::visible_values(hub, &a)
        }
        RecordsFormat::Odm | RecordsFormat::Fhir => {
            super::super::redcap_records::visible_data(hub, &a)
        }
    }
    .map_err(ApiError::internal)?;
    let flat_rows = || {
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
        flat::export(&s, &records, &o)
    };
    let (content_type, body) = match format {
        RecordsFormat::Csv => {
            let (cols, rows) = flat_rows();
            (
                "text/csv; charset=utf-8",
                flat::to_csv(&cols, &rows).into_bytes(),
            )
        }
        RecordsFormat::Parquet => {
            let (cols, rows) = flat_rows();
            (
                "application/vnd.apache.parquet",
                super::parquet::write(&s, &cols, &rows)
                    .map_err(|e| ApiError::internal(e.to_string()))?,
            )
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
                kakehashi_edc::odm_clinical::write_clinical(&s, &subjects, &forms, &now)
                    .into_bytes(),
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
                serde_json::to_vec_pretty(&b).map_err(|e| ApiError::internal(e.to_string()))?,
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
