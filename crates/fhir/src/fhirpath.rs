//! A FHIRPath subset: what SQL-on-FHIR v2 ViewDefinitions use (the spec's shareable profile)
//! plus the everyday functions of view authors.
//!
//! Expressions are parsed once into an [`Expr`] tree and evaluated over the tape of a
//! resource ([`Node`]: a slice of the tape, no DOM is built), so evaluation allocates only where
//! the result is new text (`join`, string constants). Polymorphic elements follow FHIR's JSON convention: `value` finds
//! `valueQuantity`, `valueString`, ... and `ofType(Quantity)` keeps the `valueQuantity` ones.
//!
//! Supported: paths, indexers, `$this`, `%constants`, `%rowIndex`, string/number/boolean
//! literals, `= != < <= > >=`, `and or xor implies not()`, `+ - * /` (and `&` for strings),
//! `|` (union), and the functions `where select exists empty first last tail count distinct
//! join not ofType getResourceKey getReferenceKey extension lowBoundary highBoundary hasValue
//! toString startsWith contains all iif`.

pub use crate::tape::Node;
use crate::tape::Scalar;
pub(crate) use crate::tape::same_bytes;
use crate::tape::{Array, Object};

/// A node by kind.
pub enum Kind<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A whole number above `i64::MAX`.
    UInt(u64),
    /// A number with a fraction or exponent.
    Dec(f64),
    /// A string (unescaped, borrowed from the input).
    Str(&'a str),
    /// An object.
    Obj(Object<'a>),
    /// An array.
    Arr(Array<'a>),
}

/// The kind of a node.
#[inline]
pub fn kind(v: Node<'_>) -> Kind<'_> {
    if let Some(s) = v.as_str() {
        return Kind::Str(s);
    }
    if let Some(o) = v.as_object() {
        return Kind::Obj(o);
    }
    if let Some(a) = v.as_array() {
        return Kind::Arr(a);
    }
    match v.as_scalar() {
        Some(Scalar::Bool(b)) => Kind::Bool(b),
        Some(Scalar::I64(n)) => Kind::Int(n),
        Some(Scalar::U64(n)) => Kind::UInt(n),
        Some(Scalar::F64(f, _)) => Kind::Dec(f),
        _ => Kind::Null,
    }
}

/// The member `key` of an object node.
#[inline]
pub fn get<'a>(v: Node<'a>, key: &str) -> Option<Node<'a>> {
    v.as_object()?.get(key)
}

/// The string member `key` of an object node.
#[inline]
pub fn get_str<'a>(v: Node<'a>, key: &str) -> Option<&'a str> {
    get(v, key)?.as_str()
}
use crate::bundle::RefScope;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::fmt;

/// A parse error, with the byte offset in the expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("FHIRPath `{expr}` at {offset}: {message}")]
pub struct ParseError {
    /// The expression.
    pub expr: String,
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// An evaluation error (e.g. a function applied to more than one item where one is required).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// A literal or constant value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// Text (also dates and codes given as strings).
    Str(String),
    /// Integer.
    Int(i64),
    /// Decimal.
    Dec(f64),
    /// Boolean.
    Bool(bool),
    /// `{}`: the empty collection.
    Empty,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `and`
    And,
    /// `or`
    Or,
    /// `xor`
    Xor,
    /// `implies`
    Implies,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `&` (string concatenation treating empty as '')
    Concat,
    /// `|`
    Union,
}

/// A parsed FHIRPath expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `$this`: the focus.
    This,
    /// `%name`.
    Var(String),
    /// A literal.
    Lit(Lit),
    /// `base.name` (base `None` = the focus).
    Member(Option<Box<Expr>>, String),
    /// `base[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// `base.fn(args)` (base `None` = the focus).
    Call(Option<Box<Expr>>, String, Vec<Expr>),
    /// `-x`.
    Neg(Box<Expr>),
    /// `a op b`.
    Bin(BinOp, Box<Expr>, Box<Expr>),
}

// ---------------------------------------------------------------------------------------------
// lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Var(String),
    This,
    Sym(&'static str),
    End,
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let err = |offset: usize, message: &str| ParseError {
        expr: src.to_owned(),
        offset,
        message: message.to_owned(),
    };
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err(err(start, "unterminated string")),
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') => {
                        let esc = *b.get(i + 1).ok_or_else(|| err(i, "dangling escape"))?;
                        s.push(match esc {
                            b'n' => '\n',
                            b't' => '\t',
                            b'r' => '\r',
                            b'f' => '\u{c}',
                            other => other as char,
                        });
                        i += 2;
                    }
                    Some(_) => {
                        let ch = src[i..].chars().next().expect("in bounds");
                        s.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            out.push((start, Tok::Str(s)));
        } else if c == b'`' {
            let end = src[i + 1..]
                .find('`')
                .ok_or_else(|| err(start, "unterminated `identifier`"))?;
            out.push((start, Tok::Ident(src[i + 1..i + 1 + end].to_owned())));
            i += end + 2;
        } else if c.is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            out.push((start, Tok::Num(src[start..i].to_owned())));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((start, Tok::Ident(src[start..i].to_owned())));
        } else if c == b'%' {
            i += 1;
            if b.get(i) == Some(&b'`') || b.get(i) == Some(&b'\'') {
                let q = b[i];
                let end = src[i + 1..]
                    .find(q as char)
                    .ok_or_else(|| err(start, "unterminated %name"))?;
                out.push((start, Tok::Var(src[i + 1..i + 1 + end].to_owned())));
                i += end + 2;
            } else {
                let s = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                if s == i {
                    return Err(err(start, "expected a name after %"));
                }
                out.push((start, Tok::Var(src[s..i].to_owned())));
            }
        } else if c == b'$' {
            if src[i..].starts_with("$this") {
                out.push((start, Tok::This));
                i += 5;
            } else {
                return Err(err(start, "only $this is supported"));
            }
        } else {
            let two = src.get(i..i + 2).unwrap_or("");
            let sym: &'static str = match two {
                "!=" => "!=",
                "<=" => "<=",
                ">=" => ">=",
                _ => match c {
                    b'.' => ".",
                    b'(' => "(",
                    b')' => ")",
                    b'[' => "[",
                    b']' => "]",
                    b',' => ",",
                    b'=' => "=",
                    b'<' => "<",
                    b'>' => ">",
                    b'+' => "+",
                    b'-' => "-",
                    b'*' => "*",
                    b'/' => "/",
                    b'|' => "|",
                    b'&' => "&",
                    b'{' => "{",
                    b'}' => "}",
                    _ => {
                        return Err(err(
                            start,
                            &format!(
                                "unexpected character `{}`",
                                src[i..].chars().next().unwrap_or(' ')
                            ),
                        ));
                    }
                },
            };
            i += sym.len();
            out.push((start, Tok::Sym(sym)));
        }
    }
    out.push((src.len(), Tok::End));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// parser (precedence climbing, FHIRPath operator precedence)

struct Parser<'s> {
    src: &'s str,
    toks: Vec<(usize, Tok)>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].1
    }
    fn offset(&self) -> usize {
        self.toks[self.pos].0
    }
    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].1.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            expr: self.src.to_owned(),
            offset: self.offset(),
            message: message.into(),
        }
    }
    fn expect(&mut self, sym: &'static str) -> Result<(), ParseError> {
        if *self.peek() == Tok::Sym(sym) {
            self.next();
            Ok(())
        } else {
            Err(self.err(format!("expected `{sym}`")))
        }
    }

    fn binop(&self) -> Option<(BinOp, u8)> {
        // higher binds tighter
        Some(match self.peek() {
            Tok::Sym("*") => (BinOp::Mul, 9),
            Tok::Sym("/") => (BinOp::Div, 9),
            Tok::Sym("+") => (BinOp::Add, 8),
            Tok::Sym("-") => (BinOp::Sub, 8),
            Tok::Sym("&") => (BinOp::Concat, 8),
            Tok::Sym("|") => (BinOp::Union, 6),
            Tok::Sym("<") => (BinOp::Lt, 5),
            Tok::Sym("<=") => (BinOp::Le, 5),
            Tok::Sym(">") => (BinOp::Gt, 5),
            Tok::Sym(">=") => (BinOp::Ge, 5),
            Tok::Sym("=") => (BinOp::Eq, 4),
            Tok::Sym("!=") => (BinOp::Ne, 4),
            Tok::Ident(w) if w == "and" => (BinOp::And, 2),
            Tok::Ident(w) if w == "or" => (BinOp::Or, 1),
            Tok::Ident(w) if w == "xor" => (BinOp::Xor, 1),
            Tok::Ident(w) if w == "implies" => (BinOp::Implies, 0),
            _ => return None,
        })
    }

    fn expr(&mut self, min_prec: u8) -> Result<Expr, ParseError> {
        let mut lhs = self.unary()?;
        while let Some((op, prec)) = self.binop() {
            if prec < min_prec {
                break;
            }
            self.next();
            let rhs = self.expr(prec + 1)?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Tok::Sym("-") => {
                self.next();
                Ok(Expr::Neg(Box::new(self.unary()?)))
            }
            Tok::Sym("+") => {
                self.next();
                self.unary()
            }
            _ => self.postfix(),
        }
    }

    fn args(&mut self) -> Result<Vec<Expr>, ParseError> {
        self.expect("(")?;
        let mut args = Vec::new();
        if *self.peek() != Tok::Sym(")") {
            loop {
                args.push(self.expr(0)?);
                if *self.peek() == Tok::Sym(",") {
                    self.next();
                } else {
                    break;
                }
            }
        }
        self.expect(")")?;
        Ok(args)
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let off = self.offset();
        match self.next() {
            Tok::Str(s) => Ok(Expr::Lit(Lit::Str(s))),
            Tok::Num(n) => Ok(if n.contains('.') {
                Expr::Lit(Lit::Dec(n.parse().map_err(|_| self.err("bad number"))?))
            } else {
                Expr::Lit(Lit::Int(
                    n.parse().map_err(|_| self.err("integer out of range"))?,
                ))
            }),
            Tok::Var(v) => Ok(Expr::Var(v)),
            Tok::This => Ok(Expr::This),
            Tok::Sym("(") => {
                let e = self.expr(0)?;
                self.expect(")")?;
                Ok(e)
            }
            Tok::Sym("{") => {
                self.expect("}")?;
                Ok(Expr::Lit(Lit::Empty))
            }
            Tok::Ident(w) if w == "true" => Ok(Expr::Lit(Lit::Bool(true))),
            Tok::Ident(w) if w == "false" => Ok(Expr::Lit(Lit::Bool(false))),
            Tok::Ident(name) => {
                if *self.peek() == Tok::Sym("(") {
                    let args = self.args()?;
                    Ok(Expr::Call(None, name, args))
                } else {
                    Ok(Expr::Member(None, name))
                }
            }
            other => Err(ParseError {
                expr: self.src.to_owned(),
                offset: off,
                message: format!("unexpected {}", describe(&other)),
            }),
        }
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.term()?;
        loop {
            match self.peek() {
                Tok::Sym(".") => {
                    self.next();
                    let name = match self.next() {
                        Tok::Ident(n) => n,
                        other => {
                            return Err(self.err(format!(
                                "expected a name after `.`, found {}",
                                describe(&other)
                            )));
                        }
                    };
                    if *self.peek() == Tok::Sym("(") {
                        let args = self.args()?;
                        e = Expr::Call(Some(Box::new(e)), name, args);
                    } else {
                        e = Expr::Member(Some(Box::new(e)), name);
                    }
                }
                Tok::Sym("[") => {
                    self.next();
                    let idx = self.expr(0)?;
                    self.expect("]")?;
                    e = Expr::Index(Box::new(e), Box::new(idx));
                }
                _ => return Ok(e),
            }
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Num(n) => n.clone(),
        Tok::Var(v) => format!("%{v}"),
        Tok::This => "$this".into(),
        Tok::Sym(s) => format!("`{s}`"),
        Tok::End => "end of expression".into(),
    }
}

const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("where", 1, 1),
    ("select", 1, 1),
    ("exists", 0, 1),
    ("all", 1, 1),
    ("empty", 0, 0),
    ("first", 0, 0),
    ("last", 0, 0),
    ("tail", 0, 0),
    ("count", 0, 0),
    ("distinct", 0, 0),
    ("join", 0, 1),
    ("not", 0, 0),
    ("ofType", 1, 1),
    ("getResourceKey", 0, 0),
    ("getReferenceKey", 0, 1),
    ("extension", 1, 1),
    ("lowBoundary", 0, 1),
    ("highBoundary", 0, 1),
    ("hasValue", 0, 0),
    ("toString", 0, 0),
    ("startsWith", 1, 1),
    ("contains", 1, 1),
    ("iif", 2, 3),
];

fn check_calls(e: &Expr, src: &str) -> Result<(), ParseError> {
    let err = |message: String| ParseError {
        expr: src.to_owned(),
        offset: 0,
        message,
    };
    match e {
        Expr::Call(base, name, args) => {
            let Some((_, min, max)) = FUNCTIONS.iter().find(|(n, _, _)| n == name) else {
                return Err(err(format!("unknown function `{name}()`")));
            };
            if args.len() < *min || args.len() > *max {
                return Err(err(format!(
                    "`{name}()` takes {min}..={max} arguments, got {}",
                    args.len()
                )));
            }
            if let Some(b) = base {
                check_calls(b, src)?;
            }
            for a in args {
                // type specifiers are names, not paths
                if !matches!(name.as_str(), "ofType" | "getReferenceKey") {
                    check_calls(a, src)?;
                }
            }
            Ok(())
        }
        Expr::Member(Some(b), _) | Expr::Neg(b) => check_calls(b, src),
        Expr::Index(a, b) | Expr::Bin(_, a, b) => {
            check_calls(a, src)?;
            check_calls(b, src)
        }
        _ => Ok(()),
    }
}

/// Parses a FHIRPath expression.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser { src, toks, pos: 0 };
    if *p.peek() == Tok::End {
        return Err(p.err("empty expression"));
    }
    let e = p.expr(0)?;
    if *p.peek() != Tok::End {
        return Err(p.err(format!("unexpected {}", describe(p.peek()))));
    }
    check_calls(&e, src)?;
    Ok(e)
}

// ---------------------------------------------------------------------------------------------
// values

/// One item of a FHIRPath collection.
#[derive(Debug, Clone)]
pub enum Item<'a> {
    /// A node of the resource; the second field is the FHIR type named by a choice element's
    /// suffix (`valueQuantity` → `Quantity`), if it was reached through one.
    Node(Node<'a>, Option<&'a str>),
    /// Text computed during evaluation, or a string constant.
    Str(Cow<'a, str>),
    /// Integer.
    Int(i64),
    /// Decimal.
    Dec(f64),
    /// Boolean.
    Bool(bool),
}

/// A FHIRPath collection (small collections stay on the stack).
pub type Coll<'a> = SmallVec<[Item<'a>; 2]>;

/// A primitive view of an item.
#[derive(Debug, Clone, PartialEq)]
pub enum Prim<'a> {
    /// Text.
    Str(&'a str),
    /// Integer.
    Int(i64),
    /// Decimal.
    Dec(f64),
    /// Boolean.
    Bool(bool),
}

impl<'a> Item<'a> {
    /// The item as a primitive, if it is one (objects and arrays are not).
    pub fn prim(&self) -> Option<Prim<'_>> {
        match self {
            Item::Node(v, _) => match kind(*v) {
                Kind::Str(s) => Some(Prim::Str(s)),
                Kind::Bool(b) => Some(Prim::Bool(b)),
                Kind::Int(n) => Some(Prim::Int(n)),
                Kind::UInt(n) => Some(
                    i64::try_from(n)
                        .map(Prim::Int)
                        .unwrap_or(Prim::Dec(n as f64)),
                ),
                Kind::Dec(f) => Some(Prim::Dec(f)),
                _ => None,
            },
            Item::Str(s) => Some(Prim::Str(s)),
            Item::Int(n) => Some(Prim::Int(*n)),
            Item::Dec(f) => Some(Prim::Dec(*f)),
            Item::Bool(b) => Some(Prim::Bool(*b)),
        }
    }

    pub(crate) fn node(&self) -> Option<Node<'a>> {
        match self {
            Item::Node(v, _) => Some(*v),
            _ => None,
        }
    }
}

fn num(p: &Prim<'_>) -> Option<f64> {
    match p {
        Prim::Int(n) => Some(*n as f64),
        Prim::Dec(f) => Some(*f),
        _ => None,
    }
}

/// The evaluation environment: constants and the row index.
pub struct Env<'c> {
    /// `%name` constants of the view.
    pub constants: &'c [(String, Lit)],
    /// `%rowIndex`.
    pub row_index: i64,
    /// Strict mode (ingest): a malformed reference is an error instead of an empty result.
    pub strict: bool,
    /// Where references resolve: the `fullUrl`s of the resource's Bundle, and the note of those
    /// that resolve to nothing (None: read from the reference text alone).
    pub refs: Option<&'c RefScope>,
}

impl fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("row_index", &self.row_index)
            .finish()
    }
}

fn lit_item<'a>(l: &Lit, out: &mut Coll<'a>) {
    match l {
        Lit::Str(s) => out.push(Item::Str(Cow::Owned(s.clone()))),
        Lit::Int(n) => out.push(Item::Int(*n)),
        Lit::Dec(f) => out.push(Item::Dec(*f)),
        Lit::Bool(b) => out.push(Item::Bool(*b)),
        Lit::Empty => {}
    }
}

/// Adds a member's value as items: an array's non-null elements, nothing for `null`, else itself;
/// `ty` is the type a choice element's name gave it.
pub(crate) fn push_child<'a>(child: Node<'a>, ty: Option<&'a str>, out: &mut Coll<'a>) {
    match kind(child) {
        Kind::Arr(items) => out.extend(
            items
                .iter()
                .filter(|i| !matches!(kind(*i), Kind::Null))
                .map(|i| Item::Node(i, ty)),
        ),
        Kind::Null => {}
        _ => out.push(Item::Node(child, ty)),
    }
}

/// The member `name` of an object, FHIR's way: the element itself if present, else the
/// choice-typed ones in document order (`value` → `valueQuantity`, `valueString`, ...).
pub(crate) enum Member<'a> {
    /// The element under its own name.
    Exact(Node<'a>),
    /// Choice-typed elements with the type their name gives (none: absent).
    Choices(SmallVec<[(Node<'a>, &'a str); 2]>),
}

/// Finds the member `name` of a node in one pass over its members (nothing if not an object).
pub(crate) fn member<'a>(v: Node<'a>, name: &str) -> Member<'a> {
    let mut choices = SmallVec::new();
    let Some(map) = v.as_object() else {
        return Member::Choices(choices);
    };
    for (k, child) in map.iter() {
        match key_matches(k, name) {
            KeyMatch::Exact => return Member::Exact(child),
            KeyMatch::Choice => choices.push((child, &k[name.len()..])),
            KeyMatch::No => {}
        }
    }
    Member::Choices(choices)
}

/// How an object key relates to an element name.
#[derive(PartialEq)]
pub(crate) enum KeyMatch {
    No,
    /// The element itself.
    Exact,
    /// A choice-typed form of it (`valueQuantity` for `value`).
    Choice,
}

/// Whether key `k` is element `name` or a choice-typed form of it.
#[inline(always)]
pub(crate) fn key_matches(k: &str, name: &str) -> KeyMatch {
    let (k, n) = (k.as_bytes(), name.as_bytes());
    // most keys differ in their first byte or their length: test those before whole keys
    if k.len() < n.len() || k.first() != n.first() {
        return KeyMatch::No;
    }
    if k.len() == n.len() {
        return if same_bytes(k, n) {
            KeyMatch::Exact
        } else {
            KeyMatch::No
        };
    }
    if k[n.len()].is_ascii_uppercase() && same_bytes(&k[..n.len()], n) {
        KeyMatch::Choice
    } else {
        KeyMatch::No
    }
}

/// Whether a node has the member `name` under its own name (`Exact`), only in choice-typed
/// forms (`Choices`: read them with [`member`]), or not at all.
pub(crate) enum Found<'a> {
    Exact(Node<'a>),
    Choices,
    Absent,
}

/// [`member`] without collecting choice-typed forms: the common case of a plain element.
pub(crate) fn find_member<'a>(v: Node<'a>, name: &str) -> Found<'a> {
    let Some(map) = v.as_object() else {
        return Found::Absent;
    };
    let mut choices = false;
    for (k, child) in map.iter() {
        match key_matches(k, name) {
            KeyMatch::Exact => return Found::Exact(child),
            KeyMatch::Choice => choices = true,
            KeyMatch::No => {}
        }
    }
    if choices {
        Found::Choices
    } else {
        Found::Absent
    }
}

/// Adds the children named `name` of a node (flattening arrays, following choice types).
pub(crate) fn children<'a>(v: Node<'a>, name: &str, out: &mut Coll<'a>) {
    match member(v, name) {
        Member::Exact(child) => push_child(child, None, out),
        Member::Choices(cs) => cs
            .into_iter()
            .for_each(|(child, ty)| push_child(child, Some(ty), out)),
    }
}

fn singleton<'x>(c: &'x Coll<'_>, what: &str) -> Result<Option<&'x Item<'x>>, EvalError> {
    match c.len() {
        0 => Ok(None),
        1 => Ok(Some(&c[0])),
        n => Err(EvalError(format!("{what} expects a single item, got {n}"))),
    }
}

/// Boolean value of a collection per FHIRPath singleton evaluation: empty → None.
pub(crate) fn truth(c: &Coll<'_>) -> Result<Option<bool>, EvalError> {
    match singleton(c, "a boolean test")? {
        None => Ok(None),
        Some(i) => match i.prim() {
            Some(Prim::Bool(b)) => Ok(Some(b)),
            // a single non-boolean item counts as true (FHIRPath singleton evaluation)
            Some(_) | None => Ok(Some(true)),
        },
    }
}

fn prim_eq(a: &Prim<'_>, b: &Prim<'_>) -> Option<bool> {
    match (a, b) {
        (Prim::Str(x), Prim::Str(y)) => Some(x == y),
        (Prim::Bool(x), Prim::Bool(y)) => Some(x == y),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => Some(x == y),
            _ => Some(false),
        },
    }
}

fn prim_cmp(a: &Prim<'_>, b: &Prim<'_>) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Prim::Str(x), Prim::Str(y)) => Some(x.cmp(y)),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => None,
        },
    }
}

fn item_eq(a: &Item<'_>, b: &Item<'_>) -> bool {
    match (a.prim(), b.prim()) {
        (Some(x), Some(y)) => prim_eq(&x, &y).unwrap_or(false),
        (None, None) => match (a.node(), b.node()) {
            (Some(x), Some(y)) => json_eq(x, y),
            _ => false,
        },
        _ => false,
    }
}

fn json_eq(a: Node<'_>, b: Node<'_>) -> bool {
    match (kind(a), kind(b)) {
        (Kind::Obj(x), Kind::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        (Kind::Arr(x), Kind::Arr(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(v, w)| json_eq(v, w))
        }
        (Kind::Str(x), Kind::Str(y)) => x == y,
        (Kind::Null, Kind::Null) => true,
        (Kind::Bool(x), Kind::Bool(y)) => x == y,
        (Kind::Int(x), Kind::Int(y)) => x == y,
        (Kind::UInt(x), Kind::UInt(y)) => x == y,
        (Kind::Dec(x), Kind::Dec(y)) => x == y,
        _ => false,
    }
}

/// The key of a reference string: the id after the type (`Patient/123` → `123`), optionally
/// requiring the type. Absolute URLs are read from their last two segments; `#contained` and
/// `urn:uuid:` references yield their id when no type is required (their type is not stated).
pub fn reference_key<'s>(reference: &'s str, want_type: Option<&str>) -> Option<&'s str> {
    let (ty, id) = split_reference(reference)?;
    match want_type {
        Some(w) => (ty == Some(w)).then_some(id),
        None => Some(id),
    }
}

/// A reference string as (type, id); the type is None for `urn:uuid:` / `urn:oid:` and contained
/// (`#id`) references.
fn split_reference(reference: &str) -> Option<(Option<&str>, &str)> {
    match split_relative(reference) {
        Some((ty, id)) => Some((Some(ty), id)),
        None => split_reference_general(reference),
    }
}

/// A relative `Type/id` (the common form) as (type, id), in one pass from the end: the last two
/// segments, and the whole text seen, so no `_history` can hide in it; None for any other form.
#[inline(always)]
fn split_relative(reference: &str) -> Option<(&str, &str)> {
    let b = reference.as_bytes();
    if !matches!(b.first(), Some(b'u' | b'#'))
        && let Some(s) = lone_slash(b)
        && s > 0
        && s + 1 < b.len()
    {
        return Some((&reference[..s], &reference[s + 1..]));
    }
    None
}

/// The position of the only `/` of `b` if it has exactly one and no `_` or `?` (a version or a
/// conditional reference): eight bytes at a time, each byte equal to `/`, `_` or `?` found by
/// word arithmetic, with no loop over bytes.
fn lone_slash(b: &[u8]) -> Option<usize> {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // the high bit of each byte of `w` that is `c`: a byte of `w ^ c…c` is zero exactly when
    // neither its low seven bits (added to 0x7f, they carry into the high bit) nor its high bit
    // are set; no carry crosses into the next byte
    let equal = |w: u64, c: u8| {
        let x = w ^ (0x0101_0101_0101_0101 * c as u64);
        !(((x & LOW7) + LOW7) | x | LOW7)
    };
    let words = b.chunks_exact(8);
    // the last bytes, short of a word, in a word of their own padded with zeros, shifted in
    // within a register: copied into a stack array, they were written a byte or a few at a time
    // and read back as one word, which stalled store-to-load forwarding (a quarter of this
    // function's time)
    let tail = words
        .remainder()
        .iter()
        .rev()
        .fold(0u64, |t, &c| (t << 8) | u64::from(c));
    let mut slash = None;
    for (k, w) in words
        .map(|w| u64::from_le_bytes(<[u8; 8]>::try_from(w).unwrap_or_default()))
        .chain([tail])
        .enumerate()
    {
        if equal(w, b'_') | equal(w, b'?') != 0 {
            return None;
        }
        let m = equal(w, b'/');
        if m != 0 {
            if slash.is_some() || m.count_ones() > 1 {
                return None;
            }
            slash = Some(k * 8 + (m.trailing_zeros() / 8) as usize);
        }
    }
    slash
}

/// A conditional reference, `Type?search` (Synthea and other exporters write them in
/// transaction Bundles for the receiving server to resolve): never a key of its own.
fn is_conditional(r: &str) -> bool {
    memchr::memchr(b'?', r.as_bytes()).is_some()
}

/// [`split_reference`] of any form: versioned (`/_history/`), absolute, `urn:`, contained.
fn split_reference_general(reference: &str) -> Option<(Option<&str>, &str)> {
    static HISTORY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("/_history/"));
    let r = match reference
        .as_bytes()
        .contains(&b'_')
        .then(|| HISTORY.find(reference.as_bytes()))
        .flatten()
    {
        Some(i) => &reference[..i],
        None => reference,
    };
    if let Some(id) = r
        .strip_prefix("urn:uuid:")
        .or_else(|| r.strip_prefix("urn:oid:"))
    {
        return Some((None, id));
    }
    // a conditional reference (`Organization?identifier=…`) is a search, not a key
    if is_conditional(r) {
        return None;
    }
    // a contained resource (`#med1`): its local id, of no stated type
    if let Some(id) = r.strip_prefix('#') {
        return (!id.is_empty()).then_some((None, id));
    }
    // `[...]/Type/id`: the last two segments
    let bytes = r.as_bytes();
    let slash = bytes.iter().rposition(|&b| b == b'/')?;
    let id = &r[slash + 1..];
    if id.is_empty() {
        return None;
    }
    let ty = &r[bytes[..slash]
        .iter()
        .rposition(|&b| b == b'/')
        .map_or(0, |p| p + 1)..slash];
    Some((Some(ty), id))
}

/// Evaluates `e` with `focus` as `$this`; `resource` is the resource being viewed.
pub fn eval<'a>(
    e: &Expr,
    focus: &Coll<'a>,
    resource: Node<'a>,
    env: &Env<'_>,
) -> Result<Coll<'a>, EvalError> {
    let mut out = Coll::new();
    match e {
        Expr::This => out.extend(focus.iter().cloned()),
        Expr::Lit(l) => lit_item(l, &mut out),
        Expr::Var(name) => {
            if name == "rowIndex" {
                out.push(Item::Int(env.row_index));
            } else if name == "resource" || name == "rootResource" {
                out.push(Item::Node(resource, None));
            } else if let Some((_, l)) = env.constants.iter().find(|(n, _)| n == name) {
                lit_item(l, &mut out);
            } else {
                return Err(EvalError(format!("undefined constant %{name}")));
            }
        }
        Expr::Member(base, name) => {
            let base_coll;
            let input = match base {
                Some(b) => {
                    base_coll = eval(b, focus, resource, env)?;
                    &base_coll
                }
                None => focus,
            };
            for item in input {
                if let Item::Node(v, _) = item {
                    // `Patient.name`: a leading type name refers to the resource itself
                    if base.is_none()
                        && name.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
                        && get_str(*v, "resourceType") == Some(name.as_str())
                    {
                        out.push(item.clone());
                    } else {
                        children(*v, name, &mut out);
                    }
                }
            }
        }
        Expr::Index(base, idx) => {
            let b = eval(base, focus, resource, env)?;
            let i = eval(idx, focus, resource, env)?;
            if let Some(Prim::Int(n)) = singleton(&i, "an index")?.and_then(|x| x.prim()) {
                if n >= 0
                    && let Some(item) = b.into_iter().nth(n as usize)
                {
                    out.push(item);
                }
            } else if !i.is_empty() {
                return Err(EvalError("an index must be an integer".into()));
            }
        }
        Expr::Neg(x) => {
            let v = eval(x, focus, resource, env)?;
            match singleton(&v, "unary minus")?.and_then(|i| i.prim()) {
                Some(Prim::Int(n)) => out.push(Item::Int(-n)),
                Some(Prim::Dec(f)) => out.push(Item::Dec(-f)),
                None => {}
                Some(_) => return Err(EvalError("unary minus needs a number".into())),
            }
        }
        Expr::Bin(op, a, b) => return binary(*op, a, b, focus, resource, env),
        Expr::Call(base, name, args) => {
            let base_coll;
            let input = match base {
                Some(b) => {
                    base_coll = eval(b, focus, resource, env)?;
                    &base_coll
                }
                None => focus,
            };
            return call(name, args, input, resource, env);
        }
    }
    Ok(out)
}

/// The three-valued table of `and`, `or`, `xor` and `implies` (None: empty).
pub(crate) fn logic(op: BinOp, x: Option<bool>, y: Option<bool>) -> Option<bool> {
    match op {
        BinOp::And => match (x, y) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        BinOp::Or => match (x, y) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        BinOp::Xor => match (x, y) {
            (Some(p), Some(q)) => Some(p != q),
            _ => None,
        },
        _ => match (x, y) {
            (Some(false), _) => Some(true),
            (Some(true), y) => y,
            (None, Some(true)) => Some(true),
            _ => None,
        },
    }
}

fn binary<'a>(
    op: BinOp,
    a: &Expr,
    b: &Expr,
    focus: &Coll<'a>,
    resource: Node<'a>,
    env: &Env<'_>,
) -> Result<Coll<'a>, EvalError> {
    let mut out = Coll::new();
    match op {
        BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Implies => {
            let x = truth(&eval(a, focus, resource, env)?)?;
            let y = truth(&eval(b, focus, resource, env)?)?;
            let r = logic(op, x, y);
            if let Some(r) = r {
                out.push(Item::Bool(r));
            }
        }
        BinOp::Union => {
            let mut all = eval(a, focus, resource, env)?;
            all.extend(eval(b, focus, resource, env)?);
            for item in all {
                if !out.iter().any(|o| item_eq(o, &item)) {
                    out.push(item);
                }
            }
        }
        BinOp::Eq | BinOp::Ne => {
            let x = eval(a, focus, resource, env)?;
            // `path = 'text'`, the common case: compared without copying the literal
            if let Expr::Lit(Lit::Str(lit)) = b {
                if x.is_empty() {
                    return Ok(out);
                }
                let eq = x.len() == 1 && x[0].prim() == Some(Prim::Str(lit));
                out.push(Item::Bool(if op == BinOp::Eq { eq } else { !eq }));
                return Ok(out);
            }
            let y = eval(b, focus, resource, env)?;
            if x.is_empty() || y.is_empty() {
                return Ok(out);
            }
            let eq = x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| item_eq(p, q));
            out.push(Item::Bool(if op == BinOp::Eq { eq } else { !eq }));
        }
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let x = eval(a, focus, resource, env)?;
            let y = eval(b, focus, resource, env)?;
            let (Some(p), Some(q)) = (
                singleton(&x, "a comparison")?,
                singleton(&y, "a comparison")?,
            ) else {
                return Ok(out);
            };
            let (Some(p), Some(q)) = (p.prim(), q.prim()) else {
                return Err(EvalError("comparison of non-primitive values".into()));
            };
            let Some(ord) = prim_cmp(&p, &q) else {
                return Err(EvalError("comparison of incompatible types".into()));
            };
            use std::cmp::Ordering::*;
            let r = match op {
                BinOp::Lt => ord == Less,
                BinOp::Le => ord != Greater,
                BinOp::Gt => ord == Greater,
                _ => ord != Less,
            };
            out.push(Item::Bool(r));
        }
        BinOp::Concat => {
            let x = eval(a, focus, resource, env)?;
            let y = eval(b, focus, resource, env)?;
            let s = |c: &Coll<'_>| -> Result<String, EvalError> {
                Ok(match singleton(c, "&")?.and_then(|i| i.prim()) {
                    Some(Prim::Str(s)) => s.to_owned(),
                    Some(p) => prim_text(&p),
                    None => String::new(),
                })
            };
            out.push(Item::Str(Cow::Owned(s(&x)? + &s(&y)?)));
        }
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
            let x = eval(a, focus, resource, env)?;
            let y = eval(b, focus, resource, env)?;
            let (Some(p), Some(q)) = (singleton(&x, "arithmetic")?, singleton(&y, "arithmetic")?)
            else {
                return Ok(out);
            };
            let (Some(p), Some(q)) = (p.prim(), q.prim()) else {
                return Err(EvalError("arithmetic on non-primitive values".into()));
            };
            match (op, &p, &q) {
                (BinOp::Add, Prim::Str(s), Prim::Str(t)) => {
                    out.push(Item::Str(Cow::Owned(format!("{s}{t}"))))
                }
                (_, Prim::Int(m), Prim::Int(n)) if op != BinOp::Div => {
                    let r = match op {
                        BinOp::Add => m.checked_add(*n),
                        BinOp::Sub => m.checked_sub(*n),
                        _ => m.checked_mul(*n),
                    };
                    if let Some(r) = r {
                        out.push(Item::Int(r));
                    }
                }
                _ => {
                    let (Some(m), Some(n)) = (num(&p), num(&q)) else {
                        return Err(EvalError("arithmetic needs numbers".into()));
                    };
                    match op {
                        BinOp::Add => out.push(Item::Dec(m + n)),
                        BinOp::Sub => out.push(Item::Dec(m - n)),
                        BinOp::Mul => out.push(Item::Dec(m * n)),
                        _ => {
                            if n != 0.0 {
                                out.push(Item::Dec(m / n));
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

fn prim_text(p: &Prim<'_>) -> String {
    match p {
        Prim::Str(s) => (*s).to_owned(),
        Prim::Int(n) => n.to_string(),
        Prim::Dec(f) => f.to_string(),
        Prim::Bool(b) => b.to_string(),
    }
}

pub(crate) fn type_name(e: &Expr) -> Result<&str, EvalError> {
    match e {
        Expr::Member(None, n) => Ok(n),
        Expr::Member(Some(ns), n) if matches!(ns.as_ref(), Expr::Member(None, q) if q == "FHIR" || q == "System") => {
            Ok(n)
        }
        _ => Err(EvalError("expected a type name".into())),
    }
}

/// Whether an item is of the FHIR type `ty` (for `ofType`); type names are compared as
/// [`same_type`] does.
pub(crate) fn is_type(item: &Item<'_>, ty: &str) -> bool {
    let is = |name: &str| same_type(ty, name);
    match item {
        Item::Node(_, Some(t)) => same_type(t, ty),
        Item::Node(v, None) => match kind(*v) {
            Kind::Str(_) => is("string"),
            Kind::Bool(_) => is("boolean"),
            Kind::Int(_) | Kind::UInt(_) => is("integer") || is("decimal"),
            Kind::Dec(_) => is("decimal"),
            Kind::Obj(_) => get_str(*v, "resourceType") == Some(ty),
            _ => false,
        },
        Item::Str(_) => is("string"),
        Item::Int(_) => is("integer"),
        Item::Dec(_) => is("decimal"),
        Item::Bool(_) => is("boolean"),
    }
}

/// Whether two type names are the same but for the case of the first letter: a choice element's
/// suffix capitalises the type (`valueDateTime`, `valueString`), FHIR's own names do not
/// (`dateTime`, `string`), and FHIRPath's system types are capitalised (`String`).
#[inline(always)]
fn same_type(a: &str, b: &str) -> bool {
    match (a.as_bytes().split_first(), b.as_bytes().split_first()) {
        (Some((x, a)), Some((y, b))) => x.eq_ignore_ascii_case(y) && same_bytes(a, b),
        _ => false,
    }
}

/// `getResourceKey()` of one item: its `id`, if a string.
pub(crate) fn resource_key<'a>(item: &Item<'a>, out: &mut Coll<'a>) {
    if let Some(id) = item.node().and_then(|n| get(n, "id"))
        && id.as_str().is_some()
    {
        out.push(Item::Node(id, None));
    }
}

/// `getReferenceKey(want)` of one item. In strict mode an item that is not a Reference, or whose
/// `reference` is not a string or not of the form `Type/id`, is an error.
///
/// With a scope ([`RefScope`]), `urn:uuid:`, `urn:oid:` and absolute references resolve to the
/// Bundle entry whose `fullUrl` they are; an `urn:` reference to no entry is noted there.
pub(crate) fn reference_key_of<'a>(
    item: &Item<'a>,
    want: Option<&str>,
    strict: bool,
    refs: Option<&RefScope>,
) -> Result<Option<Item<'a>>, EvalError> {
    let reference = match item.node() {
        Some(n) if n.as_object().is_some() => get(n, "reference"),
        _ if strict => {
            return Err(EvalError(
                "is not a Reference (an object with `reference`)".into(),
            ));
        }
        _ => None,
    };
    let Some(reference) = reference else {
        return Ok(None);
    };
    let Some(r) = reference.as_str() else {
        if strict {
            return Err(EvalError("reference must be a string".into()));
        }
        return Ok(None);
    };
    // the common form, a relative `Type/id`, read as written (a Bundle entry it names has that
    // type and id): no lookup, the same work as without a Bundle
    if let Some((ty, id)) = split_relative(r) {
        return Ok(want
            .is_none_or(|w| same_bytes(ty.as_bytes(), w.as_bytes()))
            .then_some(Item::Str(Cow::Borrowed(id))));
    }
    reference_key_general(r, want, strict, refs)
}

/// [`reference_key_of`] of a reference that is not a relative `Type/id`: versioned, absolute,
/// `urn:`, contained; resolved within the Bundle when there is one.
#[inline(never)]
fn reference_key_general<'a>(
    r: &'a str,
    want: Option<&str>,
    strict: bool,
    refs: Option<&RefScope>,
) -> Result<Option<Item<'a>>, EvalError> {
    // a conditional reference names a search, which a load of files cannot run: counted as
    // unresolved like an `urn:` reference to no entry, its key left empty
    if is_conditional(r) {
        if let Some(s) = refs {
            s.note(r, want);
        }
        return Ok(None);
    }
    let Some(split) = split_reference_general(r) else {
        if strict {
            return Err(EvalError(format!("`{r}` is not a reference (Type/id)")));
        }
        return Ok(None);
    };
    let (ty, id) = match refs.and_then(|s| resolve(r, split, want, s)) {
        Some((ty, id)) => (Some(ty), id),
        None => (split.0, Cow::Borrowed(split.1)),
    };
    Ok(want
        .is_none_or(|w| ty.is_some_and(|t| same_bytes(t.as_bytes(), w.as_bytes())))
        .then_some(Item::Str(id)))
}

/// An `urn:` or absolute reference resolved within the resource's Bundle: the type and id of the
/// entry whose `fullUrl` it is. An `urn:` reference to no entry is noted in the scope (it names
/// nothing else); an absolute one to no entry is read from its last two segments (None here).
/// The id is borrowed from the reference text where it ends the text (most do).
#[inline(never)]
fn resolve<'a>(
    r: &'a str,
    split: (Option<&'a str>, &'a str),
    want: Option<&str>,
    scope: &RefScope,
) -> Option<(&'a str, Cow<'a, str>)> {
    // a version (`/_history/2`) is not part of the `fullUrl`
    let url = match split.0 {
        Some(_) => memchr::memmem::find(r.as_bytes(), b"/_history/").map_or(r, |i| &r[..i]),
        None => r,
    };
    // a contained resource (`#id`) is not a Bundle entry
    if url.starts_with('#') {
        return None;
    }
    match scope.bundle().and_then(|b| b.get(url)) {
        Some((ty, id)) => {
            let id = match url.strip_suffix(id) {
                Some(head) if head.ends_with(['/', ':']) => Cow::Borrowed(&url[head.len()..]),
                _ => Cow::Owned(id.to_owned()),
            };
            Some((ty, id))
        }
        None => {
            if split.0.is_none() {
                scope.note(r, want);
            }
            None
        }
    }
}

/// `extension(url)` of one item: its extensions with that url, in order.
pub(crate) fn extensions<'a>(item: &Item<'a>, url: &str, out: &mut Coll<'a>) {
    if let Some(v) = item.node() {
        let mut exts = Coll::new();
        children(v, "extension", &mut exts);
        for e in exts {
            if e.node().and_then(|n| get_str(n, "url")) == Some(url) {
                out.push(e);
            }
        }
    }
}

fn call<'a>(
    name: &str,
    args: &[Expr],
    input: &Coll<'a>,
    resource: Node<'a>,
    env: &Env<'_>,
) -> Result<Coll<'a>, EvalError> {
    let mut out = Coll::new();
    match name {
        "where" | "select" | "all" => {
            let mut all = true;
            for (i, item) in input.iter().enumerate() {
                let one: Coll<'a> = smallvec::smallvec![item.clone()];
                let sub = Env {
                    constants: env.constants,
                    row_index: env.row_index,
                    strict: env.strict,
                    refs: env.refs,
                };
                let _ = i;
                let r = eval(&args[0], &one, resource, &sub)?;
                match name {
                    "where" => {
                        if truth(&r)? == Some(true) {
                            out.push(item.clone());
                        }
                    }
                    "select" => out.extend(r),
                    _ => all &= truth(&r)? == Some(true),
                }
            }
            if name == "all" {
                out.push(Item::Bool(all));
            }
        }
        "exists" => {
            let any = if let Some(crit) = args.first() {
                let mut any = false;
                for item in input {
                    let one: Coll<'a> = smallvec::smallvec![item.clone()];
                    if truth(&eval(crit, &one, resource, env)?)? == Some(true) {
                        any = true;
                        break;
                    }
                }
                any
            } else {
                !input.is_empty()
            };
            out.push(Item::Bool(any));
        }
        "empty" => out.push(Item::Bool(input.is_empty())),
        "hasValue" => out.push(Item::Bool(input.len() == 1 && input[0].prim().is_some())),
        "first" => out.extend(input.first().cloned()),
        "last" => out.extend(input.last().cloned()),
        "tail" => out.extend(input.iter().skip(1).cloned()),
        "count" => out.push(Item::Int(input.len() as i64)),
        "distinct" => {
            for item in input {
                if !out.iter().any(|o| item_eq(o, item)) {
                    out.push(item.clone());
                }
            }
        }
        "not" => {
            if let Some(b) = truth(input)? {
                out.push(Item::Bool(!b));
            }
        }
        "join" => {
            let sep = match args.first() {
                Some(a) => eval(a, input, resource, env)?
                    .first()
                    .and_then(|i| i.prim().map(|p| prim_text(&p)))
                    .unwrap_or_default(),
                None => String::new(),
            };
            let parts: Vec<String> = input
                .iter()
                .filter_map(|i| i.prim().map(|p| prim_text(&p)))
                .collect();
            // joining nothing gives the empty string, as the spec's tests expect
            out.push(Item::Str(Cow::Owned(parts.join(&sep))));
        }
        "toString" => {
            if let Some(p) = singleton(input, "toString()")?.and_then(|i| i.prim()) {
                out.push(Item::Str(Cow::Owned(prim_text(&p))));
            }
        }
        "startsWith" | "contains" => {
            let arg = eval(&args[0], input, resource, env)?;
            let (Some(s), Some(t)) = (
                singleton(input, name)?.and_then(|i| i.prim()),
                singleton(&arg, name)?.and_then(|i| i.prim()),
            ) else {
                return Ok(out);
            };
            if let (Prim::Str(s), Prim::Str(t)) = (s, t) {
                out.push(Item::Bool(if name == "startsWith" {
                    s.starts_with(t)
                } else {
                    s.contains(t)
                }));
            }
        }
        "iif" => {
            let c = truth(&eval(&args[0], input, resource, env)?)?;
            if c == Some(true) {
                return eval(&args[1], input, resource, env);
            } else if let Some(e) = args.get(2) {
                return eval(e, input, resource, env);
            }
        }
        "ofType" => {
            let ty = type_name(&args[0])?;
            out.extend(input.iter().filter(|i| is_type(i, ty)).cloned());
        }
        "getResourceKey" => {
            for item in input {
                resource_key(item, &mut out);
            }
        }
        "getReferenceKey" => {
            let want = match args.first() {
                Some(a) => Some(type_name(a)?),
                None => None,
            };
            for item in input {
                out.extend(reference_key_of(item, want, env.strict, env.refs)?);
            }
        }
        "extension" => {
            let url = eval(&args[0], input, resource, env)?;
            let Some(Prim::Str(url)) = singleton(&url, "extension()")?.and_then(|i| i.prim())
            else {
                return Err(EvalError("extension() needs a url string".into()));
            };
            let url = url.to_owned();
            for item in input {
                extensions(item, &url, &mut out);
            }
        }
        "lowBoundary" | "highBoundary" => {
            let Some(item) = singleton(input, name)? else {
                return Ok(out);
            };
            let high = name == "highBoundary";
            match item.prim() {
                Some(Prim::Dec(_)) | Some(Prim::Int(_)) => {
                    // a decimal of the resource has the places it was written with (`1.0`: one);
                    // a computed one, those of its shortest text
                    let digits = match item {
                        Item::Node(v, _) => match v.as_scalar() {
                            Some(Scalar::F64(_, places)) => i32::from(places),
                            _ => 0,
                        },
                        _ => item
                            .prim()
                            .map(|p| prim_text(&p))
                            .unwrap_or_default()
                            .split('.')
                            .nth(1)
                            .map_or(0, str::len) as i32,
                    };
                    let x = num(&item.prim().expect("number")).expect("number");
                    let half = 0.5 * 10f64.powi(-digits);
                    out.push(Item::Dec(if high { x + half } else { x - half }));
                }
                Some(Prim::Str(s)) => {
                    if let Some(mut b) = crate::datetime::boundary(s, high) {
                        // a dateTime given to day precision or less widens to the whole day
                        let date_time = matches!(item, Item::Node(_, Some(t)) if t.eq_ignore_ascii_case("dateTime"));
                        if date_time && !b.contains('T') {
                            b.push_str(if high {
                                "T23:59:59.999-12:00"
                            } else {
                                "T00:00:00.000+14:00"
                            });
                        }
                        out.push(Item::Str(Cow::Owned(b)));
                    }
                }
                _ => {}
            }
        }
        other => return Err(EvalError(format!("unknown function `{other}()`"))),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_differ_only_in_the_case_of_their_first_letter() {
        let obs = r#"{"resourceType":"Observation","valueDateTime":"2024-01-02","component":[{"valueString":"x"}]}"#;
        assert_eq!(run("value.ofType(dateTime)", obs), ["2024-01-02"]);
        assert_eq!(run("value.ofType(DateTime)", obs), ["2024-01-02"]);
        assert!(run("value.ofType(datetime)", obs).is_empty());
        assert!(run("value.ofType(date)", obs).is_empty());
        assert_eq!(run("component.value.ofType(string)", obs), ["x"]);
        assert_eq!(run("component.value.ofType(String)", obs), ["x"]);
        assert!(run("component.value.ofType(STRING)", obs).is_empty());
    }

    #[test]
    fn keys_match_elements_and_their_choice_forms() {
        assert!(key_matches("valueQuantity", "value") == KeyMatch::Choice);
        assert!(key_matches("value", "value") == KeyMatch::Exact);
        assert!(key_matches("valueset", "value") == KeyMatch::No);
        assert!(key_matches("status", "value") == KeyMatch::No);
    }

    /// A decimal's boundaries follow the places it is written with, not its value alone.
    #[test]
    fn decimal_boundaries_follow_the_written_places() {
        let bounds = |value: &str| {
            let obs =
                format!(r#"{{"resourceType":"Observation","valueQuantity":{{"value":{value}}}}}"#);
            let num = |path: &str| {
                run(path, &obs)
                    .iter()
                    .map(|t| t.parse::<f64>().unwrap())
                    .collect::<Vec<_>>()
            };
            (
                num("value.ofType(Quantity).value.lowBoundary()"),
                num("value.ofType(Quantity).value.highBoundary()"),
            )
        };
        let close = |got: &[f64], want: f64| got.len() == 1 && (got[0] - want).abs() < 1e-9;
        for (value, low, high) in [
            ("1", 0.5, 1.5),
            ("1.0", 0.95, 1.05),
            ("2.50", 2.495, 2.505),
            ("1.5e1", 14.5, 15.5),
        ] {
            let (l, h) = bounds(value);
            assert!(close(&l, low) && close(&h, high), "{value}: {l:?} {h:?}");
        }
    }

    fn run(path: &str, json: &str) -> Vec<String> {
        crate::json::Reader::new().read(json.as_bytes(), |tape| {
            run_on(path, Node::root(tape.expect("valid JSON")))
        })
    }

    fn run_on(path: &str, v: Node<'_>) -> Vec<String> {
        let e = parse(path).unwrap();
        let focus: Coll<'_> = smallvec::smallvec![Item::Node(v, None)];
        let env = Env {
            constants: &[],
            row_index: 0,
            strict: false,
            refs: None,
        };
        eval(&e, &focus, v, &env)
            .unwrap()
            .iter()
            .map(|i| {
                i.prim()
                    .map(|p| prim_text(&p))
                    .unwrap_or_else(|| "{}".into())
            })
            .collect()
    }

    const PT: &str = r#"{"resourceType":"Patient","id":"p1","name":[{"use":"official","family":"F1","given":["a","b"]},{"family":"F2"}],
        "deceasedBoolean":false,"valueQuantity":{"value":1.5},"managingOrganization":{"reference":"Organization/o1"}}"#;

    #[test]
    fn paths_functions_and_operators() {
        assert_eq!(run("name.family", PT), ["F1", "F2"]);
        assert_eq!(run("Patient.name[1].family", PT), ["F2"]);
        assert_eq!(run("name.given.join(', ')", PT), ["a, b"]);
        assert_eq!(run("name.where(use = 'official').family", PT), ["F1"]);
        assert_eq!(run("name.exists() and id = 'p1'", PT), ["true"]);
        assert_eq!(run("deceased.ofType(boolean)", PT), ["false"]);
        assert_eq!(run("deceased.ofType(dateTime)", PT), Vec::<String>::new());
        assert_eq!(run("value.ofType(Quantity).value * 2", PT), ["3"]);
        assert_eq!(
            run("managingOrganization.getReferenceKey(Organization)", PT),
            ["o1"]
        );
        assert_eq!(
            run("managingOrganization.getReferenceKey(Patient)", PT),
            Vec::<String>::new()
        );
        assert_eq!(run("getResourceKey()", PT), ["p1"]);
        assert_eq!(run("name.family | name.family", PT), ["F1", "F2"]);
        assert_eq!(run("(1 + 2) * 3 = 9", PT), ["true"]);
        assert_eq!(run("name.count()", PT), ["2"]);
        assert_eq!(run("{}.empty()", PT), ["true"]);
        assert_eq!(run("missing = 'x'", PT), Vec::<String>::new());
    }

    #[test]
    fn parse_errors_name_the_problem() {
        assert!(
            parse("@@")
                .unwrap_err()
                .message
                .contains("unexpected character")
        );
        assert!(
            parse("name.frobnicate()")
                .unwrap_err()
                .message
                .contains("unknown function")
        );
        assert!(parse("name.").is_err());
        assert!(parse("'open").is_err());
        assert!(parse("first(1)").is_err());
    }

    #[test]
    fn reference_keys() {
        // the one-pass reading of relative references agrees with the general one on every form
        for r in [
            "Patient/123",
            "Patient/1.2-a",
            "a/b/c",
            "/x",
            "x/",
            "/",
            "//",
            "",
            "x",
            "_/x",
            "Pa_tient/1",
            "Patient/_1",
            "u/1",
            "urn:uuid:1",
            "#",
            "#x",
            "Patient/1/_history/2",
            "http://h/fhir/Patient/9",
            "Patient//1",
            "Ob/s/",
            "Organization?identifier=https://github.com/synthetichealth/synthea|9a1d",
            "Patient?identifier=a/b",
            "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|999",
        ] {
            assert_eq!(split_reference(r), split_reference_general(r), "{r:?}");
        }
        for conditional in [
            "Organization?identifier=https://github.com/synthetichealth/synthea|9a1d",
            "Patient?identifier=a/b",
            "Location?identifier=x",
        ] {
            assert_eq!(reference_key(conditional, None), None, "{conditional}");
        }
        // every position of the slash and of a second slash or `_`, across word boundaries
        for n in 1..40 {
            for at in 0..n {
                for (extra, c) in (0..n).flat_map(|e| [(e, b'/'), (e, b'_'), (e, b'?')]) {
                    let mut r = vec![b'a'; n];
                    r[at] = b'/';
                    if extra != at {
                        r[extra] = c;
                    }
                    let r = String::from_utf8(r).unwrap();
                    assert_eq!(split_reference(&r), split_reference_general(&r), "{r:?}");
                }
            }
        }
        assert_eq!(reference_key("Patient/123", None), Some("123"));
        assert_eq!(reference_key("Patient/123", Some("Patient")), Some("123"));
        assert_eq!(reference_key("Patient/123", Some("Observation")), None);
        assert_eq!(
            reference_key("http://x.org/fhir/Patient/9/_history/2", Some("Patient")),
            Some("9")
        );
        assert_eq!(reference_key("urn:uuid:abc", None), Some("abc"));
        assert_eq!(reference_key("nonsense", None), None);
        // contained resources: the local id, never a typed key
        assert_eq!(reference_key("#med1", None), Some("med1"));
        assert_eq!(reference_key("#med1", Some("Medication")), None);
        assert_eq!(reference_key("#", None), None);
    }

    /// Within a Bundle, `urn:` and absolute references resolve to the entry whose `fullUrl` they
    /// are (its type and id, forward or not), relative ones read as written; an `urn:` reference
    /// to no entry is noted and gives no typed key; without a scope nothing changes.
    #[test]
    fn references_resolve_within_their_bundle() {
        let mut b = crate::bundle::BundleRefs::default();
        b.insert("urn:uuid:9f1c", "Patient", None);
        b.insert("urn:uuid:e-7", "Encounter", Some("enc7"));
        b.insert("urn:oid:1.2.276.0.1", "Condition", Some("c1"));
        b.insert("https://h.example/fhir/Patient/p9", "Patient", Some("p9"));
        b.insert("https://h.example/entries/42", "Specimen", Some("s42"));
        let scope = crate::bundle::RefScope::new(Some(std::sync::Arc::new(b)));
        let keys = |reference: &str,
                    want: &str,
                    scope: Option<&crate::bundle::RefScope>|
         -> Vec<String> {
            let json = format!(
                r#"{{"resourceType":"Observation","id":"o","subject":{{"reference":"{reference}"}}}}"#
            );
            crate::json::Reader::new().read(json.as_bytes(), |tape| {
                let v = Node::root(tape.expect("valid JSON"));
                let env = Env {
                    constants: &[],
                    row_index: 0,
                    strict: true,
                    refs: scope,
                };
                let focus: Coll<'_> = smallvec::smallvec![Item::Node(v, None)];
                let path = format!("subject.getReferenceKey({want})");
                eval(&parse(&path).unwrap(), &focus, v, &env)
                    .unwrap()
                    .iter()
                    .map(|i| i.prim().map(|p| prim_text(&p)).unwrap_or_default())
                    .collect()
            })
        };
        let s = Some(&scope);
        assert_eq!(keys("urn:uuid:9f1c", "Patient", s), ["9f1c"]);
        assert_eq!(keys("urn:uuid:9f1c", "", s), ["9f1c"]);
        assert_eq!(keys("urn:uuid:9f1c", "Group", s), Vec::<String>::new());
        assert_eq!(keys("urn:uuid:e-7", "Encounter", s), ["enc7"]);
        assert_eq!(keys("urn:oid:1.2.276.0.1", "Condition", s), ["c1"]);
        assert_eq!(
            keys("https://h.example/fhir/Patient/p9", "Patient", s),
            ["p9"]
        );
        assert_eq!(
            keys("https://h.example/fhir/Patient/p9/_history/3", "Patient", s),
            ["p9"]
        );
        assert_eq!(keys("https://h.example/entries/42", "Specimen", s), ["s42"]);
        // relative, absolute elsewhere, contained: as without a Bundle, and none of them noted
        assert_eq!(keys("Patient/p1", "Patient", s), ["p1"]);
        assert_eq!(
            keys("https://other.example/fhir/Patient/p2", "Patient", s),
            ["p2"]
        );
        assert_eq!(keys("#x", "", s), ["x"]);
        assert!(!scope.has_unresolved());
        // an urn to no entry: no typed key, noted once per wanted type
        assert_eq!(keys("urn:uuid:gone", "Patient", s), Vec::<String>::new());
        assert_eq!(keys("urn:uuid:gone", "Patient", s), Vec::<String>::new());
        assert_eq!(keys("urn:uuid:gone", "", s), ["gone"]);
        let noted = scope.take_unresolved();
        assert_eq!(
            noted
                .iter()
                .map(|u| (u.reference.as_str(), u.want.as_deref()))
                .collect::<Vec<_>>(),
            [("urn:uuid:gone", Some("Patient")), ("urn:uuid:gone", None)]
        );
        // NDJSON: a scope without a Bundle notes urn references, reads the rest as written
        let ndjson = crate::bundle::RefScope::new(None);
        assert_eq!(
            keys("urn:uuid:9f1c", "Patient", Some(&ndjson)),
            Vec::<String>::new()
        );
        assert_eq!(
            keys("https://h.example/entries/42", "Specimen", Some(&ndjson)),
            Vec::<String>::new()
        );
        assert_eq!(keys("Patient/p1", "Patient", Some(&ndjson)), ["p1"]);
        assert_eq!(ndjson.take_unresolved().len(), 1);
        // no scope: the reference text alone
        assert_eq!(
            keys("urn:uuid:e-7", "Encounter", None),
            Vec::<String>::new()
        );
        assert_eq!(keys("urn:uuid:e-7", "", None), ["e-7"]);
    }

    /// A reference to a contained resource is valid FHIR: strict mode (ingest) must not refuse
    /// the resource, only leave the typed key empty.
    #[test]
    fn contained_references_are_not_errors_in_strict_mode() {
        let bytes = br##"{"resourceType":"MedicationRequest","id":"r1","contained":[{"resourceType":"Medication","id":"med1"}],
            "medicationReference":{"reference":"#med1"},"subject":{"reference":"Patient/p1"}}"##;
        crate::json::Reader::new().read(bytes, |tape| {
            let root = Node::root(tape.expect("valid JSON"));
            let env = Env {
                constants: &[],
                row_index: 0,
                strict: true,
                refs: None,
            };
            let focus: Coll<'_> = smallvec::smallvec![Item::Node(root, None)];
            let typed = eval(
                &parse("medication.ofType(Reference).getReferenceKey(Medication)").unwrap(),
                &focus,
                root,
                &env,
            )
            .unwrap();
            assert!(typed.is_empty());
            let any = eval(
                &parse("medication.getReferenceKey()").unwrap(),
                &focus,
                root,
                &env,
            )
            .unwrap();
            assert_eq!(any.len(), 1);
            assert_eq!(any[0].prim(), Some(Prim::Str("med1")));
        });
    }
}
