//! REDCap's logic language: branching logic (show a field when true) and calculations.
//!
//! [`parse`] reads an expression into an [`Expr`]; [`eval::eval`] computes it against a
//! record ([`eval::Data`]); [`Record`] is a plain in-memory record for tests and tools.
//! Errors give the 1-based character position; the dictionary reader adds row and field.

pub mod ast;
pub mod eval;
mod lex;
mod parse;

pub use ast::{BinOp, Expr, Func, SmartVar, UnOp, VarRef};
pub use eval::{Data, Value, eval, shown};
pub use parse::{parse, valid_name};

use chrono::NaiveDateTime;
use std::collections::BTreeMap;

/// Logic that cannot be read, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at character {position}: {kind}")]
pub struct LogicError {
    /// 1-based character position in the expression.
    pub position: usize,
    /// What is wrong there.
    pub kind: LogicErrorKind,
}

/// What is wrong with a piece of logic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LogicErrorKind {
    /// Nothing to read.
    #[error("empty expression")]
    Empty,
    /// A character that has no meaning here.
    #[error("unexpected character '{0}'")]
    Unexpected(char),
    /// An operator where a value was expected.
    #[error("unexpected operator '{0}'")]
    UnexpectedOp(&'static str),
    /// `[` without `]`.
    #[error("'[' is not closed")]
    UnclosedBracket,
    /// A quote without its closing quote.
    #[error("string is not closed")]
    UnclosedString,
    /// `(` without `)`.
    #[error("'(' is not closed")]
    UnclosedParen,
    /// Something else where `)` belongs.
    #[error("expected ')'")]
    ExpectedCloseParen,
    /// A function name not followed by `(`.
    #[error("expected '(' after the function name")]
    ExpectedParen,
    /// Inside a call, neither `,` nor `)`.
    #[error("expected ',' or ')'")]
    ExpectedCommaOrParen,
    /// A number that does not read.
    #[error("bad number '{0}'")]
    BadNumber(String),
    /// A variable, event or instance name that is not one.
    #[error("bad variable reference '[{0}]'")]
    BadName(String),
    /// A function REDCap logic does not have (or this evaluator does not know).
    #[error("unknown function '{0}'")]
    UnknownFunction(String),
    /// Too few or too many arguments.
    #[error("{function}() does not take {got} argument(s)")]
    Arity {
        /// The function.
        function: String,
        /// How many it was given.
        got: usize,
    },
    /// The expression ended too early.
    #[error("unexpected end of expression")]
    UnexpectedEnd,
    /// More after a complete expression.
    #[error("unexpected text after the end of the expression")]
    Trailing,
}

/// A record in memory: `field` → value, `event:field` for a value at another event, and
/// `field___code` = `"1"` for a ticked checkbox option (REDCap's export column names).
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// The values.
    pub values: BTreeMap<String, String>,
    /// Smart variables of the context (`event-name`, `current-instance`, …).
    pub smart: BTreeMap<String, String>,
    /// The clock for `"today"`/`"now"`.
    pub now: NaiveDateTime,
}

impl Record {
    /// A record from `(field, value)` pairs.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Record {
            values: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            ..Default::default()
        }
    }
}

impl Data for Record {
    fn value(&self, var: &VarRef) -> Option<String> {
        let mut key = var.field.clone();
        if let Some(code) = &var.code {
            key = format!("{key}___{code}");
        }
        if let Some(e) = &var.event {
            let ev = match SmartVar::from_name(e) {
                Some(s) => self.smart(s)?,
                None => e.clone(),
            };
            if self.smart.get("event-name") != Some(&ev) {
                key = format!("{ev}:{key}");
            }
        }
        self.values.get(&key).cloned()
    }

    fn smart(&self, var: SmartVar) -> Option<String> {
        let name = format!("{var:?}");
        // EventName → event-name
        let mut kebab = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                kebab.push('-');
            }
            kebab.push(c.to_ascii_lowercase());
        }
        self.smart.get(&kebab).cloned()
    }

    fn now(&self) -> NaiveDateTime {
        self.now
    }
}
