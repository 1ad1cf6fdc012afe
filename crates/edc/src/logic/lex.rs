//! Tokens with their character positions.

use super::{LogicError, LogicErrorKind};

/// One token and the 1-based character position where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tok {
    pub(super) kind: TokKind,
    pub(super) pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokKind {
    Num(f64),
    Str(String),
    /// The text between `[` and `]`.
    Bracket(String),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

pub(super) fn err(pos: usize, kind: LogicErrorKind) -> LogicError {
    LogicError {
        position: pos,
        kind,
    }
}

pub(super) fn lex(src: &str) -> Result<Vec<Tok>, LogicError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let kind = match c {
            '[' => {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && chars[j] != ']' {
                    if chars[j] == '[' {
                        return Err(err(j + 1, LogicErrorKind::Unexpected('[')));
                    }
                    j += 1;
                }
                if j == chars.len() {
                    return Err(err(pos, LogicErrorKind::UnclosedBracket));
                }
                let inner: String = chars[start..j].iter().collect();
                i = j + 1;
                TokKind::Bracket(inner.trim().to_owned())
            }
            '\'' | '"' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != c {
                    j += 1;
                }
                if j == chars.len() {
                    return Err(err(pos, LogicErrorKind::UnclosedString));
                }
                let s: String = chars[i + 1..j].iter().collect();
                i = j + 1;
                TokKind::Str(s)
            }
            '0'..='9' | '.' => {
                let mut j = i;
                while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                    j += 1;
                }
                let s: String = chars[i..j].iter().collect();
                let n: f64 = s
                    .parse()
                    .map_err(|_| err(pos, LogicErrorKind::BadNumber(s.clone())))?;
                i = j;
                TokKind::Num(n)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let s: String = chars[i..j].iter().collect();
                i = j;
                TokKind::Ident(s.to_ascii_lowercase())
            }
            '(' => {
                i += 1;
                TokKind::LParen
            }
            ')' => {
                i += 1;
                TokKind::RParen
            }
            ',' => {
                i += 1;
                TokKind::Comma
            }
            _ => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = match two.as_str() {
                    "<>" => Some("<>"),
                    "!=" => Some("!="),
                    "<=" => Some("<="),
                    ">=" => Some(">="),
                    "==" => Some("=="),
                    "&&" => Some("and"),
                    "||" => Some("or"),
                    _ => None,
                };
                if let Some(op) = op {
                    i += 2;
                    TokKind::Op(op)
                } else {
                    let op = match c {
                        '=' => "=",
                        '<' => "<",
                        '>' => ">",
                        '+' => "+",
                        '-' => "-",
                        '*' => "*",
                        '/' => "/",
                        '^' => "^",
                        other => return Err(err(pos, LogicErrorKind::Unexpected(other))),
                    };
                    i += 1;
                    TokKind::Op(op)
                }
            }
        };
        out.push(Tok { kind, pos });
    }
    Ok(out)
}
