//! Printable office pages: the activity report of a MoU year (`/office/report`) and a course
//! certificate (`/office/courses/ID/certificate/PERSON`), each with print CSS.

use kakehashi_biobank::request::activity::RequestActivity;
use kakehashi_office::report::ActivityReport;
use serde::Serialize;

/// The activity report page.
#[derive(Debug, Clone, Serialize)]
pub struct ReportPage {
    /// The report.
    pub report: ActivityReport,
    /// What the access requests did in the year.
    pub requests: RequestActivity,
    /// What the studies did in the year.
    pub studies: Vec<kakehashi_edc::report::StudyLine>,
    /// Meetings held per kind (`conference`, `meeting`, `visit`).
    pub by_kind: Vec<(String, usize)>,
    /// The year before, if there is one.
    pub previous: Option<u32>,
    /// The year after, if the agreement has one.
    pub next: Option<u32>,
}

/// A course certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CertificatePage {
    /// The participant.
    pub person: String,
    /// The course's title.
    pub course: String,
    /// What it covered.
    pub curriculum: Vec<String>,
    /// Who taught it.
    pub trainers: Vec<String>,
    /// The first and last session days.
    pub from: chrono::NaiveDate,
    /// The last session day.
    pub to: chrono::NaiveDate,
    /// Sessions attended (all of them).
    pub sessions: usize,
    /// The day the certificate was printed.
    pub issued: chrono::NaiveDate,
}
