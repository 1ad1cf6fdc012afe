//! Every page renders in every language with every string translated, and the language files
//! define the same keys.

use chrono::{TimeZone, Utc};
use kakehashi_model::Country;
use kakehashi_web::chart::{Band, Cell, HeatMap, LineChart, Series, Threshold};
use kakehashi_web::form::FieldErrors;
use kakehashi_web::i18n::MISSING_MARK;
use kakehashi_web::pages::*;
use kakehashi_web::{Catalog, Locale};

fn chrome(locale: Locale, user: bool) -> Chrome {
    Chrome {
        locale,
        user: user.then(|| UserBadge {
            name: "Dr. Aiko Sato".into(),
            role: "admin".into(),
        }),
        active: "feasibility".into(),
        path: "/feasibility".into(),
        csrf: "tok".into(),
        notice: Some("notice-signed-out".into()),
    }
}

fn policy() -> PolicySummary {
    PolicySummary {
        min_count: 5,
        rounding: 10,
        epsilon: Some(0.5),
        budget: Some(10.0),
    }
}

fn amr_errors() -> FieldErrors {
    let mut e = FieldErrors::default();
    e.add("organisms", "err-unknown-organism", "Unobtainium");
    e.date("from", "2024-13-01");
    e
}

fn all_pages() -> Vec<Page> {
    let t = Utc.with_ymd_and_hms(2026, 1, 5, 14, 5, 0).unwrap();
    let mut errors = FieldErrors::default();
    errors.require("project", "");
    errors.number("min_value", "abc");
    errors.add("ccdl", "err-ccdl", "line 3: expected `inclusionCriteria`");
    let mut login_errors = FieldErrors::default();
    login_errors.require("username", "");
    login_errors.add("form", "err-credentials", "");
    let result = QueryResult {
        task: "t1".into(),
        created: t,
        sites: vec![
            SiteResult {
                site: "Berlin".into(),
                country: Country::Germany,
                status: "answered".into(),
                released: Some(Released::Rounded {
                    value: 120,
                    step: 10,
                }),
                reason: None,
                notes: vec!["criterion 2: units".into()],
                noise_off: false,
            },
            SiteResult {
                site: "Frankfurt".into(),
                country: Country::Germany,
                status: "answered".into(),
                released: Some(Released::Suppressed { below: 5 }),
                reason: None,
                notes: Vec::new(),
                noise_off: false,
            },
            SiteResult {
                site: "Tokyo".into(),
                country: Country::Japan,
                status: "answered".into(),
                released: Some(Released::Noisy {
                    value: 1234,
                    epsilon: 0.5,
                }),
                reason: None,
                notes: Vec::new(),
                noise_off: false,
            },
            SiteResult {
                site: "Osaka".into(),
                country: Country::Japan,
                status: "refused".into(),
                released: None,
                reason: Some("project not admitted".into()),
                notes: Vec::new(),
                noise_off: false,
            },
            SiteResult {
                site: "Kyoto".into(),
                country: Country::Japan,
                status: "late".into(),
                released: None,
                reason: None,
                notes: Vec::new(),
                noise_off: false,
            },
            SiteResult {
                site: "Hamburg".into(),
                country: Country::Germany,
                status: "answered".into(),
                released: Some(Released::Exact { value: 7 }),
                reason: None,
                notes: Vec::new(),
                noise_off: true,
            },
        ],
        total: Some(1361),
        total_withheld: None,
        chart_svg: String::new(),
    };
    vec![
        Page::Login(LoginPage {
            username: "x".into(),
            errors: login_errors,
            next: "/".into(),
            issuers: vec![IssuerButton {
                id: "campus".into(),
                name: "Campus <login>".into(),
            }],
        }),
        Page::Home(HomePage {
            projects: vec![ProjectRow {
                id: "sfts".into(),
                name: "SFTS".into(),
                description: "d".into(),
                sites: 4,
            }],
        }),
        Page::Network(NetworkPage {
            sites: vec![
                SiteRow {
                    id: "de-berlin".into(),
                    name: "Berlin".into(),
                    country: Country::Germany,
                    online: true,
                    last_seen: Some(t),
                    snapshot: Some(t),
                    policy: policy(),
                },
                SiteRow {
                    id: "jp-osaka".into(),
                    name: "Osaka".into(),
                    country: Country::Japan,
                    online: false,
                    last_seen: None,
                    snapshot: None,
                    policy: PolicySummary {
                        min_count: 10,
                        rounding: 1,
                        epsilon: None,
                        budget: None,
                    },
                },
            ],
        }),
        Page::Feasibility(FeasibilityPage {
            projects: vec![("sfts".into(), "SFTS".into())],
            form: FeasibilityForm {
                project: "".into(),
                search: "J18".into(),
                ccdl: "{}".into(),
                ..Default::default()
            },
            errors,
            hits: vec![CriterionHit {
                display: "Pneumonie".into(),
                system: "http://fhir.de/CodeSystem/bfarm/icd-10-gm".into(),
                code: "J18".into(),
                context: "Diagnose".into(),
            }],
            result: Some(result.clone()),
            history: vec![HistoryRow {
                task: "t0".into(),
                created: t,
                summary: "J18".into(),
                total: None,
            }],
            ..Default::default()
        }),
        Page::Feasibility(FeasibilityPage {
            tab: "samples".into(),
            material_options: vec!["Serum".into(), "Plasma".into(), "DNA".into()],
            form: FeasibilityForm {
                materials: vec!["Serum".into()],
                min_aliquots: "2".into(),
                ..Default::default()
            },
            samples: Some(kakehashi_web::samples::SamplesResult {
                task: "t9".into(),
                rows: vec![
                    kakehashi_web::samples::SampleRow {
                        site: "Berlin".into(),
                        country: "DE".into(),
                        collection: "de-berlin-vhf".into(),
                        material: "Serum".into(),
                        donors: "12".into(),
                        samples: "40".into(),
                        donors_value: Some(12),
                    },
                    kakehashi_web::samples::SampleRow {
                        site: "Tokyo".into(),
                        country: "JP".into(),
                        collection: "jp-tokyo-vhf".into(),
                        material: "Serum".into(),
                        donors: "< 3".into(),
                        samples: "< 3".into(),
                        donors_value: None,
                    },
                ],
                sites: vec![kakehashi_web::samples::SampleSite {
                    site: "Osaka".into(),
                    status: "refused".into(),
                    reason: Some("project not allowed".into()),
                    disclosure: String::new(),
                }],
                chart_svg: String::new(),
            }),
            ..Default::default()
        }),
        Page::Feasibility(FeasibilityPage {
            result: Some(QueryResult {
                total: None,
                total_withheld: Some("total-withheld-min-sites".into()),
                ..result
            }),
            ..Default::default()
        }),
        Page::Amr(AmrPage {
            guidelines: vec!["EUCAST 2025".into(), "CLSI 2025".into()],
            specimens: vec!["blood".into(), "urine".into()],
            form: AmrForm {
                guideline: "EUCAST 2025".into(),
                organisms: "E. coli".into(),
                antimicrobials: "CIP".into(),
                specimen: "blood".into(),
                ..Default::default()
            },
            errors: FieldErrors::default(),
            in_force: Some(in_force_row("EUCAST 2025", Some(2), None, Some(3))),
            task: Some("t1".into()),
            sites: vec![AmrSite {
                name: "Berlin".into(),
                country: Country::Germany,
                status: "answered".into(),
                note: "min 5".into(),
                notes: vec!["re-read with EUCAST 2025".into()],
                noise_off: true,
            }],
            share_label: "% R".into(),
            maps: vec![HeatMap {
                id: "de".into(),
                title: "DE".into(),
                description: "d".into(),
                rows: vec!["E. coli".into()],
                cols: vec!["CIP".into()],
                cells: vec![vec![Some(Cell {
                    share: 0.2,
                    max: None,
                    n: 40,
                    reportable: true,
                })]],
                share_label: "% R".into(),
            }],
            comparison: vec![AmrComparison {
                organism: "S. aureus".into(),
                antimicrobial: "Oxacillin".into(),
                de: Some(AmrShare {
                    value: Some(0.07),
                    min: 0.07,
                    max: 0.07,
                    low: 0.05,
                    high: 0.09,
                    n: 1000,
                    reportable: true,
                }),
                jp: Some(AmrShare {
                    value: None,
                    min: 0.4,
                    max: 0.5,
                    low: 0.35,
                    high: 0.55,
                    n: 900,
                    reportable: true,
                }),
                difference: Some((-0.41, -0.45, -0.37)),
                difference_exact: false,
            }],
            mdro: vec![AmrMdro {
                organism: "S. aureus".into(),
                class: "mrsa".into(),
                de: Some(AmrShare {
                    value: Some(0.07),
                    n: 1000,
                    ..Default::default()
                }),
                jp: None,
            }],
            years: vec![],
            trends: vec![],
        }),
        Page::Amr(AmrPage {
            errors: amr_errors(),
            ..Default::default()
        }),
        Page::Amr(AmrPage {
            form: AmrForm {
                guideline: "EUCAST 2025".into(),
                organisms: "K. pneumoniae".into(),
                antimicrobials: "MEM".into(),
                by_year: true,
                ..Default::default()
            },
            task: Some("t2".into()),
            in_force: Some(in_force_row("EUCAST 2025", None, None, None)),
            share_label: "% R".into(),
            years: vec![2023, 2024, 2025],
            trends: vec![
                AmrTrend {
                    organism: "Klebsiella pneumoniae".into(),
                    antimicrobial: "Meropenem".into(),
                    country: Country::Germany,
                    years: vec![
                        Some(AmrShare {
                            value: Some(0.02),
                            min: 0.02,
                            max: 0.02,
                            low: 0.01,
                            high: 0.04,
                            n: 400,
                            reportable: true,
                        }),
                        None,
                        Some(AmrShare {
                            value: Some(0.08),
                            min: 0.08,
                            max: 0.08,
                            low: 0.06,
                            high: 0.11,
                            n: 420,
                            reportable: true,
                        }),
                    ],
                    p_trend: Some(0.0002),
                },
                AmrTrend {
                    organism: "Klebsiella pneumoniae".into(),
                    antimicrobial: "Meropenem".into(),
                    country: Country::Japan,
                    years: vec![
                        None,
                        Some(AmrShare {
                            value: Some(0.01),
                            min: 0.01,
                            max: 0.01,
                            low: 0.0,
                            high: 0.05,
                            n: 25,
                            reportable: false,
                        }),
                        None,
                    ],
                    p_trend: None,
                },
            ],
            ..Default::default()
        }),
        Page::Surveillance(SurveillancePage {
            definitions: vec!["sari-icd10".into()],
            definition: "sari-icd10".into(),
            errors: FieldErrors::default(),
            in_force: Some(in_force_row("sari-icd10", Some(1), Some(false), None)),
            charts: vec![LineChart {
                id: "curve-de".into(),
                title: "SARI".into(),
                series: vec![Series {
                    name: "DE".into(),
                    points: vec![(1.0, Some(3.0)), (2.0, Some(9.0))],
                }],
                bands: vec![Band {
                    from: 0.0,
                    to: Some(4.0),
                    label: "baseline".into(),
                    level: 0,
                }],
                thresholds: vec![Threshold {
                    y: 4.0,
                    label: "threshold".into(),
                }],
                y2: Some(kakehashi_web::chart::SecondAxis {
                    label: "per 100,000".into(),
                    factor: 5.0,
                    places: 1,
                }),
                ..Default::default()
            }],
            share_charts: vec![kakehashi_web::share_chart::ShareChart {
                id: "positivity-de".into(),
                title: "Positivity DE".into(),
                x_labels: vec![(1.0, "2025-W50".into()), (2.0, "2025-W51".into())],
                lines: vec![kakehashi_web::share_chart::ShareLine {
                    name: "influenza".into(),
                    points: vec![kakehashi_web::share_chart::SharePoint {
                        x: 1.0,
                        share: Some(0.3),
                        low: 0.2,
                        high: 0.4,
                        tests: Some(80.0),
                    }],
                }],
                ..Default::default()
            }],
            levels: vec![
                (Country::Germany, "level-high".into()),
                (Country::Japan, "level-baseline".into()),
            ],
            seasons: vec![
                ("2025".into(), "2025/26".into()),
                ("2024".into(), "2024/25".into()),
            ],
            season: String::new(),
            shown: vec!["Germany: season 2025/26 (current season)".into()],
            notes: vec!["main diagnosis as any diagnosis".into()],
            noise_off_sites: vec!["de-berlin".into()],
            not_run: false,
            run: Some(SurveillanceRun {
                created: t,
                requested_by: "researcher".into(),
                project: "demo".into(),
            }),
        }),
        Page::Steward(StewardPage {
            site: "Berlin".into(),
            chain_ok: Some(true),
            entries: vec![AuditRow {
                seq: 1,
                at: t,
                kind: "task-received".into(),
                project: "sfts".into(),
                summary: "cohort count".into(),
                hash: "ab".repeat(32),
            }],
            policy: Some(policy()),
            projects: vec!["sfts".into()],
        }),
        Page::Error {
            status: 404,
            key: "error-not-found".into(),
            detail: None,
        },
        Page::Error {
            status: 400,
            key: "error-refused".into(),
            detail: Some("file: unknown type of \"x.exe\"".into()),
        },
        Page::AdminUsers(AdminUsersPage {
            users: vec![
                AdminUserRow {
                    name: "alice".into(),
                    role: "researcher".into(),
                    source: "local".into(),
                    disabled: false,
                    last_login: Some("2026-03-01T10:00:00+00:00".into()),
                    sessions: 2,
                    tokens: 1,
                },
                AdminUserRow {
                    name: "bob@campus".into(),
                    role: "steward".into(),
                    source: "campus".into(),
                    disabled: true,
                    last_login: None,
                    sessions: 0,
                    tokens: 0,
                },
            ],
        }),
        Page::Office(office_page()),
        Page::OfficeDiff(kakehashi_web::office::DiffPage {
            title: "SARI protocol".into(),
            from: 1,
            to: 2,
            lines: ["same", "removed", "added"]
                .iter()
                .enumerate()
                .map(|(i, c)| kakehashi_web::office::DiffRow {
                    change: (*c).into(),
                    old: (*c != "added").then_some(i + 1),
                    new: (*c != "removed").then_some(i + 1),
                    text: "a <line>".into(),
                })
                .collect(),
        }),
        Page::Notifications(notifications_page()),
        Page::Catalogue(catalogue_page(false)),
        Page::Catalogue(catalogue_page(true)),
        Page::Requests(requests_page()),
        Page::Request(Box::new(request_page())),
        Page::OfficeReport(report_page()),
        Page::Certificate(kakehashi_web::office_report::CertificatePage {
            person: "mia".into(),
            course: "Genomic surveillance".into(),
            curriculum: vec!["Sequencing".into(), "Phylogenetics".into()],
            trainers: vec!["ana".into(), "ken".into()],
            from: "2026-11-02".parse().unwrap(),
            to: "2026-11-16".parse().unwrap(),
            sessions: 3,
            issued: "2026-12-07".parse().unwrap(),
        }),
    ]
}

/// The catalogue with a collection of each country (and one of another country), or a
/// search with a bad criterion in each field.
fn catalogue_page(bad: bool) -> kakehashi_web::catalogue::CataloguePage {
    use kakehashi_web::catalogue::*;
    let mut errors = FieldErrors::default();
    if bad {
        errors.add("material", "err-choice", "Sera");
        errors.add("disease", "err-icd10", "X1");
        errors.add("country", "err-country", "Germany");
    }
    let row = |site: &str, country: &str, subjects| CollectionRow {
        site: site.into(),
        biobank: format!("Biobank <{site}>"),
        country: country.into(),
        id: format!("{site}-sari"),
        name: "SARI sera".into(),
        description: "Serum of SARI admissions".into(),
        materials: vec!["Serum".into(), "DNA".into()],
        diseases: vec!["J09-J22".into()],
        subjects,
        samples: subjects.map(|n| n * 3),
        access: vec!["Collaboration".into()],
        contact: format!("sari@{site}.example"),
    };
    CataloguePage {
        form: CatalogueForm {
            q: "sari".into(),
            material: if bad { "Sera".into() } else { "Serum".into() },
            disease: if bad { "X1".into() } else { String::new() },
            country: String::new(),
        },
        materials: vec![
            ("Serum".into(), "Serum".into()),
            ("DNA".into(), "DNA".into()),
        ],
        countries: vec!["DE".into(), "JP".into()],
        errors,
        rows: if bad {
            Vec::new()
        } else {
            vec![
                row("de-berlin", "DE", Some(12_345)),
                row("jp-osaka", "JP", None),
                row("fr-lyon", "FR", Some(1)),
            ]
        },
        sites: 3,
    }
}

/// Every request state and collection state in a list.
fn requests_page() -> kakehashi_web::requests::RequestsPage {
    use kakehashi_biobank::request::{CollectionState as CS, RequestState as RS};
    use kakehashi_web::requests::*;
    let rows = RS::ALL
        .iter()
        .map(|s| RequestRow {
            id: format!("r-{s}"),
            title: format!("Request <{s}>"),
            state: s.as_str().into(),
            researcher: "alice".into(),
            created: "2026-12-07T10:00:00Z".into(),
            collections: CS::ALL
                .iter()
                .map(|c| CollectionState {
                    id: "de-sera".into(),
                    site: "de-berlin".into(),
                    state: c.as_str().into(),
                    actions: Vec::new(),
                })
                .collect(),
        })
        .collect();
    RequestsPage {
        rows,
        site: Some("de-berlin".into()),
        new: Some(kakehashi_web::requests::NewRequestForm {
            collections: vec![
                (
                    "de-berlin-vhf".into(),
                    "VHF sera — Biobank <Berlin> (de-berlin)".into(),
                ),
                ("jp-tokyo-vhf".into(), "VHF sera — JIHS (jp-tokyo)".into()),
            ],
            chosen: vec!["jp-tokyo-vhf".into()],
            title: "SFTS <sera>".into(),
            materials: "Serum".into(),
            error: Some("collections: choose at least one".into()),
            ..Default::default()
        }),
    }
}

/// A request with every event as a button, every kind of attachment, a timeline of every
/// event, messages in both threads, and a refusal.
fn request_page() -> kakehashi_web::requests::RequestPage {
    use kakehashi_biobank::request::{CollectionEvent as CE, RequestEvent as RE};
    use kakehashi_web::requests::*;
    let mut history: Vec<HistoryRow> = RE::ALL
        .iter()
        .map(|e| HistoryRow {
            at: "2026-12-07T10:00:00Z".into(),
            who: "admin".into(),
            event: e.as_str().into(),
            collection: String::new(),
            from: "submitted".into(),
            to: "under_review".into(),
        })
        .collect();
    history.extend(CE::ALL.iter().map(|e| HistoryRow {
        at: "2026-12-07T11:00:00Z".into(),
        who: "steward (de-berlin)".into(),
        event: e.as_str().into(),
        collection: "de-sera".into(),
        from: "checking_availability".into(),
        to: "available".into(),
    }));
    RequestPage {
        request: RequestRow {
            id: "r1".into(),
            title: "SFTS sera".into(),
            state: "in_progress".into(),
            researcher: "alice".into(),
            created: "2026-12-07T09:00:00Z".into(),
            collections: vec![CollectionState {
                id: "de-sera".into(),
                site: "de-berlin".into(),
                state: "checking_availability".into(),
                actions: CE::ALL.iter().map(|e| e.as_str().into()).collect(),
            }],
        },
        description: "Neutralising <antibodies>".into(),
        task: Some("t-1".into()),
        specimen: r#"{"material_types":["Serum"]}"#.into(),
        ccdl: "{}".into(),
        actions: RE::ALL.iter().map(|e| e.as_str().into()).collect(),
        attachments: ["protocol", "ethics_approval", "other"]
            .iter()
            .map(|k| AttachmentRow {
                kind: (*k).into(),
                name: format!("{k}.pdf"),
                size: 12_345,
                sha256: "ab".repeat(32),
            })
            .collect(),
        history,
        messages: vec![
            MessageRow {
                at: "2026-12-07T12:00:00Z".into(),
                who: "alice".into(),
                collection: String::new(),
                text: "Thanks <all>".into(),
            },
            MessageRow {
                at: "2026-12-07T12:30:00Z".into(),
                who: "steward (de-berlin)".into(),
                collection: "de-sera".into(),
                text: "Shipping next week".into(),
            },
        ],
        threads: vec![String::new(), "de-sera".into()],
        may_attach: true,
        error: Some("request r1 is closed: it cannot resume".into()),
    }
}

/// The notification settings with each topic, mode and message state.
fn notifications_page() -> kakehashi_web::notify::NotificationsPage {
    use kakehashi_web::notify::*;
    NotificationsPage {
        email: "mia@example.org".into(),
        prefs: ["renewal", "action", "event"]
            .iter()
            .zip(["immediate", "digest", "off"])
            .map(|(t, m)| PrefRow {
                topic: (*t).into(),
                mode: m.into(),
            })
            .collect(),
        modes: ["immediate", "digest", "off"].map(String::from).to_vec(),
        messages: ["pending", "sent", "skipped", "failed"]
            .iter()
            .map(|s| MessageRow {
                created: "2026-12-07T06:00:00+00:00".into(),
                subject: "Action due <soon>".into(),
                state: (*s).into(),
                note: Some("no e-mail address".into()),
            })
            .collect(),
        saved: true,
    }
}

/// An activity report with a row of everything, each kind and status among them.
fn report_page() -> kakehashi_web::office_report::ReportPage {
    use kakehashi_office::report::*;
    let d = |s: &str| s.parse().unwrap();
    let report = ActivityReport {
        agreement: "mou-2026".into(),
        title: "MoU NUM–JIHS".into(),
        year: MouYear {
            n: 1,
            from: d("2026-04-15"),
            to: d("2027-04-14"),
        },
        as_of: d("2026-12-07"),
        exchanges: ["proposed", "planned", "ongoing", "completed"]
            .iter()
            .map(|s| ExchangeLine {
                person: "yui".into(),
                home: "JIHS".into(),
                host: "Charité".into(),
                start: d("2026-09-01"),
                end: d("2026-11-30"),
                theme: "AMR".into(),
                status: (*s).into(),
            })
            .collect(),
        courses: vec![CourseLine {
            id: "genomics".into(),
            title: "Genomic surveillance".into(),
            sessions: 3,
            participants: 3,
            certificates: 2,
        }],
        meetings: ["conference", "meeting", "visit"]
            .iter()
            .map(|k| MeetingLine {
                id: format!("m-{k}"),
                title: "Symposium".into(),
                kind: (*k).into(),
                date: d("2026-04-15"),
                location: "Berlin".into(),
                participants: 40,
                minutes: *k != "visit",
            })
            .collect(),
        upcoming: 2,
        decisions: ["consensus", "5/1/0"]
            .iter()
            .map(|v| DecisionLine {
                date: d("2026-06-01"),
                body: "steering".into(),
                text: "Adopt the work plan".into(),
                vote: (*v).into(),
            })
            .collect(),
        open_actions: [true, false]
            .iter()
            .map(|o| ActionLine {
                event: "Symposium".into(),
                text: "Send the SOP".into(),
                owner: "mia".into(),
                due: d("2026-12-01"),
                overdue: *o,
            })
            .collect(),
    };
    kakehashi_web::office_report::ReportPage {
        by_kind: meetings_by_kind(&report),
        report,
        requests: kakehashi_biobank::request::activity::RequestActivity {
            submitted: 4,
            approved: 3,
            declined: 1,
            made_available: 2,
            closed: 1,
        },
        studies: ["active", "sleeping", "draft", "closed"]
            .iter()
            .map(|status| kakehashi_edc::report::StudyLine {
                id: format!("study-{status}"),
                acronym: "VHF-R".into(),
                title: "VHF registry".into(),
                status,
                started: (*status == "active")
                    .then(|| chrono::Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).unwrap()),
                started_in_span: *status == "active",
                enrolled: 12,
                enrolled_by_country: vec![("DE".into(), 5), ("JP".into(), 7)],
                enrolled_to_date: 14,
                withdrawn: 1,
                active_sites: 3,
            })
            .collect(),
        previous: None,
        next: Some(2),
    }
}

/// The activity report lists each study with its start and its enrolment per country.
#[test]
fn the_activity_report_shows_the_studies_and_their_enrolment() {
    for (locale, started) in [
        (Locale::En, "this year"),
        (Locale::De, "in diesem Jahr"),
        (Locale::Ja, "本年度"),
    ] {
        let html = render(&Page::OfficeReport(report_page()), &chrome(locale, true)).unwrap();
        let studies = &html[html.find("id=\"report-studies\"").expect("a studies table")..];
        let studies = &studies[..studies.find("</table>").unwrap()];
        assert!(studies.contains("DE 5, JP 7"), "{studies}");
        assert!(studies.contains(started), "{locale:?}: {studies}");
        assert!(
            studies.contains("<a href=\"/studies/study-sleeping\">"),
            "{studies}"
        );
        assert_eq!(
            studies.matches("<tr>").count(),
            5,
            "a header and four studies"
        );
    }
}

/// The office's page with a row of everything, each phase and state among them.
fn office_page() -> kakehashi_web::office::OfficePage {
    use kakehashi_web::office::*;
    let event = |title: &str, minutes: &str| EventRow {
        id: title.to_lowercase().replace(' ', "-"),
        can_edit: true,
        title: title.into(),
        body: "Steering committee".into(),
        location: "Berlin".into(),
        berlin: "2026-04-15 09:00 – 17:30 CEST".into(),
        tokyo: "2026-04-15 16:00 – 2026-04-16 00:30 JST".into(),
        in_person: "ana".into(),
        remote: "ken".into(),
        minutes: minutes.into(),
        actions: ["open", "done", "dropped"]
            .iter()
            .map(|s| ActionRow {
                text: "Draft the SOP".into(),
                owner: "ken".into(),
                due: "2026-06-30".into(),
                status: (*s).into(),
                event: "sc-2026".into(),
                index: 0,
                can_set: *s != "dropped",
            })
            .collect(),
    };
    OfficePage {
        agreements: [
            "not_started",
            "running",
            "decision_due",
            "notice_passed",
            "ended",
        ]
        .iter()
        .map(|p| AgreementRow {
            id: "mou-2026".into(),
            title: "MoU NUM–JIHS".into(),
            parties: "NUM, JIHS".into(),
            signed: "2026-04-15".into(),
            term_end: "2029-04-14".into(),
            notice_deadline: "2029-01-14".into(),
            decision_due: "2028-10-16".into(),
            phase: (*p).into(),
            days_to_decision: 650,
        })
        .collect(),
        bodies: vec![BodyRow {
            id: "wg-amr".into(),
            name: "Working group AMR".into(),
            theme: "AMR".into(),
            chairs: "ana".into(),
            members: 2,
        }],
        decisions: vec![
            DecisionRow {
                date: "2026-04-15".into(),
                body: "Steering committee".into(),
                text: "Adopt the work plan".into(),
                vote: "consensus".into(),
            },
            DecisionRow {
                date: "2026-06-10".into(),
                body: "Working group AMR".into(),
                text: "EUCAST 2025".into(),
                vote: "2/0/0".into(),
            },
        ],
        documents: ["protocol", "sop", "method", "governance"]
            .iter()
            .map(|k| DocumentRow {
                id: format!("doc-{k}"),
                governs: vec![("case_definition".into(), "sari-icosari".into())],
                cited_by: vec![("vhf".into(), "VHF registry".into(), 2)],
                title: "SARI protocol".into(),
                kind: (*k).into(),
                versions: ["draft", "in_review", "approved", "superseded"]
                    .iter()
                    .enumerate()
                    .map(|(i, s)| VersionRow {
                        number: i as u32 + 1,
                        state: (*s).into(),
                        sha256: "ab".repeat(32),
                        translations: vec![("de".into(), (*s).into())],
                    })
                    .collect(),
            })
            .chain([DocumentRow {
                id: "sop-new".into(),
                title: "A new SOP".into(),
                kind: "sop".into(),
                ..Default::default()
            }])
            .collect(),
        upcoming: vec![event("Steering committee", "")],
        past: vec![event("Symposium", "The MoU was signed.")],
        exchanges: ["proposed", "planned", "ongoing", "completed", "cancelled"]
            .iter()
            .map(|s| ExchangeRow {
                id: format!("x-yui-{s}"),
                report: if *s == "completed" { "Done." } else { "" }.into(),
                person: "yui".into(),
                home: "JIHS".into(),
                host: "Charité".into(),
                dates: "2026-09-01 – 2026-11-30".into(),
                theme: "AMR".into(),
                status: (*s).into(),
            })
            .collect(),
        courses: vec![CourseRow {
            id: "genomics".into(),
            title: "Genomic surveillance".into(),
            sessions: 3,
            participants: 3,
            complete: 2,
            certified: vec!["mia".into(), "yui".into()],
            roster: vec!["mia".into(), "yui".into(), "ken".into()],
            session_list: vec![
                (
                    "2026-10-01".into(),
                    "Sequencing".into(),
                    vec!["mia".into(), "yui".into()],
                ),
                ("2026-10-08".into(), "MICs".into(), vec!["mia".into()]),
            ],
        }],
        feed: Some("/office/calendar/khcal_x.ics".into()),
        may_add_documents: true,
        chaired: vec![("wg-amr".into(), "Working group AMR".into())],
        kinds: vec!["protocol".into(), "sop".into()],
        may_plan_events: true,
        is_office: true,
        saved: Some(SavedEvent {
            title: "Steering committee".into(),
            id: "steering-committee-2027-01-20".into(),
            double_bookings: vec![(
                "ken".into(),
                "Symposium".into(),
                "2027-01-20 09:00 CET / 2027-01-20 17:00 JST".into(),
            )],
        }),
    }
}

/// The library document in force for `subject`: approved version `version` (or none yet, or
/// no document when `version` is `None` and nothing is pending).
fn in_force_row(
    subject: &str,
    version: Option<u32>,
    matches: Option<bool>,
    pending: Option<u32>,
) -> kakehashi_web::office::InForceRow {
    let document = if version.is_some() || pending.is_some() {
        "def-x".to_owned()
    } else {
        String::new()
    };
    kakehashi_web::office::InForceRow {
        subject: subject.into(),
        title: if document.is_empty() {
            ""
        } else {
            "Definition"
        }
        .into(),
        document,
        version,
        approved: version.map(|_| "2026-05-04".to_owned()).unwrap_or_default(),
        approved_by: "admin".into(),
        pending,
        matches,
    }
}

#[test]
fn every_language_defines_the_same_keys() {
    let cat = Catalog::global();
    let en = cat.keys(Locale::En);
    for loc in [Locale::De, Locale::Ja] {
        let other = cat.keys(loc);
        let missing: Vec<_> = en.difference(other).collect();
        let extra: Vec<_> = other.difference(en).collect();
        assert!(missing.is_empty(), "{loc}.ftl lacks {missing:?}");
        assert!(
            extra.is_empty(),
            "{loc}.ftl has keys English lacks: {extra:?}"
        );
    }
}

#[test]
fn every_page_renders_in_every_language_without_untranslated_keys() {
    for locale in Locale::ALL {
        for page in all_pages() {
            let html = render(&page, &chrome(locale, !matches!(page, Page::Login(_))))
                .unwrap_or_else(|e| panic!("{locale} {page:?}: {e:#}"));
            assert!(html.contains(&format!("<html lang=\"{locale}\">")));
            if let Some(pos) = html.find(MISSING_MARK) {
                panic!(
                    "{locale}: untranslated key near: {}",
                    &html[pos..(pos + 60).min(html.len())]
                );
            }
        }
    }
}

#[test]
fn a_missing_key_is_visible() {
    assert_eq!(
        Catalog::global().text(Locale::Ja, "no-such-key", &[]),
        "⟦no-such-key⟧"
    );
}

#[test]
fn errors_appear_next_to_their_fields() {
    let pages = all_pages();
    let html = render(&pages[3], &chrome(Locale::De, true)).unwrap();
    // the error paragraph follows the field and the field points at it
    let field = html.find("id=\"min_value\"").expect("field");
    let err = html.find("id=\"min_value-error\"").expect("error");
    assert!(err > field && err - field < 400, "error next to field");
    assert!(html.contains("aria-describedby=\"min_value-error\""));
    assert!(html.contains("„abc“ ist keine Zahl."));
    assert!(html.contains("Bitte füllen Sie dieses Feld aus."));
}

#[test]
fn results_show_disclosure_effects_and_locale_numbers() {
    let pages = all_pages();
    let de = render(&pages[3], &chrome(Locale::De, true)).unwrap();
    assert!(de.contains("auf 10 gerundet"));
    assert!(de.contains("weniger als 5: nicht freigegeben"));
    assert!(de.contains("1.361"), "German grouping of the total");
    assert!(de.contains("mit Rauschen (ε = 0,50)"));
    // a noise-off site (Hamburg) is flagged in red, once, on its row
    assert_eq!(
        de.matches("<strong class=\"noise-off\">kein Rauschen: exakte Aggregate")
            .count(),
        1
    );
    // minijinja escapes `/` as `&#x2f;`; a browser shows the slash
    let ja = render(&pages[3], &chrome(Locale::Ja, true))
        .unwrap()
        .replace("&#x2f;", "/");
    assert!(ja.contains("5未満のため非開示"));
    assert!(ja.contains("1,361"));
    assert!(
        ja.contains("2026/01/05 14:05 UTC"),
        "{}",
        &ja[ja.find("result-heading").unwrap()..][..600]
    );
    // suppressed and unanswered sites draw no bar: 3 bars for 6 sites... (Berlin, Tokyo, Hamburg)
    let svg_start = ja.find("<svg").unwrap();
    let svg = &ja[svg_start..ja[svg_start..].find("</svg>").unwrap() + svg_start];
    assert_eq!(svg.matches("<rect").count(), 3);
    let withheld = render(&pages[5], &chrome(Locale::En, true)).unwrap();
    assert!(withheld.contains("Too few sites answered to show a total."));
}

#[test]
fn the_amr_page_shows_intervals_ranges_and_field_errors() {
    let pages = all_pages();
    let amr: Vec<&Page> = pages.iter().filter(|p| matches!(p, Page::Amr(_))).collect();
    let en = render(amr[0], &chrome(Locale::En, true)).unwrap();
    // an exact share with its interval, a share with a withheld count as a range, the difference
    assert!(en.contains("7.0%") && en.contains("(5.0%–9.0%)"), "{en}");
    assert!(en.contains("40.0%–50.0%"), "range for a withheld count");
    assert!(
        en.contains("≈ -41.0%") || en.contains("≈ −41.0%"),
        "an inexact difference is marked"
    );
    assert!(en.contains("href=\"/amr/de.csv?task=t1\""), "csv link");
    assert!(en.contains("<option value=\"blood\" selected>blood</option>"));
    assert!(
        en.contains("<strong class=\"noise-off\">no noise: exact aggregates"),
        "the noise-off site is flagged"
    );
    let de = render(amr[1], &chrome(Locale::De, true)).unwrap();
    let field = de.find("id=\"organisms\"").expect("field");
    let err = de.find("id=\"organisms-error\"").expect("error");
    assert!(err > field && err - field < 400, "error next to field");
    assert!(de.contains("„Unobtainium“ ist kein bekannter Erreger"));
    assert!(de.contains("id=\"from-error\""));
}

/// Year by year: a column per year, a share and its isolates in each year that has them, a dash
/// in the others, the test for trend (a small p as "< 0.001"), the box ticked, and no whole-period
/// sections.
#[test]
fn the_by_year_amr_page_shows_each_year_and_the_trend_test() {
    let pages = all_pages();
    let amr: Vec<&Page> = pages.iter().filter(|p| matches!(p, Page::Amr(_))).collect();
    let en = render(amr[2], &chrome(Locale::En, true)).unwrap();
    let table = &en[en.find("<table id=\"trends\">").expect("the trend table")..];
    let table = &table[..table.find("</table>").expect("closed")];
    for y in ["2023", "2024", "2025"] {
        assert!(
            table.contains(&format!("<th scope=\"col\" class=\"num\">{y}</th>")),
            "a column for {y}: {table}"
        );
    }
    assert!(
        table.contains("2.0%") && table.contains("(1.0%–4.0%)") && table.contains("n = 420"),
        "{table}"
    );
    assert!(table.contains("&lt; 0.001"), "a small p-value: {table}");
    let jp = &table[table.find("Japan").expect("Japan's row")..];
    assert!(
        jp.contains("class=\"muted\""),
        "fewer than 30 isolates are greyed: {jp}"
    );
    assert_eq!(
        table.matches("<tr>").count(),
        3,
        "a header and a row per country"
    );
    assert!(
        en.contains("name=\"by_year\" value=\"true\" checked"),
        "the box stays ticked"
    );
    assert!(
        !en.contains("Germany and Japan compared"),
        "no whole-period comparison"
    );
    let ja = render(amr[2], &chrome(Locale::Ja, true)).unwrap();
    assert!(ja.contains("傾向の p 値"));
}

#[test]
fn user_text_is_escaped() {
    let page = Page::Home(HomePage {
        projects: vec![ProjectRow {
            id: "x".into(),
            name: "<script>alert(1)</script>".into(),
            description: String::new(),
            sites: 0,
        }],
    });
    let html = render(&page, &chrome(Locale::En, true)).unwrap();
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;"));
}

/// The surveillance page: each country's curve (with its rate scale) is followed by its
/// positivity chart with the interval band, both with their CSV; the season chooser offers the
/// current season first; the season shown is said in words.
#[test]
fn surveillance_shows_positivity_after_each_curve_and_names_the_season() {
    let page = all_pages()
        .into_iter()
        .find(|p| matches!(p, Page::Surveillance(_)))
        .unwrap();
    // (the template escapes '/' as an entity; a browser shows it as '/')
    let html = render(&page, &chrome(Locale::En, true))
        .unwrap()
        .replace("&#x2f;", "/");
    let curve = html
        .find("aria-labelledby=\"curve-de-title")
        .expect("curve");
    let share = html
        .find("aria-labelledby=\"positivity-de-title")
        .expect("positivity chart");
    assert!(
        curve < share,
        "the positivity chart follows its country's curve"
    );
    assert!(html.contains("class=\"band\"") && html.contains("class=\"y2-tick\""));
    let flag = &html[html
        .find("class=\"noise-off\" id=\"noise-off-sites\"")
        .expect("noise-off sites flagged in red")..];
    assert!(
        flag[..flag.find("</p>").unwrap()].contains("own decision: de-berlin"),
        "{flag}"
    );
    assert!(
        html.contains("/surveillance/positivity-de.csv?definition=sari-icd10&amp;season="),
        "CSV link"
    );
    let select = &html[html
        .find("id=\"season\"")
        .unwrap_or_else(|| panic!("season chooser: {html}"))..];
    let (current, latest) = (select.find("current season"), select.find("2025/26"));
    assert!(
        current.is_some() && latest.is_some() && current < latest,
        "current season first: {select}"
    );
    assert!(html.contains("<li>Germany: season 2025/26 (current season)</li>"));
    // a GET shows an earlier run: dated, named, with the button that asks again
    let run_of = &html[html
        .find("id=\"surv-run-of\"")
        .expect("the run shown is said")..];
    let run_of = &run_of[..run_of.find("</p>").unwrap()];
    let when = kakehashi_web::format::date_time(
        Locale::En,
        Utc.with_ymd_and_hms(2026, 1, 5, 14, 5, 0).unwrap(),
    );
    assert!(
        run_of.contains(&when) && run_of.contains("researcher") && run_of.contains("demo"),
        "{run_of}"
    );
    assert!(html.contains("id=\"surv-run\"") && !html.contains("id=\"surv-not-run\""));
    assert!(
        html.contains("docs/privacy.md"),
        "the release rule is named"
    );
}

/// Before any run the page says the network was not asked yet, and names no run.
#[test]
fn surveillance_never_run_says_so_and_names_no_run() {
    let page = Page::Surveillance(SurveillancePage {
        definitions: vec!["sari-icd10".into()],
        definition: "sari-icd10".into(),
        not_run: true,
        ..Default::default()
    });
    for locale in [Locale::En, Locale::De, Locale::Ja] {
        let html = render(&page, &chrome(locale, true)).unwrap();
        assert!(html.contains("id=\"surv-not-run\"") && html.contains("id=\"surv-run\""));
        assert!(!html.contains("id=\"surv-run-of\""));
    }
}

/// The surveillance and AMR pages name the library document in force for their definition or
/// guideline, link to it, say whether the sites compute with its exact text, and name a
/// pending version; without a governing document they say so.
#[test]
fn the_document_in_force_is_named_beside_the_definition() {
    let surv = |f| {
        Page::Surveillance(SurveillancePage {
            definitions: vec!["sari-icosari".into()],
            definition: "sari-icosari".into(),
            in_force: Some(f),
            ..Default::default()
        })
    };
    let en = chrome(Locale::En, true);
    let html = render(
        &surv(in_force_row("sari-icosari", Some(2), Some(false), Some(3))),
        &en,
    )
    .unwrap();
    assert!(html.contains("href=\"/office#doc-def-x\""), "{html}");
    assert!(html.contains("version 2, approved"), "{html}");
    assert!(html.contains("differs from the approved version"), "{html}");
    assert!(html.contains("Version 3 is in draft or review"), "{html}");
    let html = render(
        &surv(in_force_row("sari-icosari", Some(2), Some(true), None)),
        &en,
    )
    .unwrap();
    assert!(
        html.contains("exactly this text") && !html.contains("differs"),
        "{html}"
    );
    let html = render(&surv(in_force_row("sari-icosari", None, None, None)), &en).unwrap();
    assert!(html.contains("library governs sari-icosari"), "{html}");
    assert!(!html.contains("/office#doc-"), "{html}");
    let html = render(
        &surv(in_force_row("sari-icosari", None, None, Some(1))),
        &en,
    )
    .unwrap();
    assert!(html.contains("No version is approved yet"), "{html}");
    let ja = render(
        &surv(in_force_row("sari-icosari", Some(2), Some(false), None)),
        &chrome(Locale::Ja, true),
    )
    .unwrap();
    assert!(ja.contains("承認済みの版と異なります"), "{ja}");
}

#[test]
fn the_catalogue_lists_collections_and_names_bad_criteria_at_their_fields() {
    let ok = render(
        &Page::Catalogue(catalogue_page(false)),
        &chrome(Locale::De, true),
    )
    .unwrap();
    assert!(ok.contains("3 Sammlungen"), "{ok}");
    assert!(ok.contains("Biobank &lt;de-berlin&gt;"));
    assert!(ok.contains("12.345") && ok.contains("37.035"), "{ok}");
    assert!(ok.contains("Deutschland") && ok.contains("· FR"));
    assert!(ok.contains(r#"<option value="Serum" selected>"#));
    assert!(ok.contains(r#"href="/catalogue/miabis.json""#));
    let bad = render(
        &Page::Catalogue(catalogue_page(true)),
        &chrome(Locale::En, true),
    )
    .unwrap();
    for (field, text) in [
        ("material", "“Sera” is not one of the choices."),
        ("disease", "“X1” is not an ICD-10 code"),
        ("country", "“Germany” is not a two-letter country code"),
    ] {
        let at = bad
            .find(&format!(r#"id="cat-{field}-error""#))
            .unwrap_or_else(|| panic!("{field}: {bad}"));
        assert!(
            bad[at..].split("</p>").next().unwrap().contains(text),
            "{field}"
        );
        assert!(bad.contains(&format!(r#"aria-describedby="cat-{field}-error""#)));
    }
    assert!(bad.contains("No collection matches."));
}

#[test]
fn a_request_shows_its_buttons_timeline_threads_and_refusal() {
    let html = render(
        &Page::Request(Box::new(request_page())),
        &chrome(Locale::Ja, true),
    )
    .unwrap();
    assert!(
        html.contains(r#"<button type="submit" name="event" value="approve">承認</button>"#),
        "{html}"
    );
    assert!(html.contains(r#"<input type="hidden" name="collection" value="de-sera">"#));
    assert!(html.contains("実行されませんでした：request r1 is closed: it cannot resume"));
    assert!(
        html.contains("Neutralising &lt;antibodies&gt;") && html.contains("Thanks &lt;all&gt;")
    );
    assert!(html.contains(&format!("/requests/r1/attachments/{}", "ab".repeat(32))));
    assert!(html.contains("在庫確認中 → 利用可能"), "{html}");
    let list = render(&Page::Requests(requests_page()), &chrome(Locale::De, true)).unwrap();
    assert!(list.contains("Anträge an Sammlungen von de-berlin"));
    assert!(
        list.contains(r#"<a href="/requests/r-draft">Request &lt;draft&gt;</a>"#),
        "{list}"
    );
}

/// The samples tab: the criteria, the released cells (a suppressed one as "< n") and a chart of
/// donors per material type that says how many cells were below the minimum.
#[test]
fn the_samples_tab_shows_released_cells_and_a_chart_per_material() {
    let page = Page::Feasibility(FeasibilityPage {
        tab: "samples".into(),
        material_options: vec!["Serum".into(), "Plasma".into()],
        form: FeasibilityForm {
            materials: vec!["Serum".into()],
            ..Default::default()
        },
        samples: Some(kakehashi_web::samples::SamplesResult {
            task: "t9".into(),
            rows: vec![
                kakehashi_web::samples::SampleRow {
                    site: "Berlin".into(),
                    country: "DE".into(),
                    collection: "de-berlin-vhf".into(),
                    material: "Serum".into(),
                    donors: "12".into(),
                    samples: "40".into(),
                    donors_value: Some(12),
                },
                kakehashi_web::samples::SampleRow {
                    site: "Tokyo".into(),
                    country: "JP".into(),
                    collection: "jp-tokyo-vhf".into(),
                    material: "Serum".into(),
                    donors: "< 3".into(),
                    samples: "< 3".into(),
                    donors_value: None,
                },
            ],
            ..Default::default()
        }),
        ..Default::default()
    });
    let html = render(&page, &chrome(Locale::En, true)).unwrap();
    assert!(
        html.contains(r#"<input type="checkbox" name="material" value="Serum" checked>"#),
        "{html}"
    );
    assert!(html.contains(r#"value="Plasma">"#));
    assert!(html.contains(r#"id="samples-run""#));
    assert!(html.contains("<td class=\"num\">&lt; 3</td>"), "{html}");
    assert!(html.contains("<svg"), "the chart");
    assert!(html.contains("12 (+1 &lt; min)"), "{html}");
    assert!(html.contains(r#"aria-current="page">Samples"#), "{html}");
}

/// A library document names the studies that run under one of its versions, linked to them.
#[test]
fn a_protocol_names_the_studies_citing_it() {
    let page = Page::Office(office_page());
    for (locale, text) in [
        (Locale::En, "VHF registry runs under version 2"),
        (Locale::De, "VHF registry läuft unter Version 2"),
        (Locale::Ja, "VHF registry はバージョン 2 に基づき実施"),
    ] {
        let html = render(&page, &chrome(locale, true)).unwrap();
        let plain = html.replace(['\u{2068}', '\u{2069}'], "");
        assert!(plain.contains(text), "{locale:?}: {html}");
        assert!(html.contains("<a href=\"/studies/vhf\">vhf</a>"), "{html}");
    }
}
