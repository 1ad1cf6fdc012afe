//! Tokens and the recursive-descent parser of REDCap logic.
//!
//! Precedence, loosest first: `or`, `and`, `not`, comparisons (`= == <> != < > <= >=`, not
//! chained), `+ -`, `* /`, unary `-`/`+`, `^` (right-associative, as REDCap's JavaScript
//! translation to `Math.pow` nests it), then literals, variables, calls and parentheses.
//! `and`/`or`/`not`/`true`/`false` and function names are case-insensitive, as in REDCap.

use super::ast::{BinOp, Expr, Func, SmartVar, UnOp, VarRef};
use super::lex::{Tok, TokKind, err, lex};
use super::{LogicError, LogicErrorKind};

/// Parses one logic expression (branching logic or a calculation).
pub fn parse(src: &str) -> Result<Expr, LogicError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err(err(1, LogicErrorKind::Empty));
    }
    let mut p = Parser {
        toks,
        i: 0,
        end: src.chars().count() + 1,
    };
    let e = p.or()?;
    if let Some(t) = p.peek() {
        return Err(err(t.pos, LogicErrorKind::Trailing));
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Tok>,
    i: usize,
    /// The position just past the input, for "ended too early".
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok { kind: TokKind::Ident(s), .. }) if s == w)
            || matches!(self.peek(), Some(Tok { kind: TokKind::Op(s), .. }) if *s == w)
    }

    fn or(&mut self) -> Result<Expr, LogicError> {
        let mut l = self.and()?;
        while self.is_word("or") {
            self.i += 1;
            let r = self.and()?;
            l = Expr::Binary(BinOp::Or, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Expr, LogicError> {
        let mut l = self.not()?;
        while self.is_word("and") {
            self.i += 1;
            let r = self.not()?;
            l = Expr::Binary(BinOp::And, Box::new(l), Box::new(r));
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<Expr, LogicError> {
        // `not(` is also a function in REDCap; both read the same here.
        if self.is_word("not") {
            self.i += 1;
            let e = self.not()?;
            return Ok(Expr::Unary(UnOp::Not, Box::new(e)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, LogicError> {
        let l = self.add()?;
        let op = match self.peek() {
            Some(Tok {
                kind: TokKind::Op(o),
                ..
            }) => match *o {
                "=" | "==" => Some(BinOp::Eq),
                "<>" | "!=" => Some(BinOp::Ne),
                "<" => Some(BinOp::Lt),
                ">" => Some(BinOp::Gt),
                "<=" => Some(BinOp::Le),
                ">=" => Some(BinOp::Ge),
                _ => None,
            },
            _ => None,
        };
        match op {
            Some(op) => {
                self.i += 1;
                let r = self.add()?;
                Ok(Expr::Binary(op, Box::new(l), Box::new(r)))
            }
            None => Ok(l),
        }
    }

    fn add(&mut self) -> Result<Expr, LogicError> {
        let mut l = self.mul()?;
        loop {
            let op = match self.peek().map(|t| &t.kind) {
                Some(TokKind::Op("+")) => BinOp::Add,
                Some(TokKind::Op("-")) => BinOp::Sub,
                _ => return Ok(l),
            };
            self.i += 1;
            let r = self.mul()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn mul(&mut self) -> Result<Expr, LogicError> {
        let mut l = self.unary()?;
        loop {
            let op = match self.peek().map(|t| &t.kind) {
                Some(TokKind::Op("*")) => BinOp::Mul,
                Some(TokKind::Op("/")) => BinOp::Div,
                _ => return Ok(l),
            };
            self.i += 1;
            let r = self.unary()?;
            l = Expr::Binary(op, Box::new(l), Box::new(r));
        }
    }

    fn unary(&mut self) -> Result<Expr, LogicError> {
        match self.peek().map(|t| &t.kind) {
            Some(TokKind::Op("-")) => {
                self.i += 1;
                Ok(Expr::Unary(UnOp::Neg, Box::new(self.unary()?)))
            }
            Some(TokKind::Op("+")) => {
                self.i += 1;
                self.unary()
            }
            _ => self.pow(),
        }
    }

    fn pow(&mut self) -> Result<Expr, LogicError> {
        let base = self.primary()?;
        if matches!(self.peek().map(|t| &t.kind), Some(TokKind::Op("^"))) {
            self.i += 1;
            let exp = self.unary()?;
            return Ok(Expr::Binary(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Expr, LogicError> {
        let Some(t) = self.next() else {
            return Err(err(self.end, LogicErrorKind::UnexpectedEnd));
        };
        match t.kind {
            TokKind::Num(n) => Ok(Expr::Num(n)),
            TokKind::Str(s) => Ok(Expr::Str(s)),
            TokKind::LParen => {
                let e = self.or()?;
                self.expect_rparen(t.pos)?;
                Ok(e)
            }
            TokKind::Bracket(first) => self.variable(first, t.pos),
            TokKind::Ident(name) => {
                if name == "true" {
                    return Ok(Expr::Num(1.0));
                }
                if name == "false" {
                    return Ok(Expr::Num(0.0));
                }
                let Some(func) = Func::from_name(&name) else {
                    return Err(err(t.pos, LogicErrorKind::UnknownFunction(name)));
                };
                match self.next() {
                    Some(Tok {
                        kind: TokKind::LParen,
                        ..
                    }) => {}
                    Some(o) => return Err(err(o.pos, LogicErrorKind::ExpectedParen)),
                    None => return Err(err(self.end, LogicErrorKind::UnexpectedEnd)),
                }
                let mut args = Vec::new();
                if matches!(self.peek().map(|t| &t.kind), Some(TokKind::RParen)) {
                    self.i += 1;
                } else {
                    loop {
                        args.push(self.or()?);
                        match self.next() {
                            Some(Tok {
                                kind: TokKind::Comma,
                                ..
                            }) => continue,
                            Some(Tok {
                                kind: TokKind::RParen,
                                ..
                            }) => break,
                            Some(o) => {
                                return Err(err(o.pos, LogicErrorKind::ExpectedCommaOrParen));
                            }
                            None => return Err(err(t.pos, LogicErrorKind::UnclosedParen)),
                        }
                    }
                }
                let (min, max) = func.arity();
                if args.len() < min || args.len() > max {
                    return Err(err(
                        t.pos,
                        LogicErrorKind::Arity {
                            function: name,
                            got: args.len(),
                        },
                    ));
                }
                Ok(Expr::Call(func, args))
            }
            TokKind::Op(o) => Err(err(t.pos, LogicErrorKind::UnexpectedOp(o))),
            TokKind::RParen => Err(err(t.pos, LogicErrorKind::Unexpected(')'))),
            TokKind::Comma => Err(err(t.pos, LogicErrorKind::Unexpected(','))),
        }
    }

    fn expect_rparen(&mut self, open: usize) -> Result<(), LogicError> {
        match self.next() {
            Some(Tok {
                kind: TokKind::RParen,
                ..
            }) => Ok(()),
            Some(o) => Err(err(o.pos, LogicErrorKind::ExpectedCloseParen)),
            None => Err(err(open, LogicErrorKind::UnclosedParen)),
        }
    }

    /// `[var]`, `[var(code)]`, `[event][var]`, `[var][instance]`, `[event][var][instance]`, and
    /// the smart variables.
    fn variable(&mut self, first: String, pos: usize) -> Result<Expr, LogicError> {
        let mut parts = vec![(first, pos)];
        while parts.len() < 3 {
            match self.peek() {
                Some(Tok {
                    kind: TokKind::Bracket(b),
                    pos,
                }) => {
                    parts.push((b.clone(), *pos));
                    self.i += 1;
                }
                _ => break,
            }
        }
        if parts.len() == 1
            && let Some(s) = SmartVar::from_name(&parts[0].0)
        {
            return Ok(Expr::Smart(s));
        }
        // Which part is the field? `[a][b]`: event a, field b, unless b is an instance.
        let is_instance = |s: &str| {
            s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty()
                || matches!(
                    s,
                    "current-instance"
                        | "previous-instance"
                        | "next-instance"
                        | "first-instance"
                        | "last-instance"
                )
        };
        // at most three parts, the first always there: matched without indexing
        let mut rest = parts.into_iter();
        let head = rest.next().unwrap_or_else(|| (String::new(), pos));
        let (event, field, instance) = match (rest.next(), rest.next()) {
            (None, _) => (None, head, None),
            (Some(b), None) if is_instance(&b.0) => (None, head, Some(b)),
            (Some(b), None) => (Some(head), b, None),
            (Some(b), Some(c)) => (Some(head), b, Some(c)),
        };
        if let Some((e, p)) = &event
            && !valid_name(e)
            && SmartVar::from_name(e).is_none()
        {
            return Err(err(*p, LogicErrorKind::BadName(e.clone())));
        }
        let instance = match instance {
            None => None,
            Some((s, p)) if !is_instance(&s) => return Err(err(p, LogicErrorKind::BadName(s))),
            Some((s, _)) => Some(s),
        };
        let (fname, fpos) = field;
        let (name, code) = match fname.find('(') {
            Some(k) => {
                let Some(inner) = fname[k + 1..].strip_suffix(')') else {
                    return Err(err(fpos, LogicErrorKind::BadName(fname.clone())));
                };
                (fname[..k].to_owned(), Some(inner.trim().to_owned()))
            }
            None => (fname.clone(), None),
        };
        // REDCap's field modifiers (`[var:value]`, `[var:label]`) select what is shown; the
        // value is what logic compares, so the modifier is dropped.
        let name = match name.split_once(':') {
            Some((n, _)) => n.to_owned(),
            None => name,
        };
        if !valid_name(&name) || code.as_deref().is_some_and(|c| c.is_empty()) {
            return Err(err(fpos, LogicErrorKind::BadName(fname)));
        }
        Ok(Expr::Var(VarRef {
            event: event.map(|(e, _)| e),
            field: name,
            code,
            instance,
        }))
    }
}

/// A REDCap variable or event name: lower-case letters, digits and `_`, starting with a letter.
pub fn valid_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_lowercase())
        && cs.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
