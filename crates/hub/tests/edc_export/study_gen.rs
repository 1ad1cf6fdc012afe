//! A generated study dictionary of N items on one form, mixed as a CRF is (whole numbers and
//! decimals with ranges, dates, date-times, radios, dropdowns, yes/no, checkboxes, free text,
//! notes, calculations), every fifth item behind branching logic on the yes/no before it;
//! and values for a subject, valid by construction and shown per the branching.

use kakehashi_edc::dictionary::{self, COLUMNS, Field};
use kakehashi_edc::study::{EthicsApproval, FormRights, Role, Site};
use kakehashi_edc::{Study, StudyStatus};
use std::collections::BTreeMap;

/// The form's name.
pub const FORM: &str = "crf";
/// The event of a study made by `Study::from_dictionary`.
pub const EVENT: &str = "event_1_arm_1";
/// The site.
pub const DAG: &str = "de_charite";

/// The kinds of item, in the order they cycle.
const KINDS: usize = 11;

/// The dictionary CSV of `items` items (after `record_id`).
pub fn dictionary_csv(items: usize) -> String {
    let mut out = COLUMNS.map(|c| format!("\"{c}\"")).join(",");
    out.push('\n');
    out.push_str(&format!("record_id,{FORM},,text,Record ID,,,,,,,,,,,,,\n"));
    for i in 0..items {
        let v = format!("v{i:03}");
        // every fifth item is shown only when the last yes/no before it is yes
        let yn = (0..i)
            .rev()
            .find(|j| j % KINDS == 6)
            .map(|j| format!("v{j:03}"));
        let branch = match (&yn, i % 5 == 4) {
            (Some(y), true) => format!("[{y}] = '1'"),
            _ => String::new(),
        };
        let row = match i % KINDS {
            0 => format!("{v},{FORM},,text,Count {i},,,integer,0,500,,{branch},,,,,,"),
            1 => format!("{v},{FORM},,text,Lab value {i},,,number_1dp,0,1000,,{branch},,,,,,"),
            2 => format!(
                "{v},{FORM},,text,Date {i},,,date_ymd,2020-01-01,2030-12-31,,{branch},,,,,,"
            ),
            3 => format!("{v},{FORM},,text,Time of {i},,,datetime_ymd,,,,{branch},,,,,,"),
            4 => format!(
                "{v},{FORM},,radio,Grade {i},\"1, Mild | 2, Moderate | 3, Severe\",,,,,,{branch},,,,,,"
            ),
            5 => format!(
                "{v},{FORM},,dropdown,Site of {i},\"a, Arm | b, Leg | c, Trunk | d, Head\",,,,,,{branch},,,,,,"
            ),
            6 => format!("{v},{FORM},,yesno,Symptom {i}?,,,,,,,{branch},,,,,,"),
            7 => format!(
                "{v},{FORM},,checkbox,Findings {i},\"1, Rash | 2, Bleeding | 3, Fever\",,,,,,{branch},,,,,,"
            ),
            8 => format!("{v},{FORM},,text,Comment {i},,,,,,,{branch},,,,,,"),
            9 => format!("{v},{FORM},,notes,Notes {i},,,,,,,{branch},,,,,,"),
            _ => {
                let n = format!("v{:03}", i - 10);
                let d = format!("v{:03}", i - 9);
                format!("{v},{FORM},,calc,Derived {i},\"round([{n}] * 2 + [{d}], 1)\",,,,,,,,,,,,")
            }
        };
        out.push_str(&row);
        out.push('\n');
    }
    out
}

fn all_rights() -> FormRights {
    FormRights {
        view: true,
        edit: true,
        lock: true,
        resolve_queries: true,
        export: true,
        api: true,
    }
}

/// The study: the generated dictionary, one site, a data manager role (every right, every
/// site), active with an ethics approval.
pub fn study(id: &str, items: usize) -> Study {
    let fields = dictionary::read_csv("generated.csv", &dictionary_csv(items))
        .unwrap_or_else(|e| panic!("the generated dictionary reads: {e}"));
    let mut s = Study::from_dictionary(id, "Generated benchmark study", fields);
    s.sites = vec![Site {
        dag: DAG.into(),
        name: "Charité Berlin".into(),
        country: "DE".into(),
    }];
    s.roles = vec![Role {
        name: "data_manager".into(),
        all_sites: true,
        open_queries: true,
        forms: BTreeMap::from([("*".to_owned(), all_rights())]),
    }];
    s.ethics = vec![EthicsApproval {
        country: "DE".into(),
        committee: "Ethikkommission der Charité".into(),
        reference: "EA1/001/26".into(),
        approved_on: "2026-01-15".into(),
    }];
    s.status = StudyStatus::Active;
    s
}

/// A site-minted pseudonym for subject `n`.
pub fn pseudonym(n: usize) -> String {
    format!("{:064x}", n as u128 * 0x9e37_79b9_7f4a_7c15 + 1)
}

/// Entered values for subject `n` (`round`: a variation, so repeated saves change values):
/// valid for each field, the branching respected, calcs left to the hub; about one whole number in
/// 23 is the missing-data code UNK, one checkbox in 13 has NASK ticked.
pub fn values(fields: &[Field], n: usize, round: usize) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut last_yes = true;
    for (i, f) in fields.iter().skip(1).enumerate() {
        let k = n * 31 + i * 7 + round;
        if !f.branching.is_empty() && !last_yes {
            continue;
        }
        let v = &f.variable;
        match i % KINDS {
            0 if k.is_multiple_of(23) => {
                out.insert(v.clone(), "UNK".into());
            }
            0 => {
                out.insert(v.clone(), (k % 500).to_string());
            }
            1 => {
                out.insert(v.clone(), format!("{}.{}", k % 1000, k % 10));
            }
            2 => {
                out.insert(
                    v.clone(),
                    format!("2026-{:02}-{:02}", k % 12 + 1, k % 28 + 1),
                );
            }
            3 => {
                out.insert(
                    v.clone(),
                    format!(
                        "2026-{:02}-{:02} {:02}:{:02}",
                        k % 12 + 1,
                        k % 28 + 1,
                        k % 24,
                        k % 60
                    ),
                );
            }
            4 => {
                out.insert(v.clone(), (k % 3 + 1).to_string());
            }
            5 => {
                out.insert(v.clone(), ["a", "b", "c", "d"][k % 4].into());
            }
            6 => {
                last_yes = !k.is_multiple_of(3);
                out.insert(v.clone(), if last_yes { "1" } else { "0" }.into());
            }
            7 => {
                for code in ["1", "2", "3"] {
                    let on = (k + code.len() * code.as_bytes()[0] as usize).is_multiple_of(2);
                    out.insert(format!("{v}___{code}"), if on { "1" } else { "0" }.into());
                }
                if k.is_multiple_of(13) {
                    out.insert(format!("{v}___nask"), "1".into());
                }
            }
            8 => {
                out.insert(v.clone(), format!("free text, \"quoted\" {k}"));
            }
            9 => {
                out.insert(v.clone(), format!("line one {k}\nline two: ok; ü 日本"));
            }
            _ => {}
        }
    }
    out
}
