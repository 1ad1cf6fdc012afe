//! Model formulas in the R / statsmodels notation: `y ~ a + b + a:b`.
//!
//! Supported: `+` between terms, `:` for an interaction, `a*b` for `a + b + a:b`, `1` (the
//! intercept, implied), `0` or `- 1` (no intercept) and `offset(v)` (a known term with
//! coefficient 1, for Poisson rates). Variable names are letters, digits, `_` and `.`,
//! starting with a letter or `_`. Errors give the 1-based character column.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A parsed formula.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Formula {
    /// The response variable (left of `~`).
    pub response: String,
    /// The terms in the order written, each a list of variables (one for a main effect, more
    /// for an interaction), without duplicates.
    pub terms: Vec<Vec<String>>,
    /// Whether the model has an intercept (unless `0` or `- 1` is written).
    pub intercept: bool,
    /// The offset variable, if `offset(v)` is written.
    pub offset: Option<String>,
}

/// Why a formula cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("formula {text:?}, column {column}: {message}")]
pub struct FormulaError {
    /// The formula as given.
    pub text: String,
    /// The 1-based character column where reading stopped.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Num(String),
    Tilde,
    Plus,
    Minus,
    Colon,
    Star,
    Open,
    Close,
}

impl Formula {
    /// Reads a formula.
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let toks = lex(text)?;
        Parser {
            text,
            toks,
            at: 0,
            end: text.chars().count() + 1,
        }
        .formula()
    }

    /// Every variable the formula names (response, terms, offset), each once, in order.
    pub fn variables(&self) -> Vec<&str> {
        let mut out: Vec<&str> = vec![self.response.as_str()];
        for v in self.terms.iter().flatten().chain(self.offset.iter()) {
            if !out.contains(&v.as_str()) {
                out.push(v);
            }
        }
        out
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ~ ", self.response)?;
        let mut parts: Vec<String> = Vec::new();
        if !self.intercept {
            parts.push("0".into());
        }
        parts.extend(self.terms.iter().map(|t| t.join(":")));
        if let Some(o) = &self.offset {
            parts.push(format!("offset({o})"));
        }
        if parts.is_empty() {
            parts.push("1".into());
        }
        write!(f, "{}", parts.join(" + "))
    }
}

fn lex(text: &str) -> Result<Vec<(usize, Tok)>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        let single = match c {
            '~' => Some(Tok::Tilde),
            '+' => Some(Tok::Plus),
            '-' => Some(Tok::Minus),
            ':' => Some(Tok::Colon),
            '*' => Some(Tok::Star),
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            _ => None,
        };
        if let Some(t) = single {
            out.push((col, t));
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '.'))
            {
                i += 1;
            }
            out.push((col, Tok::Name(chars[start..i].iter().collect())));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push((col, Tok::Num(chars[start..i].iter().collect())));
        } else {
            return Err(FormulaError {
                text: text.into(),
                column: col,
                message: format!("unexpected character {c:?}"),
            });
        }
    }
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> FormulaError {
        let column = self.toks.get(self.at).map_or(self.end, |t| t.0);
        FormulaError {
            text: self.text.into(),
            column,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.1)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).map(|t| t.1.clone());
        self.at += 1;
        t
    }

    fn name(&mut self, what: &str) -> Result<String, FormulaError> {
        match self.peek() {
            Some(Tok::Name(n)) => {
                let n = n.clone();
                self.at += 1;
                Ok(n)
            }
            _ => Err(self.err(format!("expected {what}"))),
        }
    }

    fn formula(mut self) -> Result<Formula, FormulaError> {
        let response = self.name("the response variable before '~'")?;
        if self.next() != Some(Tok::Tilde) {
            self.at -= 1;
            return Err(self.err("expected '~' after the response"));
        }
        let mut f = Formula {
            response,
            terms: Vec::new(),
            intercept: true,
            offset: None,
        };
        let mut first = true;
        loop {
            let minus = if first {
                false
            } else {
                match self.next() {
                    None => break,
                    Some(Tok::Plus) => false,
                    Some(Tok::Minus) => true,
                    Some(_) => {
                        self.at -= 1;
                        return Err(self.err("expected '+' or '-' between terms"));
                    }
                }
            };
            first = false;
            self.term(&mut f, minus)?;
        }
        if f.terms.iter().flatten().any(|v| *v == f.response) {
            return Err(FormulaError {
                text: self.text.into(),
                column: 1,
                message: format!("the response {:?} is also a term", f.response),
            });
        }
        Ok(f)
    }

    fn term(&mut self, f: &mut Formula, minus: bool) -> Result<(), FormulaError> {
        match self.peek() {
            Some(Tok::Num(n)) => {
                let n = n.clone();
                match (n.as_str(), minus) {
                    ("1", false) => f.intercept = true,
                    ("1", true) | ("0", false) => f.intercept = false,
                    _ => return Err(self.err(format!("{n}: only 1, 0 and - 1 are allowed"))),
                }
                self.at += 1;
                return Ok(());
            }
            Some(Tok::Name(n))
                if n == "offset"
                    && self.toks.get(self.at + 1).map(|t| &t.1) == Some(&Tok::Open) =>
            {
                if minus {
                    return Err(self.err("an offset cannot be removed"));
                }
                self.at += 2;
                let v = self.name("a variable in offset(...)")?;
                if self.next() != Some(Tok::Close) {
                    self.at -= 1;
                    return Err(self.err("expected ')' after the offset variable"));
                }
                if f.offset.is_some() {
                    self.at -= 1;
                    return Err(self.err("only one offset(...) is allowed"));
                }
                f.offset = Some(v);
                return Ok(());
            }
            _ => {}
        }
        if minus {
            return Err(self.err("only the intercept can be removed ('- 1')"));
        }
        // factors joined by '*', each factor a ':' product
        let mut factors: Vec<Vec<String>> = vec![self.product()?];
        while self.peek() == Some(&Tok::Star) {
            self.at += 1;
            factors.push(self.product()?);
        }
        // a*b*c: every non-empty subset of the factors, in the order R writes them (by size)
        let k = factors.len();
        let mut subsets: Vec<Vec<usize>> = (1u32..(1 << k))
            .map(|m| (0..k).filter(|i| m & (1 << i) != 0).collect())
            .collect();
        subsets.sort_by_key(|s| s.len());
        for s in subsets {
            let mut t: Vec<String> = Vec::new();
            for i in s {
                for v in &factors[i] {
                    if !t.contains(v) {
                        t.push(v.clone());
                    }
                }
            }
            if !f.terms.iter().any(|u| same_term(u, &t)) {
                f.terms.push(t);
            }
        }
        Ok(())
    }

    fn product(&mut self) -> Result<Vec<String>, FormulaError> {
        let mut t = vec![self.name("a variable")?];
        while self.peek() == Some(&Tok::Colon) {
            self.at += 1;
            let v = self.name("a variable after ':'")?;
            if t.contains(&v) {
                self.at -= 1;
                return Err(self.err(format!("{v} appears twice in one interaction")));
            }
            t.push(v);
        }
        Ok(t)
    }
}

fn same_term(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|v| b.contains(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(f: &Formula) -> Vec<String> {
        f.terms.iter().map(|t| t.join(":")).collect()
    }

    #[test]
    fn main_effects_and_interactions() {
        let f = Formula::parse("died ~ age_band + sex + age_band:sex").unwrap();
        assert_eq!(f.response, "died");
        assert_eq!(terms(&f), ["age_band", "sex", "age_band:sex"]);
        assert!(f.intercept);
        assert_eq!(f.variables(), ["died", "age_band", "sex"]);
        let g = Formula::parse("y ~ a*b").unwrap();
        assert_eq!(terms(&g), ["a", "b", "a:b"]);
        let h = Formula::parse("y ~ a + b:a + a:b").unwrap();
        assert_eq!(terms(&h), ["a", "b:a"]);
    }

    #[test]
    fn intercept_and_offset() {
        let f = Formula::parse("n ~ 0 + x + offset(log_days)").unwrap();
        assert!(!f.intercept);
        assert_eq!(f.offset.as_deref(), Some("log_days"));
        assert_eq!(f.to_string(), "n ~ 0 + x + offset(log_days)");
        let g = Formula::parse("n ~ x - 1").unwrap();
        assert!(!g.intercept);
        assert_eq!(Formula::parse("y ~ 1").unwrap().terms.len(), 0);
    }

    #[test]
    fn errors_name_the_column() {
        let e = Formula::parse("died ~ age + ").unwrap_err();
        assert_eq!(e.column, 14);
        assert!(e.message.contains("expected a variable"), "{e}");
        let e = Formula::parse("died age").unwrap_err();
        assert_eq!(
            (e.column, e.message.as_str()),
            (6, "expected '~' after the response")
        );
        let e = Formula::parse("y ~ a $ b").unwrap_err();
        assert_eq!(e.column, 7);
        let e = Formula::parse("y ~ a - b").unwrap_err();
        assert!(e.message.contains("only the intercept"), "{e}");
        let e = Formula::parse("y ~ y + a").unwrap_err();
        assert!(e.message.contains("also a term"), "{e}");
        let e = Formula::parse("y ~ a:a").unwrap_err();
        assert!(e.message.contains("twice"), "{e}");
        assert!(Formula::parse("y ~ 2").is_err());
    }
}
