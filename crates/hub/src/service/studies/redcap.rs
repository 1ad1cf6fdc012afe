//! The REDCap-compatible API. Metadata here: a form-encoded `POST` with `token`, `content`,
//! `format` (`json` or `csv`) and `returnFormat`, answered with exactly the shapes REDCap
//! returns (built by `kakehashi_edc::api`) for `project`, `metadata`, `exportFieldNames`,
//! `instrument`, `event`, `arm`, `formEventMapping`, `repeatingFormsEvents`, `dag` and
//! `version`; records (export, import) and logging in [`super::redcap_records`]. Errors are REDCap's: `{"error": "..."}` (or `ERROR: ...` in CSV, `<error>` in
//! XML, in the `returnFormat`, else the `format`, else XML), 403 for a token that opens
//! nothing, 400 for a request REDCap would refuse. The token is a study API token
//! ([`super::new_api_token`]); its user's study role must still hold the API right. Every
//! call is written to the audit log (`study_api_read`). Blocking.

use crate::Hub;
use crate::db::secret_hash;
use kakehashi_edc::{Study, api};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What the API answers: a status, a content type and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

/// The formats REDCap answers in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Fmt {
    Json,
    Csv,
    Xml,
}

impl Fmt {
    fn parse(s: Option<&str>) -> Option<Fmt> {
        match s.map(str::to_ascii_lowercase).as_deref() {
            Some("json") => Some(Fmt::Json),
            Some("csv") => Some(Fmt::Csv),
            Some("xml") => Some(Fmt::Xml),
            _ => None,
        }
    }
}

/// The request's parameters, in order (`fields[0]`, `arms[1]`, … kept as sent).
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub(super) fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    /// The values of an array parameter: `k[0]`, `k[1]`, … (or `k[]`), and a
    /// comma-separated `k`.
    pub(super) fn list(&self, k: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (n, v) in &self.0 {
            let indexed = n
                .strip_prefix(k)
                .and_then(|r| r.strip_prefix('['))
                .is_some_and(|r| r.ends_with(']'));
            if indexed {
                out.push(v.clone());
            } else if n == k {
                out.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from),
                );
            }
        }
        out
    }
}

/// A REDCap error in the format asked for.
pub(super) fn error(status: u16, fmt: Fmt, message: &str) -> Answer {
    let (content_type, body) = match fmt {
        Fmt::Json => (
            "application/json",
            serde_json::json!({ "error": message }).to_string(),
        ),
        Fmt::Csv => ("text/csv; charset=utf-8", format!("ERROR: {message}")),
        Fmt::Xml => (
            "text/xml; charset=utf-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<hash>\n  <error>{}</error>\n</hash>",
                kakehashi_edc::odm::escape(message)
            ),
        ),
    };
    Answer {
        status,
        content_type,
        body,
    }
}

fn rows<T: Serialize>(fmt: Fmt, rows: &[T]) -> Answer {
    match fmt {
        Fmt::Csv => match api::to_csv(rows) {
            Ok(body) => Answer {
                status: 200,
                content_type: "text/csv; charset=utf-8",
                body,
            },
            Err(e) => error(500, fmt, &e.to_string()),
        },
        _ => Answer {
            status: 200,
            content_type: "application/json",
            body: serde_json::to_string(rows).unwrap_or_else(|_| "[]".into()),
        },
    }
}

/// A stable numeric project id for a study (REDCap's are numbers): the first four bytes of
/// the SHA-256 of its id.
pub fn project_id(study: &str) -> u64 {
    let h = Sha256::digest(study.as_bytes());
    u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]) & 0x7fff_ffff)
}

/// Answers one API request.
pub fn answer(hub: &Hub, p: &Params) -> Answer {
    let fmt = Fmt::parse(p.get("format"));
    let err_fmt = Fmt::parse(p.get("returnFormat"))
        .or(fmt)
        .unwrap_or(Fmt::Xml);
    let token = p.get("token").unwrap_or("").trim();
    if token.is_empty() {
        return error(403, err_fmt, "You do not have permissions to use the API");
    }
    let found = match hub.db.study_token(&secret_hash(token)) {
        Ok(f) => f,
        Err(e) => return error(500, err_fmt, &e.0),
    };
    let Some((study_id, user)) = found else {
        return error(403, err_fmt, "You do not have permissions to use the API");
    };
    let study = match super::load(hub, &study_id) {
        Ok((s, _)) => s,
        Err(e) => return error(e.status.as_u16(), err_fmt, &e.message),
    };
    let role = hub
        .db
        .study_member(&study_id, &user)
        .ok()
        .flatten()
        .and_then(|m| study.roles.iter().find(|r| r.name == m.role).cloned());
    if !role.is_some_and(|r| study.forms().iter().any(|f| r.rights(f).api)) {
        return error(403, err_fmt, "You do not have permissions to use the API");
    }
    let content = p.get("content").unwrap_or("");
    if content == "version" {
        return Answer {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: api::REDCAP_VERSION.into(),
        };
    }
    let fmt = match fmt {
        Some(Fmt::Xml) => {
            return error(
                400,
                err_fmt,
                "format: this hub answers json or csv, not xml",
            );
        }
        Some(f) => f,
        None => Fmt::Xml,
    };
    if fmt == Fmt::Xml {
        return error(
            400,
            err_fmt,
            "format: this hub answers json or csv (REDCap's default, xml, is not offered)",
        );
    }
    let import = content == "record" && p.get("data").is_some();
    let a = if content == "record" || content == "log" {
        let access = hub
            .db
            .user_with_hash(&user)
            .map_err(|e| e.0)
            .and_then(|u| u.ok_or_else(|| format!("no user {user}")))
            .and_then(|(u, _)| super::records::access(hub, &u, &study_id).map_err(|e| e.message));
        match access {
            Err(e) => return error(403, err_fmt, &e),
            Ok(acc) => match (content, p.get("data")) {
                ("record", Some(data)) => super::redcap_records::import(hub, &acc, fmt, data, p),
                ("record", None) => super::redcap_records::export(hub, &acc, fmt, p),
                _ => super::redcap_records::log(hub, &acc, fmt, p),
            },
        }
    } else {
        respond(hub, &study, &study_id, content, fmt, p)
    };
    if a.status == 200 && !import {
        let logged = hub.audit_log(
            "study_api_read",
            serde_json::json!({"by": user, "detail": {"study": study_id, "content": content}}),
        );
        if let Err(e) = logged {
            return error(500, err_fmt, &e.message);
        }
    }
    a
}

fn arms_of(fmt: Fmt, p: &Params) -> Result<Vec<u32>, Answer> {
    p.list("arms")
        .iter()
        .map(|a| {
            a.parse()
                .map_err(|_| error(400, fmt, &format!("arms: '{a}' is not an arm number")))
        })
        .collect()
}

fn respond(hub: &Hub, s: &Study, id: &str, content: &str, fmt: Fmt, p: &Params) -> Answer {
    match content {
        "project" => {
            let created = hub
                .db
                .study_created(id)
                .ok()
                .flatten()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default();
            let info = api::project(s, project_id(id), &created);
            match fmt {
                Fmt::Csv => rows(fmt, &[info]),
                _ => Answer {
                    status: 200,
                    content_type: "application/json",
                    body: serde_json::to_string(&info).unwrap_or_default(),
                },
            }
        }
        "metadata" => {
            let (fields, forms) = (p.list("fields"), p.list("forms"));
            for f in &fields {
                if !s.fields.iter().any(|x| &x.variable == f) {
                    return error(
                        400,
                        fmt,
                        &format!(
                            "The following values in the parameter \"fields\" are not valid: '{f}'"
                        ),
                    );
                }
            }
            rows(fmt, &api::metadata(s, &fields, &forms))
        }
        "exportFieldNames" => {
            let field = p.get("field").filter(|f| !f.is_empty());
            let r = api::export_field_names(s, field);
            if let Some(f) = field
                && r.is_empty()
            {
                return error(
                    400,
                    fmt,
                    &format!(
                        "The following values in the parameter \"field\" are not valid: '{f}'"
                    ),
                );
            }
            rows(fmt, &r)
        }
        "instrument" => rows(fmt, &api::instruments(s)),
        "event" => match arms_of(fmt, p) {
            Ok(a) => rows(fmt, &api::events(s, &a)),
            Err(e) => e,
        },
        "arm" => match arms_of(fmt, p) {
            Ok(a) => rows(fmt, &api::arms(s, &a)),
            Err(e) => e,
        },
        "formEventMapping" => match arms_of(fmt, p) {
            Ok(a) => rows(fmt, &api::form_event_mapping(s, &a)),
            Err(e) => e,
        },
        "repeatingFormsEvents" => rows(fmt, &api::repeating(s)),
        "dag" => rows(fmt, &api::dags(s)),
        "" => error(400, fmt, "The parameter \"content\" is missing"),
        other => error(
            400,
            fmt,
            &format!(
                "The value of the parameter \"content\" ('{other}') is not valid or not offered by this hub yet"
            ),
        ),
    }
}
