//! The data-quality panel of a form page: the real-time checks' findings on the form instance
//! and its queries, from [`quality`], as `web::study::quality::FormQuality`.

use crate::db::User;
use crate::service::studies::{quality, records};
use crate::{ApiError, Hub};
use kakehashi_edc::entry::FormKey;
use kakehashi_web::study::quality::{FormFinding, FormQuality, FormQuery, field_label};

/// The real-time findings and the queries of one form instance.
pub(super) struct Quality {
    findings: Vec<kakehashi_edc::quality::Finding>,
    queries: Vec<quality::QueryView>,
    can_open: bool,
}

pub(super) fn form_quality(
    hub: &Hub,
    user: &User,
    a: &records::Access,
    k: &FormKey,
) -> Result<Quality, ApiError> {
    let on_form = |record: &str, event: &str, form: &str, instance: u32| {
        record == k.record && event == k.event && form == k.form && instance == k.instance
    };
    let findings = quality::record_findings(hub, a, &k.record)?
        .into_iter()
        .filter(|f| on_form(&f.record, &f.event, &f.form, f.instance))
        .collect();
    let filter = quality::QueryFilter {
        record: Some(k.record.clone()),
        form: Some(k.form.clone()),
        ..Default::default()
    };
    let queries = quality::queries(hub, user, &a.study.id, &filter)?
        .into_iter()
        .filter(|v| {
            on_form(
                &v.query.record,
                &v.query.event,
                &v.query.form,
                v.query.instance,
            )
        })
        .collect();
    Ok(Quality {
        findings,
        queries,
        can_open: a.role.open_queries,
    })
}

impl Quality {
    pub(super) fn page(&self, s: &kakehashi_edc::Study, l: kakehashi_web::Locale) -> FormQuality {
        FormQuality {
            findings: self
                .findings
                .iter()
                .map(|f| FormFinding {
                    field: f.field.clone(),
                    label: field_label(s, l, &f.field),
                    check: f.check.clone(),
                    message: f.message.clone(),
                })
                .collect(),
            queries: self
                .queries
                .iter()
                .map(|v| FormQuery {
                    num: v.num,
                    field: v.query.field.clone(),
                    label: field_label(s, l, &v.query.field),
                    status: v.query.status.as_str().into(),
                    last: v.query.last_text().into(),
                })
                .collect(),
            can_open: self.can_open,
        }
    }
}
