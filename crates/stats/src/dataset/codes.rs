//! ICD-10 code patterns as datasets write them.

/// An ICD-10 code pattern: a range of three-character categories (`J09-J22`) or a code
/// prefix (`U07.1`, `E11`); codes compare without dots, in upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodePattern {
    /// Categories from the first to the second, inclusive.
    Range(String, String),
    /// Codes starting with this.
    Prefix(String),
}

/// A code pattern that does not read (the text as written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodePatternError {
    /// `A-B` that is not a range of three-character categories.
    #[error("{0:?} is not a range of three-character ICD-10 categories (J09-J22)")]
    Range(String),
    /// Neither a range nor a code or prefix.
    #[error("{0:?} is not an ICD-10 code or prefix (E11, U07.1)")]
    Code(String),
}

/// An ICD-10 code without dots and marks, upper case.
pub fn normalize_icd(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '.' | '!' | '*' | '+' | '†' | ' '))
        .flat_map(char::to_uppercase)
        .collect()
}

impl CodePattern {
    /// Reads `J09-J22` or `E11.9`.
    pub fn parse(text: &str) -> Result<CodePattern, CodePatternError> {
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric())
        };
        match text.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (normalize_icd(lo), normalize_icd(hi));
                if lo.len() != 3 || hi.len() != 3 || !ok(&lo) || !ok(&hi) || lo > hi {
                    return Err(CodePatternError::Range(text.into()));
                }
                Ok(CodePattern::Range(lo, hi))
            }
            None => {
                let p = normalize_icd(text);
                if !ok(&p) {
                    return Err(CodePatternError::Code(text.into()));
                }
                Ok(CodePattern::Prefix(p))
            }
        }
    }

    /// Whether a normalised code matches.
    pub fn matches(&self, normalized: &str) -> bool {
        match self {
            CodePattern::Range(lo, hi) => normalized
                .get(..3)
                .is_some_and(|c| c >= lo.as_str() && c <= hi.as_str()),
            CodePattern::Prefix(p) => normalized.starts_with(p.as_str()),
        }
    }
}
