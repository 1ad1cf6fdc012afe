//! The OpenAPI 3.1 document, generated from the route table so it always matches the router.

use serde_json::{Value, json};

/// Every route of the hub: (method, path, who may call it, summary). The OpenAPI document
/// and the role tests are generated from this table, so they cannot drift from the router
/// (`api::routes` and `ui::routes`).
pub const ROUTES: &[(&str, &str, &str, &str)] = &[
    (
        "GET",
        "/healthz",
        "public",
        "Liveness: 200 when the hub runs.",
    ),
    (
        "GET",
        "/metrics",
        "metrics_token",
        "Prometheus metrics, for the configured metrics_token as bearer (404 when none is set).",
    ),
    (
        "GET",
        "/api/openapi.json",
        "public",
        "This API as OpenAPI 3.1.",
    ),
    (
        "POST",
        "/api/login",
        "public",
        "Sign in with name and password; answers with a session to send as bearer token.",
    ),
    ("POST", "/api/logout", "user", "End the session."),
    (
        "POST",
        "/api/logout-everywhere",
        "user",
        "End every session of yours (API tokens stay).",
    ),
    ("GET", "/api/me", "user", "The signed-in user."),
    (
        "POST",
        "/api/tokens",
        "user",
        "Create an API token for the signed-in user ({label, expires_in_days}); answers {token, id, expires}.",
    ),
    (
        "GET",
        "/api/tokens",
        "user",
        "Your live API tokens: id, label, created, expires (never the secret).",
    ),
    (
        "POST",
        "/api/tokens/revoke",
        "user",
        "Revoke one of your API tokens ({id}).",
    ),
    (
        "GET",
        "/api/sites",
        "user",
        "The network: sites, status, snapshot, disclosure policy.",
    ),
    (
        "GET",
        "/api/projects",
        "user",
        "Projects visible to the user.",
    ),
    (
        "POST",
        "/api/tasks",
        "researcher",
        "Ask the network: create a task in one of your projects.",
    ),
    (
        "POST",
        "/api/projects/{project}/stats/summary",
        "researcher",
        "Federated summary of a numeric variable per group ({dataset, variable, by, evaluation_date}): each site's part and, when all answered, the pooled n, mean, sd.",
    ),
    (
        "POST",
        "/api/projects/{project}/stats/table",
        "researcher",
        "Federated contingency table of 1-3 variables ({dataset, variables}): the sites' tables added, with chi-square and Fisher where valid.",
    ),
    (
        "POST",
        "/api/projects/{project}/stats/glm",
        "researcher",
        "Federated GLM by IRLS ({dataset, formula, family}): one round of tasks per iteration to every site; the pooled fit only when every site answered every round.",
    ),
    (
        "POST",
        "/api/projects/{project}/stats/km",
        "researcher",
        "Federated Kaplan-Meier life table ({dataset, time, event, breaks}): each site's intervals (counts below its minimum suppressed) and the pooled survival with Greenwood SE, withheld from the first suppressed interval.",
    ),
    (
        "POST",
        "/api/projects/{project}/stats/cox",
        "researcher",
        "Federated Cox proportional hazards, Breslow ties ({dataset, time, event, covariates, breaks}): Newton with one round of tasks per iteration on the declared grid; equal to the pooled fit.",
    ),
    (
        "POST",
        "/api/projects/{project}/stats/meta",
        "researcher",
        "Study-level meta-analysis ({dataset, formula, family, term}): each site's own fit, each term (or the one given) pooled by fixed effect, DerSimonian-Laird and REML.",
    ),
    (
        "GET",
        "/api/tasks",
        "user",
        "Recent tasks of your projects.",
    ),
    (
        "GET",
        "/api/tasks/{id}",
        "user",
        "A task's merged result; ?wait=N waits up to N s for completion.",
    ),
    (
        "GET",
        "/api/tasks/{id}/antibiogram",
        "user",
        "An antibiogram task's statistics: per site, per country, total, DE vs JP, MDRO, trends; ?wait=N.",
    ),
    (
        "GET",
        "/api/tasks/{id}/surveillance",
        "user",
        "A surveillance task's weekly series per country: cases, rates per 100,000, ICU, deaths, positivity per pathogen with 95 % intervals; ?wait=N.",
    ),
    (
        "POST",
        "/api/admin/users",
        "admin",
        "Create or update a user.",
    ),
    (
        "GET",
        "/api/admin/users",
        "admin",
        "Every user: role, source (local or issuer), disabled, last sign-in, live sessions and tokens.",
    ),
    (
        "POST",
        "/api/admin/users/{id}/revoke",
        "admin",
        "End a user's sessions and revoke their API tokens.",
    ),
    (
        "POST",
        "/api/admin/users/{id}/disable",
        "admin",
        "Disable a user: no sign-in; sessions end, tokens stop working at once.",
    ),
    (
        "POST",
        "/api/admin/users/{id}/enable",
        "admin",
        "Enable a disabled user again.",
    ),
    (
        "POST",
        "/api/admin/projects",
        "admin",
        "Create a project and add members.",
    ),
    (
        "POST",
        "/api/admin/sites",
        "admin",
        "Register a site with its public key; returns its token.",
    ),
    (
        "GET",
        "/api/admin/audit",
        "admin",
        "The hub's audit log, newest first.",
    ),
    (
        "GET",
        "/api/steward/site",
        "steward",
        "Your site at the hub: status and what the hub sent and received (admins: ?site=ID).",
    ),
    (
        "POST",
        "/api/site/poll",
        "site",
        "Site heartbeat and long poll for tasks.",
    ),
    (
        "POST",
        "/api/site/answer",
        "site",
        "A site's signed answer.",
    ),
    (
        "POST",
        "/api/site/task-state",
        "site",
        "A site holds a task for its data steward's approval (versioned report, no data).",
    ),
    (
        "POST",
        "/api/site/catalogue",
        "site",
        "A site's MIABIS Core 3 catalogue file ({version, file, text}): checked as the site checks it (400 naming file, entry, line and field), ids unique in the network (409), kept per site; answers {sha256, changed, biobanks, collections}.",
    ),
    (
        "GET",
        "/api/catalogue",
        "user",
        "The network's catalogue: collections with their site and biobank, filtered by q (words), material (MIABIS material type), disease (ICD-10 code, category or block) and country (ISO 3166 alpha-2).",
    ),
    (
        "GET",
        "/api/requests",
        "user",
        "Access requests you may see: a researcher's own, those asking a steward's site, all for the network office; newest first.",
    ),
    (
        "POST",
        "/api/requests",
        "researcher",
        "Open a draft access request ({title, description, task | query {ccdl, specimen}, collections: [catalogue ids]}): the locator query travels with it.",
    ),
    (
        "GET",
        "/api/requests/{id}",
        "user",
        "One access request: its state, collections and their states, attachments, threads and history (404 unless you may see it).",
    ),
    (
        "POST",
        "/api/requests/{id}/attachments",
        "researcher",
        "Attach a file ({kind: protocol | ethics_approval | other, name, media_type, content_base64}); stored by SHA-256, at most 20 MiB (413 beyond), while a draft or returned for changes.",
    ),
    (
        "GET",
        "/api/requests/{id}/attachments/{sha256}",
        "user",
        "An attachment's bytes, for whoever may see the request.",
    ),
    (
        "POST",
        "/api/requests/{id}/events",
        "user",
        "A transition ({event, collection?}) through the request's state machines: 403 for a role or site that may not, 409 when the state does not allow it, 400 without protocol and ethics approval on submit; audited, told by e-mail (topic requests).",
    ),
    (
        "POST",
        "/api/requests/{id}/messages",
        "user",
        "A message ({text, collection?}) in the request's thread or a collection's.",
    ),
    (
        "GET",
        "/api/catalogue/miabis",
        "user",
        "The whole network's catalogue as MIABIS JSON (a download).",
    ),
    (
        "POST",
        "/api/site/uploads",
        "site",
        "Begin (or find again) a resumable upload of a large answer: {task, size, sha256}; 413 over the cap, 429 over the site's open uploads.",
    ),
    (
        "GET",
        "/api/site/uploads/{id}",
        "site",
        "Where an upload stands: {offset, size} and the Upload-Offset header (also HEAD).",
    ),
    (
        "PATCH",
        "/api/site/uploads/{id}",
        "site",
        "A part of an upload: {offset, data (base64)}; 409 with the hub's offset when it is not the upload's offset.",
    ),
    (
        "POST",
        "/api/site/uploads/{id}/commit",
        "site",
        "Finish an upload: size and SHA-256 checked (422 on a mismatch, nothing stored), then taken as a posted answer.",
    ),
    (
        "GET",
        "/api/office/agreements",
        "user",
        "The partnership's agreements (the MoU) with their renewal timeline today.",
    ),
    (
        "POST",
        "/api/office/agreements",
        "admin",
        "Save an agreement (network office).",
    ),
    (
        "GET",
        "/api/office/bodies",
        "user",
        "Governance bodies with members, roles and terms.",
    ),
    (
        "POST",
        "/api/office/bodies",
        "user",
        "Save a body: a new one by the network office, an existing one also by its chair (else 403).",
    ),
    (
        "GET",
        "/api/office/decisions",
        "user",
        "The decisions log (?body=ID for one body).",
    ),
    (
        "POST",
        "/api/office/decisions",
        "user",
        "Record a decision ({body, date, text, vote, documents}): the body's chair or the network office (else 403).",
    ),
    (
        "GET",
        "/api/office/documents",
        "user",
        "The document library.",
    ),
    (
        "POST",
        "/api/office/documents",
        "user",
        "Save a document: the network office or a body chair (else 403).",
    ),
    (
        "GET",
        "/api/office/documents/{id}",
        "user",
        "A document with its versions and translations.",
    ),
    (
        "POST",
        "/api/office/documents/{id}/versions",
        "user",
        "Upload a version ({file_name, content_base64, note}) or replace a draft's content (replace: N; 409 once submitted); unknown file types 400.",
    ),
    (
        "POST",
        "/api/office/documents/{id}/translations",
        "user",
        "Upload a translation of a version ({version, lang, file_name, content_base64}).",
    ),
    (
        "POST",
        "/api/office/documents/{id}/step",
        "user",
        "A review step ({version, lang?, step: submit|return|approve}); 409 when the review's rules refuse it (e.g. a translation before its source is approved).",
    ),
    (
        "GET",
        "/api/office/documents/{id}/diff",
        "user",
        "Line diff of two text versions (?from=N&to=M); binary versions 400.",
    ),
    (
        "GET",
        "/api/office/content/{id}",
        "user",
        "A version's or translation's bytes by SHA-256.",
    ),
    (
        "GET",
        "/api/office/exchanges",
        "user",
        "Staff exchanges (?person=NAME).",
    ),
    (
        "POST",
        "/api/office/exchanges",
        "admin",
        "Save a staff exchange (network office).",
    ),
    (
        "GET",
        "/api/office/courses",
        "user",
        "Training courses with sessions and attendance.",
    ),
    (
        "POST",
        "/api/office/courses",
        "admin",
        "Save a training course (network office).",
    ),
    (
        "GET",
        "/api/office/events",
        "user",
        "Events with times in Europe/Berlin and Asia/Tokyo (?body=ID, ?person=NAME, ?mine=true).",
    ),
    (
        "POST",
        "/api/office/events",
        "user",
        "Save an event: the body's chair or the network office (else 403); a change raises its SEQUENCE; answers with double-booking warnings.",
    ),
    (
        "POST",
        "/api/office/events/{id}/actions",
        "user",
        "Set an action's status ({index, status}): its owner, the body's chair or the network office.",
    ),
    (
        "GET",
        "/api/office/calendar.ics",
        "user",
        "Your events as iCalendar (RFC 5545).",
    ),
    (
        "POST",
        "/api/office/feeds",
        "user",
        "A secret calendar feed URL of your events, or of a body's ({body}).",
    ),
    (
        "GET",
        "/office/calendar/{id}",
        "public",
        "A calendar feed (`<secret>.ics`): the secret is the authorization; unknown secrets 404.",
    ),
    (
        "GET",
        "/api/office/report",
        "user",
        "The activity report of a MoU year ({agreement}, default the first; {year}, default the current): exchanges, courses, meetings held, decisions, open actions.",
    ),
    (
        "GET",
        "/api/me/notifications",
        "user",
        "Your e-mail address, how you hear of each topic (renewal, action, event: immediate, digest or off) and your 50 newest messages.",
    ),
    (
        "PUT",
        "/api/me/notifications",
        "user",
        "Sets your e-mail address (empty removes it) and/or the mode per topic.",
    ),
    (
        "GET",
        "/api/admin/notifications",
        "admin",
        "The outbox: the 500 newest messages, with state (pending, sent, skipped, failed), attempts and notes.",
    ),
    (
        "POST",
        "/api/admin/notifications/run",
        "admin",
        "Runs a notification cycle now: stores today's reminders and delivers what is due (409 without [smtp]).",
    ),
    (
        "GET",
        "/api/studies",
        "user",
        "The EDC studies you hold a role in (the network office: every study): id, title, acronym, status, forms, fields, sites, your role.",
    ),
    (
        "POST",
        "/api/studies",
        "admin",
        "Create a study from its JSON (the edc crate's study definition); refused naming the line and field of what is wrong; 409 when the id is taken.",
    ),
    (
        "POST",
        "/api/studies/import",
        "admin",
        "Create a study from a REDCap data dictionary ({id, title, like, csv}: like names a study at the hub to take arms, events, sites and roles from); every problem named by line, field and column.",
    ),
    (
        "GET",
        "/api/studies/{id}",
        "user",
        "A study's definition (members and the network office; 404 for others).",
    ),
    (
        "PUT",
        "/api/studies/{id}",
        "admin",
        "Replace a study's definition (validated; 409 when it changed since read; refused while a member holds a role or site it drops).",
    ),
    (
        "GET",
        "/api/studies/{id}/export",
        "user",
        "A study as a REDCap data dictionary (format=redcap, CSV) or CDISC ODM 1.3.2 metadata (format=odm), for members whose role may export.",
    ),
    (
        "GET",
        "/api/studies/{id}/members",
        "user",
        "Who holds which study role at which site (data access group).",
    ),
    (
        "POST",
        "/api/studies/{id}/members",
        "admin",
        "Give a user one of the study's roles at one of its sites ({user, role, dag}).",
    ),
    (
        "POST",
        "/api/studies/{id}/members/remove",
        "admin",
        "Take a user's study role away ({user}), with their REDCap API tokens for the study.",
    ),
    (
        "POST",
        "/api/studies/{id}/tokens",
        "user",
        "A REDCap API token for the study ({user}: the network office for anyone, else your own; the study role must have the API right); answers {token, url}.",
    ),
    (
        "GET",
        "/api/studies/{id}/subjects",
        "user",
        "The study's subjects you see (your site's, or every site's when your study role sees all): record (the site-minted pseudonym), site, enrolled at/by, status.",
    ),
    (
        "POST",
        "/api/studies/{id}/subjects",
        "user",
        "Enrol a subject ({record, dag}): the record is the pseudonym the site minted (64 hex digits; `kakehashi site enrol` mints it); repeating it answers the stored subject.",
    ),
    (
        "GET",
        "/api/studies/{id}/subjects/{record}",
        "user",
        "One subject with its event × form grid (each cell's instances with status, lock, signature).",
    ),
    (
        "POST",
        "/api/studies/{id}/subjects/{record}/withdraw",
        "user",
        "Withdraw a subject ({reason}); its data stay, no new data are entered.",
    ),
    (
        "GET",
        "/api/studies/{id}/subjects/{record}/forms/{event}/{form}/{instance}",
        "user",
        "One form instance: values, status, lock, signatures, history, its version and your rights on the form.",
    ),
    (
        "PUT",
        "/api/studies/{id}/subjects/{record}/forms/{event}/{form}/{instance}",
        "user",
        "Save values ({version, values, status, reason}): partial saves allowed, each value validated (400 naming the field), identifying fields refused, a reason required once complete, 409 when the version is stale.",
    ),
    (
        "POST",
        "/api/studies/{id}/subjects/{record}/forms/{event}/{form}/{instance}/lock",
        "user",
        "Lock the form instance ({version}); the lock right.",
    ),
    (
        "POST",
        "/api/studies/{id}/subjects/{record}/forms/{event}/{form}/{instance}/unlock",
        "user",
        "Unlock the form instance ({version}); its signatures become void.",
    ),
    (
        "POST",
        "/api/studies/{id}/subjects/{record}/forms/{event}/{form}/{instance}/sign",
        "user",
        "E-sign the locked form instance ({password, meaning, version}): the password is re-entered and checked; a wrong one is refused (403) and audited.",
    ),
    (
        "GET",
        "/api/studies/{id}/subjects/{record}/forms/{event}/{form}/{instance}/history",
        "user",
        "The field history of the form instance: who, when, old → new, reason.",
    ),
    (
        "GET",
        "/api/studies/{id}/subjects/{record}/forms/{event}/{form}/{instance}/prefill",
        "user",
        "The latest pre-fill request of the form instance: pending, or the site's proposals (each value with its source: resource, code, time, original value and unit) or its refusal with the reason; null when none was made.",
    ),
    (
        "POST",
        "/api/studies/{id}/subjects/{record}/forms/{event}/{form}/{instance}/prefill",
        "user",
        "Ask the subject's site to propose values for the study's pre-fill items on the form (the edit right); its agent answers after its next poll, under its steward's policy.",
    ),
    (
        "POST",
        "/api/studies/{id}/subjects/{record}/forms/{event}/{form}/{instance}/prefill/accept",
        "user",
        "Accept or edit one proposal ({field, value}): saved through the normal save path with the reason \"pre-filled from site data: <source>\".",
    ),
    (
        "GET",
        "/api/site/prefill",
        "site",
        "A site agent's pending pre-fill requests for its subjects ({version, id, study, record, event, form, instance, requested_by, requested_at, items}).",
    ),
    (
        "POST",
        "/api/site/prefill",
        "site",
        "A site agent's answer to a pre-fill request ({version, id, outcome: proposed with proposals [{field, value, source, note}] | refused with reason}).",
    ),
    (
        "POST",
        "/api/site/enrolments",
        "site",
        "A site agent's enrolments ({version, enrolments: [{study, record}]}): the pseudonyms its steward minted, never patient ids; answers each with enrolled, already or refused (reason).",
    ),
    (
        "GET",
        "/api/studies/{id}/records/export",
        "user",
        "The study's clinical data (format=csv: REDCap's flat CSV with the data access group; format=odm: CDISC ODM 1.3.2 with admin data and the audit trail; format=fhir: a FHIR Bundle of Questionnaires and QuestionnaireResponses; format=parquet: the flat rows as typed Parquet, labels in the column metadata, missing-data codes of typed columns in var__missing), the forms your role may export and the sites it sees; audited.",
    ),
    (
        "GET",
        "/api/studies/{id}/queries",
        "user",
        "The data queries you see (your site's unless your study role sees all; forms you may view), newest first, each with its number, age in days, record, site, event, form, instance, field, state, the check it came from and its thread; filters site, status (open|answered|closed), record, form.",
    ),
    (
        "POST",
        "/api/studies/{id}/queries",
        "user",
        "Open a data query on one field ({record, event, form, instance, field, text}); a study role that opens queries (monitor, data manager); 201 with the query.",
    ),
    (
        "GET",
        "/api/studies/{id}/queries/{num}",
        "user",
        "One data query with its thread.",
    ),
    (
        "POST",
        "/api/studies/{id}/queries/{num}",
        "user",
        "A step on a data query ({action: answer|close|reopen, text}): the site answers an open one (resolve-queries right, the record's site), the monitor closes or re-opens; 409 when the step does not apply in its state, 403 when it is not yours to take; audited.",
    ),
    (
        "GET",
        "/api/studies/{id}/checks",
        "user",
        "The study's data-quality checks: the built-in ones (missing_required, invalid_value, hidden_with_value) and its own rules (id, label, logic).",
    ),
    (
        "GET",
        "/api/studies/{id}/checks/{check}",
        "user",
        "Run one check over the records you see: its findings (id, record, site, event, form, instance, field, value, message) with the pending query already open on each, if any.",
    ),
    (
        "POST",
        "/api/studies/{id}/checks/{check}/queries",
        "user",
        "Open data queries on a check's findings in one step ({findings: [id] or none for all, text}): findings with a pending query from the same check are left out; 201 with the numbers opened; audited.",
    ),
    (
        "GET",
        "/api/studies/{id}/dashboard",
        "user",
        "The study dashboard over what you see: enrolment per site per week (cumulative), completeness per form (expected, not started, incomplete, unverified, complete, locked, share of shown fields filled), pending queries per site by age (0-7, 8-14, 15-30, >30 days), closed queries.",
    ),
    (
        "POST",
        "/api/studies/{id}/activate",
        "admin",
        "Activate a sleeping study (or more sites of an active one) in one step ({sites, approvals, note}): each site the study's, not yet active, its country with an ethics approval (the study's or one given here); refused as a whole naming the site; recorded and audited.",
    ),
    (
        "POST",
        "/redcap/api/",
        "study_token",
        "The REDCap-compatible API (form-encoded: token, content, format=json|csv, returnFormat): project, metadata, exportFieldNames, instrument, event, arm, formEventMapping, repeatingFormsEvents, dag, version, record (export flat with records/fields/forms/events/filterLogic/rawOrLabel/exportDataAccessGroups; import with data, overwriteBehavior, returnContent: all or nothing), log; errors as REDCap gives them.",
    ),
    (
        "POST",
        "/api/redcap/",
        "study_token",
        "The same REDCap-compatible API at the issue's path (form-encoded; exempt from the JSON-only rule, authenticated by the token in the body).",
    ),
];

/// The hub API as OpenAPI 3.1.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, who, summary) in ROUTES {
        let security = match *who {
            "public" => json!([]),
            "site" => json!([{"siteToken": []}]),
            "metrics_token" => json!([{"metricsToken": []}]),
            // the REDCap API token travels in the form body, as REDCap's does
            "study_token" => json!([]),
            _ => json!([{"bearerToken": []}]),
        };
        let mut op = json!({
            "summary": summary,
            "x-kakehashi-role": who,
            "security": security,
            "responses": {
                "200": {"description": "OK"},
                "400": {"description": "Bad request: the message names the field", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "No valid token or session"},
                "403": {"description": "The caller's role may not do this"}
            }
        });
        let params: Vec<Value> = path
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}'))
            .map(|(name, _)| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        entry[method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "kakehashi hub", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Federated research hub: sites pull tasks (outbound only) and post signed, disclosure-gated answers."},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer", "description": "User API token (POST /api/tokens) or session (POST /api/login); the API reads no cookies and takes JSON bodies only (else 415)"},
                "siteToken": {"type": "http", "scheme": "bearer", "description": "Site token from registration"},
                "metricsToken": {"type": "http", "scheme": "bearer", "description": "The hub's configured metrics_token (hub.toml); no user or site token opens /metrics"}
            },
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}}, "required": ["error", "message"]}}
        }
    })
}
