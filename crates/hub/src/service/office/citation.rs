//! The protocol version a study cites (`kakehashi_office::library::citation`): checked
//! against the library when the study is written, described for the study's page, and listed
//! on the document's page ("cited by").

use super::ApiResult;
use super::{list, stored};
use crate::db::OfficeTable;
use crate::{ApiError, Hub};
use kakehashi_edc::study::ProtocolCitation;
use kakehashi_office::library::citation::{self, Cited};
use kakehashi_office::library::{Document, Version};

/// The cited version described; 400 naming `protocol.document` or `protocol.version` when the
/// library has no such protocol version.
pub fn cited(hub: &Hub, c: &ProtocolCitation) -> ApiResult<Cited> {
    let Some(json) = hub.db.office_get(OfficeTable::Documents, &c.document)? else {
        return Err(ApiError::bad_request(format!(
            "protocol.document: the library has no document {:?}",
            c.document
        )));
    };
    let doc: Document = stored(&json)?;
    let versions: Vec<Version> = list(hub, OfficeTable::Versions, Some(&c.document))?;
    citation::cite("protocol", &doc, &versions, c.version)
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// The studies citing a version of `document`: (study id, title, version), by study id.
pub fn cited_by(hub: &Hub, document: &str) -> ApiResult<Vec<(String, String, u32)>> {
    let mut out = Vec::new();
    for doc in hub.db.study_list()? {
        let Ok(s) = serde_json::from_str::<kakehashi_edc::Study>(&doc) else {
            continue;
        };
        if let Some(c) = s.protocol.as_ref().filter(|c| c.document == document) {
            out.push((s.id.clone(), s.title.clone(), c.version));
        }
    }
    out.sort();
    Ok(out)
}
