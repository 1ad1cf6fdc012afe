//! ICD-10 codes as a catalogue writes them: a code (`A98.0`, `U07.1`, `E11.90`), a category
//! with its descendants (`J18.-`), or a block (`A00-B99`).

use serde::{Deserialize, Serialize};

/// A checked ICD-10 code, category or block, kept as written (trimmed, upper case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Icd10(String);

/// Why a text is not an ICD-10 code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not an ICD-10 code (a letter, two digits, optionally a dot and up to four more: A98.0; a category J18.-; a block A00-B99)"
)]
pub struct NotIcd10 {
    /// The text given.
    pub text: String,
}

/// A code `A00`, `A00.1`, `E11.90` (no block, no wildcard).
fn is_code(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 3 || !b[0].is_ascii_uppercase() || !b[1].is_ascii_digit() {
        return false;
    }
    // WHO's 3-character categories are letter, digit, digit (a few GM ones end in a letter: none
    // of the catalogue's concern).
    if !b[2].is_ascii_digit() {
        return false;
    }
    match &s[3..] {
        "" => true,
        rest => {
            let Some(sub) = rest.strip_prefix('.') else {
                return false;
            };
            (1..=4).contains(&sub.len()) && sub.bytes().all(|c| c.is_ascii_alphanumeric())
        }
    }
}

impl Icd10 {
    /// Checks `text`.
    pub fn parse(text: &str) -> Result<Icd10, NotIcd10> {
        let t = text.trim().to_ascii_uppercase();
        let bad = || NotIcd10 {
            text: text.to_owned(),
        };
        if let Some((a, b)) = t.split_once('-') {
            if b.is_empty() {
                // `J18.-`
                let cat = a.strip_suffix('.').ok_or_else(bad)?;
                return if is_code(cat) && !cat.contains('.') {
                    Ok(Icd10(t))
                } else {
                    Err(bad())
                };
            }
            if is_code(a) && is_code(b) && !a.contains('.') && !b.contains('.') && a <= b {
                return Ok(Icd10(t));
            }
            return Err(bad());
        }
        if is_code(&t) {
            Ok(Icd10(t))
        } else {
            Err(bad())
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `code` (a plain code such as `A98.0`) lies within this code, category or block.
    pub fn covers(&self, code: &str) -> bool {
        let code = code.trim();
        if let Some(cat) = self.0.strip_suffix(".-") {
            return code == cat || code.starts_with(&format!("{cat}."));
        }
        if let Some((a, b)) = self.0.split_once('-') {
            let head = code.get(..3).unwrap_or(code);
            return is_code(head) && a <= head && head <= b;
        }
        code == self.0 || code.starts_with(&format!("{}.", self.0)) || {
            // `A98.0` covers `A98.01`
            self.0.contains('.') && code.starts_with(&self.0)
        }
    }
}

impl TryFrom<String> for Icd10 {
    type Error = NotIcd10;
    fn try_from(s: String) -> Result<Self, NotIcd10> {
        Icd10::parse(&s)
    }
}

impl From<Icd10> for String {
    fn from(c: Icd10) -> String {
        c.0
    }
}

impl std::fmt::Display for Icd10 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_codes_categories_and_blocks() {
        for ok in [
            "A98.0", "u07.1", "E11.90", "J18", "J18.-", "A00-B99", " B34.2 ",
        ] {
            assert!(Icd10::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_what_is_not_icd10() {
        for bad in [
            "",
            "A9",
            "AA0",
            "A9X",
            "A98.",
            "A98.00000",
            "B99-A00",
            "A00.1-B99",
            "J18.9-",
            "9A8",
            "A98 0",
            "A98.ü",
        ] {
            let e = Icd10::parse(bad).unwrap_err();
            assert_eq!(e.text, bad);
        }
    }

    #[test]
    fn covers_descendants() {
        let block = Icd10::parse("A90-A99").unwrap();
        assert!(block.covers("A98.0"));
        assert!(!block.covers("B34.2"));
        let cat = Icd10::parse("J18.-").unwrap();
        assert!(cat.covers("J18.9") && cat.covers("J18") && !cat.covers("J180"));
        let code = Icd10::parse("A98").unwrap();
        assert!(code.covers("A98.0") && !code.covers("A980"));
    }
}
