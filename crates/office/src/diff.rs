//! A line diff of two text versions (the `similar` crate's Myers diff). Binary content is
//! refused with the side and the reason, never compared byte by byte.

use crate::{OfficeError, Result};
use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

/// What happened to a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// In both.
    Same,
    /// Only in the newer version.
    Added,
    /// Only in the older version.
    Removed,
}

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// What happened to it.
    pub change: Change,
    /// Its number in the older version (none when added).
    pub old: Option<usize>,
    /// Its number in the newer version (none when removed).
    pub new: Option<usize>,
    /// The line, without its line break.
    pub text: String,
}

/// Reads bytes as text for a diff, or says why they are not.
fn text<'a>(which: &'static str, bytes: &'a [u8]) -> Result<&'a str> {
    if bytes.contains(&0) {
        return Err(OfficeError::BinaryDiff {
            which,
            reason: "it contains NUL bytes",
        });
    }
    std::str::from_utf8(bytes).map_err(|_| OfficeError::BinaryDiff {
        which,
        reason: "it is not UTF-8 text",
    })
}

/// The line diff from `from` to `to`, every line of both in order; line numbers from 1.
pub fn lines(from: &[u8], to: &[u8]) -> Result<Vec<Line>> {
    let (a, b) = (text("from", from)?, text("to", to)?);
    let diff = TextDiff::configure()
        .timeout(std::time::Duration::from_secs(2))
        .diff_lines(a, b);
    Ok(diff
        .iter_all_changes()
        .map(|c| Line {
            change: match c.tag() {
                ChangeTag::Equal => Change::Same,
                ChangeTag::Insert => Change::Added,
                ChangeTag::Delete => Change::Removed,
            },
            old: c.old_index().map(|i| i + 1),
            new: c.new_index().map(|i| i + 1),
            text: c.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_changed_line_is_removed_then_added() {
        let d = lines(b"a\nb\nc\n", b"a\nB\nc\nd\n").unwrap();
        let got: Vec<_> = d
            .iter()
            .map(|l| (l.change, l.old, l.new, l.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Change::Same, Some(1), Some(1), "a"),
                (Change::Removed, Some(2), None, "b"),
                (Change::Added, None, Some(2), "B"),
                (Change::Same, Some(3), Some(3), "c"),
                (Change::Added, None, Some(4), "d"),
            ]
        );
    }

    #[test]
    fn binary_is_refused_with_the_side() {
        let e = lines(b"text", b"%PDF-1.7\n\0\x01").unwrap_err();
        assert_eq!(
            e.to_string(),
            "to is not a text document (it contains NUL bytes): only text versions can be compared line by line"
        );
        assert!(
            lines(&[0xff, 0xfe], b"x")
                .unwrap_err()
                .to_string()
                .starts_with("from is not")
        );
    }

    proptest! {
        /// The old side of a diff is the old text and the new side the new text.
        #[test]
        fn both_sides_rebuild(a in proptest::collection::vec("[abc]{0,3}", 0..12), b in proptest::collection::vec("[abc]{0,3}", 0..12)) {
            let (a, b) = (a.join("\n"), b.join("\n"));
            let d = lines(a.as_bytes(), b.as_bytes()).unwrap();
            let side = |keep: Change| d.iter().filter(|l| l.change == Change::Same || l.change == keep).map(|l| l.text.clone()).collect::<Vec<_>>();
            let split = |s: &str| s.split_inclusive('\n').map(|l| l.trim_end_matches('\n').to_owned()).collect::<Vec<_>>();
            prop_assert_eq!(side(Change::Removed), split(&a));
            prop_assert_eq!(side(Change::Added), split(&b));
        }
    }
}
