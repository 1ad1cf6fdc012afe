//! Compiled views: the evaluation ingest runs for every resource, with the same results as
//! [`ViewDefinition::eval_with`] followed by [`BatchBuilder::push`] in [`Mode::Typed`].
//!
//! The interpreter ([`fhirpath::eval`]) builds a collection at every step of every path and
//! dispatches function calls by name; rows are vectors of cells that are checked against the
//! column types, then converted again when appended. A [`Plan`] does the same work once:
//!
//! - paths made of members, `ofType`, `first()`, `where(path = 'text' and ...)`, `exists()`,
//!   `empty()`, `extension(url)`, `getResourceKey()` and `getReferenceKey()` are compiled into
//!   steps walked depth-first, with no collection built between steps; `first()` stops the walk;
//! - `(a | b | c).first()` takes the first path that yields something;
//! - every value is converted to its column's Arrow type as it is found (a date is parsed once)
//!   and staged in a flat, typed row buffer, so a resource whose values do not fit is refused
//!   before anything of it reaches the builders;
//! - whatever does not compile (arithmetic, `%constants`, `select()`, ...) is evaluated by the
//!   interpreter, so every view compiles and the plan is exact, not an approximation.
//!
//! A test runs the plan and the interpreter side by side over the SQL-on-FHIR v2 suite and the
//! standard views: same rows, same errors.

use crate::bundle::RefScope;
use crate::datetime;
use crate::fhirpath::{self, BinOp, Coll, Env, EvalError, Expr, Item, Kind, Lit, Node, Prim};
use crate::reuse::emptied;
use crate::sof::{self, BatchBuilder, Builder, CellError, Iter, Mode, Select, ViewDefinition};
use arrow::datatypes::DataType;
use std::borrow::Cow;
use std::cell::Cell;
use std::ops::Range;

/// Why a plan refused a resource: an evaluation error, or a value that does not fit its column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// The view could not be evaluated (a malformed reference in strict mode, a column path that
    /// yields several values, ...).
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// A value does not fit its column's type.
    #[error(transparent)]
    Cell(#[from] CellError),
}

/// One step of a compiled path.
#[derive(Debug, Clone)]
enum Step {
    /// The children named `name` (arrays flattened, choice types followed). `type_test`: the
    /// first step of a path names a type, which stands for the resource itself when it is one.
    Member {
        name: String,
        type_test: bool,
    },
    /// A member of the resource itself, read from the table [`Plans::members`] built in one
    /// pass over the resource (only ever the first step of a path whose focus is the resource).
    Top {
        slot: u16,
        name: String,
    },
    OfType(String),
    First,
    Where(Cond),
    ResourceKey,
    RefKey(Option<String>),
    Extension(String),
}

/// A `where` criterion that compiles: `path = 'text'`, joined by `and`.
#[derive(Debug, Clone)]
enum Cond {
    Eq(Path, String),
    And(Box<Cond>, Box<Cond>),
}

/// What a path ends in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum End {
    Items,
    Exists,
    Empty,
}

#[derive(Debug, Clone)]
struct Path {
    steps: Vec<Step>,
    end: End,
}

/// A compiled expression.
#[derive(Debug, Clone)]
enum PExpr {
    Path(Path),
    /// `(a | b | ...).first()`.
    FirstOf(Vec<Path>),
    /// `and` / `or` / `xor` / `implies` over compiled operands.
    Logic(BinOp, Box<PExpr>, Box<PExpr>),
    /// Evaluated by the interpreter.
    Interp(Expr),
}

#[derive(Debug, Clone)]
enum PIter {
    Focus,
    ForEach(PExpr),
    ForEachOrNull(PExpr),
    Repeat(Vec<Expr>),
}

#[derive(Debug, Clone)]
struct PSelect {
    cols: Vec<(usize, PExpr)>,
    iter: PIter,
    nested: Vec<PSelect>,
    union_all: Vec<PSelect>,
    covers: Vec<usize>,
    /// The columns of the `unionAll` branches.
    union_covers: Vec<usize>,
}

/// The Arrow type a column's values are converted to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    Str,
    Int,
    Dec,
    Bool,
    Date,
    Ts,
}

/// A staged cell: already converted to its column's type. `Owned`, `List` and `Bad` index the
/// staging's side tables; `Bad` is a value that does not fit, reported only if its row survives.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Null,
    Str(&'a str),
    Owned(u32),
    Int(i64),
    Dec(f64),
    Bool(bool),
    Days(i32),
    Micros(i64),
    List(u32, u32),
    Bad(u32),
}

/// Text, numbers and messages the staged cells point to.
#[derive(Debug, Default)]
struct Side<'a> {
    owned: Vec<String>,
    lists: Vec<Val<'a>>,
    bad: Vec<String>,
}

impl<'a> Side<'a> {
    fn own(&mut self, s: String) -> Val<'a> {
        self.owned.push(s);
        Val::Owned(self.owned.len() as u32 - 1)
    }
    fn bad(&mut self, message: String) -> Val<'a> {
        self.bad.push(message);
        Val::Bad(self.bad.len() as u32 - 1)
    }
}

/// Rows staged by one or more plans for the resource at hand, appended to the builders only when
/// every view accepted the resource.
#[derive(Debug, Default)]
pub struct Staging<'a> {
    cells: Vec<Val<'a>>,
    side: Side<'a>,
}

impl<'a> Staging<'a> {
    /// An empty staging area.
    pub fn new() -> Self {
        Self::default()
    }

    /// Empties the staging area for the next resource, keeping its memory (the resource it
    /// pointed into may be gone: nothing of it is kept).
    #[inline]
    pub fn recycle<'b>(self) -> Staging<'b> {
        let mut owned = self.side.owned;
        owned.clear();
        let mut bad = self.side.bad;
        bad.clear();
        Staging {
            cells: emptied(self.cells),
            side: Side {
                owned,
                lists: emptied(self.side.lists),
                bad,
            },
        }
    }
}

/// Rows one plan staged: a range of cells of its width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    cells: Range<usize>,
    width: usize,
}

impl Staged {
    /// The number of rows.
    #[inline]
    pub fn rows(&self) -> usize {
        self.cells.len().checked_div(self.width).unwrap_or(0)
    }
}

/// A ViewDefinition compiled for typed output (see the module docs).
#[derive(Debug, Clone)]
pub struct Plan {
    /// The view compiled (its resource type, columns and constants are read from it).
    view: ViewDefinition,
    types: Vec<(Ty, bool)>,
    /// The `where` criteria: text, compiled expression, and the slot of its outcome in the
    /// member table when the views share it (see [`Slots::where_slot`]).
    wheres: Vec<(String, PExpr, Option<u16>)>,
    select: Vec<PSelect>,
}

/// The plans of the views of one resource type, sharing the table of the resource's members
/// they read: [`Plans::members`] scans a resource once, then each plan evaluates it.
#[derive(Debug, Clone)]
pub struct Plans {
    plans: Vec<Plan>,
    names: Vec<String>,
    /// How many `where` outcomes the plans share.
    wheres: usize,
    /// For each first byte of a member name, the slots whose names start with it.
    by_first: Vec<Vec<u16>>,
}

impl Plans {
    /// Compiles views (they should read one resource type; the table is shared).
    pub fn new<'v>(views: impl IntoIterator<Item = &'v ViewDefinition>) -> Plans {
        let mut slots = Slots::default();
        let plans = views
            .into_iter()
            .map(|v| Plan::compile(v, &mut slots))
            .collect();
        let mut by_first = vec![Vec::new(); 256];
        for (i, n) in slots.names.iter().enumerate() {
            if let Some(b) = n.as_bytes().first() {
                by_first[*b as usize].push(i as u16);
            }
        }
        Plans {
            plans,
            names: slots.names,
            wheres: slots.wheres.len(),
            by_first,
        }
    }

    /// The plans, in the order of the views given to [`Plans::new`].
    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    /// The members of `resource` the plans read, in one pass over it; `spare` is a table to
    /// reuse ([`Members::recycle`] of the previous one, or `Members::default()`).
    pub fn members<'a>(&self, resource: Node<'a>, spare: Members<'_>) -> Members<'a> {
        self.members_in(resource, spare, None)
    }

    /// [`Plans::members`], with references resolving through `refs` (the `fullUrl`s of the
    /// resource's Bundle; unresolved ones are noted there: [`crate::bundle`]).
    pub fn members_in<'a>(
        &self,
        resource: Node<'a>,
        spare: Members<'_>,
        refs: Option<&'a RefScope>,
    ) -> Members<'a> {
        let mut m = spare.recycle();
        m.resource = Some(resource);
        m.refs = refs;
        m.slots.resize(self.names.len(), Slot::default());
        m.wheres.resize(self.wheres, Cell::new(Memo::Unknown));
        let Some(obj) = resource.as_object() else {
            return m;
        };
        for (k, v) in obj.iter() {
            let Some(b) = k.as_bytes().first() else {
                continue;
            };
            if *b == b'r'
                && m.resource_type.is_none()
                && fhirpath::same_bytes(k.as_bytes(), b"resourceType")
            {
                m.resource_type = v.as_str();
            }
            for &i in &self.by_first[*b as usize] {
                let (name, slot) = (&self.names[i as usize], &mut m.slots[i as usize]);
                match fhirpath::key_matches(k, name) {
                    fhirpath::KeyMatch::Exact if slot.exact.is_none() => slot.exact = Some(v),
                    fhirpath::KeyMatch::Choice if slot.choice.is_none() => {
                        slot.choice = Some((v, &k[name.len()..]))
                    }
                    fhirpath::KeyMatch::Choice => slot.more = true,
                    _ => {}
                }
            }
        }
        m
    }
}

// ---------------------------------------------------------------------------------------------
// compiling

fn focus_path() -> Path {
    Path {
        steps: Vec::new(),
        end: End::Items,
    }
}

fn has_ref_key(steps: &[Step]) -> bool {
    steps.iter().any(|s| matches!(s, Step::RefKey(_)))
}

/// A path relative to the focus, if `e` is one of the forms that compile.
fn path(e: &Expr) -> Option<Path> {
    let (base, step) = match e {
        Expr::This => return Some(focus_path()),
        Expr::Member(base, name) => {
            let type_test =
                base.is_none() && name.as_bytes().first().is_some_and(u8::is_ascii_uppercase);
            (
                base.as_deref(),
                Step::Member {
                    name: name.clone(),
                    type_test,
                },
            )
        }
        Expr::Call(base, name, args) => {
            let step = match (name.as_str(), args.as_slice()) {
                ("first", []) => Step::First,
                ("ofType", [t]) => Step::OfType(fhirpath::type_name(t).ok()?.to_owned()),
                ("where", [c]) => Step::Where(cond(c)?),
                ("getResourceKey", []) => Step::ResourceKey,
                ("getReferenceKey", []) => Step::RefKey(None),
                ("getReferenceKey", [t]) => {
                    Step::RefKey(Some(fhirpath::type_name(t).ok()?.to_owned()))
                }
                ("extension", [Expr::Lit(Lit::Str(url))]) => Step::Extension(url.clone()),
                ("exists", []) | ("empty", []) => {
                    let mut p = base.as_deref().map_or(Some(focus_path()), path)?;
                    // stopping at the first item would skip errors a later one could raise
                    if p.end != End::Items || has_ref_key(&p.steps) {
                        return None;
                    }
                    p.end = if name == "exists" {
                        End::Exists
                    } else {
                        End::Empty
                    };
                    return Some(p);
                }
                _ => return None,
            };
            (base.as_deref(), step)
        }
        _ => return None,
    };
    let mut p = base.map_or(Some(focus_path()), path)?;
    if p.end != End::Items || (matches!(step, Step::First) && has_ref_key(&p.steps)) {
        return None;
    }
    p.steps.push(step);
    Some(p)
}

fn cond(e: &Expr) -> Option<Cond> {
    match e {
        Expr::Bin(BinOp::Eq, a, b) => match b.as_ref() {
            Expr::Lit(Lit::Str(lit)) => {
                let p = path(a)?;
                (p.end == End::Items && !has_ref_key(&p.steps)).then(|| Cond::Eq(p, lit.clone()))
            }
            _ => None,
        },
        Expr::Bin(BinOp::And, a, b) => Some(Cond::And(Box::new(cond(a)?), Box::new(cond(b)?))),
        _ => None,
    }
}

/// The operands of a chain of `|`, in order.
fn union_operands<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Bin(BinOp::Union, a, b) => {
            union_operands(a, out);
            union_operands(b, out);
        }
        _ => out.push(e),
    }
}

/// The names of the resource's members the plans read, each with its slot in [`Members`].
#[derive(Debug, Default)]
struct Slots {
    names: Vec<String>,
    /// The texts of the compiled `where` criteria, each with its slot for its outcome.
    wheres: Vec<String>,
}

impl Slots {
    fn slot(&mut self, name: &str) -> u16 {
        position_or_push(&mut self.names, name)
    }

    /// The slot of a `where` criterion's outcome, one per text: views of one type often filter
    /// on the same criterion (the two microbiology views of observations), tested once per
    /// resource. Only fully compiled criteria share, so no constant of a view enters.
    fn where_slot(&mut self, text: &str) -> u16 {
        position_or_push(&mut self.wheres, text)
    }
}

/// The index of `s` in `list`, added at the end if it is not there yet.
fn position_or_push(list: &mut Vec<String>, s: &str) -> u16 {
    match list.iter().position(|n| n == s) {
        Some(i) => i as u16,
        None => {
            list.push(s.to_owned());
            list.len() as u16 - 1
        }
    }
}

/// Whether an expression runs without the interpreter (and so without the view's constants).
fn is_compiled(e: &PExpr) -> bool {
    match e {
        PExpr::Path(_) | PExpr::FirstOf(_) => true,
        PExpr::Logic(_, a, b) => is_compiled(a) && is_compiled(b),
        PExpr::Interp(_) => false,
    }
}

/// A path evaluated with the resource as its focus starts with a member read from the table.
fn at_resource(mut p: Path, slots: Option<&mut Slots>) -> Path {
    if let (
        Some(slots),
        Some(Step::Member {
            name,
            type_test: false,
        }),
    ) = (slots, p.steps.first())
    {
        p.steps[0] = Step::Top {
            slot: slots.slot(name),
            name: name.clone(),
        };
    }
    p
}

/// Compiles an expression; `slots` is given when its focus is the resource itself.
fn pexpr(e: &Expr, mut slots: Option<&mut Slots>) -> PExpr {
    if let Some(p) = path(e) {
        return PExpr::Path(at_resource(p, slots));
    }
    if let Expr::Call(Some(base), name, args) = e
        && name == "first"
        && args.is_empty()
        && matches!(base.as_ref(), Expr::Bin(BinOp::Union, ..))
    {
        let mut ops = Vec::new();
        union_operands(base, &mut ops);
        let paths: Option<Vec<Path>> = ops
            .into_iter()
            .map(|o| path(o).filter(|p| p.end == End::Items && !has_ref_key(&p.steps)))
            .collect();
        if let Some(paths) = paths {
            return PExpr::FirstOf(
                paths
                    .into_iter()
                    .map(|p| at_resource(p, slots.as_deref_mut()))
                    .collect(),
            );
        }
    }
    if let Expr::Bin(op @ (BinOp::And | BinOp::Or | BinOp::Xor | BinOp::Implies), a, b) = e {
        let a = pexpr(a, slots.as_deref_mut());
        return PExpr::Logic(*op, Box::new(a), Box::new(pexpr(b, slots)));
    }
    PExpr::Interp(e.clone())
}

/// Compiles a select; `slots` is given when its focus is the resource itself.
fn pselect(s: &Select, mut slots: Option<&mut Slots>) -> PSelect {
    let iter = match &s.iter {
        Iter::Focus => PIter::Focus,
        Iter::ForEach(e) => PIter::ForEach(pexpr(e, slots.as_deref_mut())),
        Iter::ForEachOrNull(e) => PIter::ForEachOrNull(pexpr(e, slots.as_deref_mut())),
        Iter::Repeat(ps) => PIter::Repeat(ps.clone()),
    };
    // the select's columns and nested selects see the resource only if it does not iterate
    let mut inner = if matches!(iter, PIter::Focus) {
        slots
    } else {
        None
    };
    PSelect {
        cols: s
            .cols
            .iter()
            .map(|(i, e)| (*i, pexpr(e, inner.as_deref_mut())))
            .collect(),
        iter,
        nested: s
            .nested
            .iter()
            .map(|n| pselect(n, inner.as_deref_mut()))
            .collect(),
        union_all: s
            .union_all
            .iter()
            .map(|n| pselect(n, inner.as_deref_mut()))
            .collect(),
        covers: s.covers.clone(),
        union_covers: s
            .union_all
            .iter()
            .flat_map(|u| u.covers.iter().copied())
            .collect(),
    }
}

/// A member of the resource: its value under the exact name, else its choice-typed values
/// (`valueQuantity`, ...) in document order, as [`fhirpath::children`] finds them.
#[derive(Debug, Clone, Copy, Default)]
struct Slot<'a> {
    exact: Option<Node<'a>>,
    /// The first choice-typed member.
    choice: Option<(Node<'a>, &'a str)>,
    /// More than one choice-typed member: read them with [`fhirpath::member`] (rare).
    more: bool,
}

impl<'a> Slot<'a> {
    /// The member's value, with the type its choice suffix names if it was reached through one;
    /// `None` if the resource has no such member or several choice-typed ones (`Slot::more`:
    /// the caller reads them in document order).
    #[inline(always)]
    fn value(&self) -> Option<(Node<'a>, Option<&'a str>)> {
        match (self.exact, self.choice) {
            (Some(child), _) => Some((child, None)),
            (None, Some((child, ty))) if !self.more => Some((child, Some(ty))),
            _ => None,
        }
    }
}

/// The members of one resource that its plans read, found in one pass ([`Plans::members`]).
#[derive(Debug, Default)]
pub struct Members<'a> {
    resource: Option<Node<'a>>,
    /// The resource's `resourceType`, found in the same pass.
    resource_type: Option<&'a str>,
    slots: Vec<Slot<'a>>,
    /// The outcomes of the shared `where` criteria tested so far on this resource.
    wheres: Vec<Cell<Memo>>,
    /// Where the resource's references resolve ([`Plans::members_in`]); kept here, read only by
    /// reference-key steps, so the walks carry nothing more.
    refs: Option<&'a RefScope>,
}

/// The outcome of a shared `where` criterion on the resource at hand (errors are not kept:
/// a criterion that fails with an error is tested again, and fails again, by the next view).
#[derive(Debug, Clone, Copy, Default)]
enum Memo {
    #[default]
    Unknown,
    Known {
        strict: bool,
        pass: bool,
    },
}

impl<'a> Members<'a> {
    /// Empties the table for the next resource, keeping its memory.
    #[inline]
    pub fn recycle<'b>(self) -> Members<'b> {
        let mut wheres = self.wheres;
        wheres.clear();
        Members {
            resource: None,
            resource_type: None,
            slots: emptied(self.slots),
            wheres,
            refs: None,
        }
    }
}

/// What a walk needs besides the item: strict mode and the resource's member table.
#[derive(Clone, Copy)]
struct Cx<'m, 'a> {
    strict: bool,
    members: &'m Members<'a>,
}

// ---------------------------------------------------------------------------------------------
// walking

/// Where a walk puts what reaches the end of a path. `take` returns true to end the walk.
trait Sink<'a> {
    fn take(&mut self, item: Item<'a>) -> bool;
}

/// Everything, in order.
impl<'a> Sink<'a> for Coll<'a> {
    fn take(&mut self, item: Item<'a>) -> bool {
        self.push(item);
        false
    }
}

/// The first item only (`first()`, `exists()`).
struct FirstItem<'a>(Option<Item<'a>>);

impl<'a> Sink<'a> for FirstItem<'a> {
    fn take(&mut self, item: Item<'a>) -> bool {
        self.0 = Some(item);
        true
    }
}

/// The first item and how many there are (a column that must hold at most one value).
struct Single<'a> {
    first: Option<Item<'a>>,
    n: usize,
}

impl<'a> Sink<'a> for Single<'a> {
    fn take(&mut self, item: Item<'a>) -> bool {
        if self.n == 0 {
            self.first = Some(item);
        }
        self.n += 1;
        false
    }
}

/// Walks `steps` from `item`, depth-first in document order, handing what reaches the end to
/// `sink`. Returns true when the walk is over: a `first()` took its item or the sink is full.
///
/// While a step yields at most one item (most steps over most resources), the walk goes on in a
/// loop over that item; it recurses only where a step yields several (an array of several
/// elements, several choice-typed members, extensions): a recursive step with its sink cost about
/// 80 cycles.
fn walk<'a, S: Sink<'a>>(
    mut steps: &[Step],
    mut item: Item<'a>,
    cx: Cx<'_, 'a>,
    sink: &mut S,
) -> Result<bool, EvalError> {
    // a `first()` was passed: whatever follows, the walk of the enclosing items is over
    let mut first = false;
    loop {
        let Some((step, rest)) = steps.split_first() else {
            return Ok(sink.take(item) || first);
        };
        steps = rest;
        // the member's value: one item to go on from, or several to walk each
        let (child, ty) = match step {
            Step::Member { name, type_test } => {
                let Item::Node(v, _) = item else {
                    return Ok(first);
                };
                if *type_test && fhirpath::get_str(v, "resourceType") == Some(name.as_str()) {
                    continue;
                }
                match fhirpath::find_member(v, name) {
                    fhirpath::Found::Exact(child) => (child, None),
                    fhirpath::Found::Choices => {
                        return Ok(choices(v, name, rest, cx, sink)? || first);
                    }
                    fhirpath::Found::Absent => return Ok(first),
                }
            }
            Step::Top { slot, name } => {
                let Some(m) = cx.members.slots.get(*slot as usize) else {
                    return Ok(first);
                };
                match m.value() {
                    Some(value) => value,
                    None if m.more => {
                        // several choice-typed members: the general lookup, in document order
                        let Some(resource) = cx.members.resource else {
                            return Ok(first);
                        };
                        return Ok(choices(resource, name, rest, cx, sink)? || first);
                    }
                    None => return Ok(first),
                }
            }
            Step::OfType(t) => {
                if !fhirpath::is_type(&item, t) {
                    return Ok(first);
                }
                continue;
            }
            Step::First => {
                first = true;
                continue;
            }
            Step::Where(c) => {
                if test(c, &item, cx)? != Some(true) {
                    return Ok(first);
                }
                continue;
            }
            Step::ResourceKey => {
                // the id, a string (or nothing)
                let Some(id) = item
                    .node()
                    .and_then(|n| fhirpath::get(n, "id"))
                    .filter(|id| id.as_str().is_some())
                else {
                    return Ok(first);
                };
                item = Item::Node(id, None);
                continue;
            }
            Step::RefKey(want) => {
                let Some(key) =
                    fhirpath::reference_key_of(&item, want.as_deref(), cx.strict, cx.members.refs)?
                else {
                    return Ok(first);
                };
                item = key;
                continue;
            }
            Step::Extension(url) => return Ok(extensions(&item, url, rest, cx, sink)? || first),
        };
        match lone(child) {
            Some(Some(one)) => item = Item::Node(one, ty),
            Some(None) => return Ok(first),
            None => return Ok(each(child, ty, rest, cx, sink)? || first),
        }
    }
}

/// A member's value as at most one item: `Some(None)` for nothing (null, an empty array or an
/// array of nulls), `Some(Some(node))` for one, `None` for several; as [`each`] sees it.
#[inline]
fn lone(child: Node<'_>) -> Option<Option<Node<'_>>> {
    if let Some(items) = child.as_array() {
        let mut it = items.iter().filter(|i| !i.is_null());
        return match (it.next(), it.next()) {
            (first, None) => Some(first),
            _ => None,
        };
    }
    Some((!child.is_null()).then_some(child))
}

/// A path from one item when no step branches: hands `found` the one item it reaches, if any, and
/// returns true; returns false where a step could yield several (an array of several elements,
/// choice-typed members below the resource, extensions, a member that names a type): the caller
/// then walks the path with [`walk`]. Up to that point both take the same steps over the same
/// items, so they raise the same errors. Most columns of most resources end here, without a sink
/// or a recursive step.
#[inline(always)]
fn walk_lone<'a>(
    steps: &[Step],
    item: &Item<'a>,
    cx: Cx<'_, 'a>,
    found: impl FnOnce(&Item<'a>),
) -> Result<bool, EvalError> {
    let mut item = item.clone();
    for step in steps {
        let (child, ty) = match step {
            Step::Top { slot, .. } => {
                let Some(m) = cx.members.slots.get(*slot as usize) else {
                    return Ok(true);
                };
                match m.value() {
                    Some(value) => value,
                    None => return Ok(!m.more),
                }
            }
            Step::Member {
                name,
                type_test: false,
            } => {
                let Item::Node(v, _) = item else {
                    return Ok(true);
                };
                match fhirpath::find_member(v, name) {
                    fhirpath::Found::Exact(child) => (child, None),
                    fhirpath::Found::Absent => return Ok(true),
                    fhirpath::Found::Choices => return Ok(false),
                }
            }
            Step::OfType(t) => {
                if !fhirpath::is_type(&item, t) {
                    return Ok(true);
                }
                continue;
            }
            // the first of one item is that item
            Step::First => continue,
            Step::RefKey(want) => {
                let Some(key) =
                    fhirpath::reference_key_of(&item, want.as_deref(), cx.strict, cx.members.refs)?
                else {
                    return Ok(true);
                };
                item = key;
                continue;
            }
            Step::ResourceKey => {
                // the id, a string (or nothing), as `walk` takes it
                let Some(id) = item
                    .node()
                    .and_then(|n| fhirpath::get(n, "id"))
                    .filter(|id| id.as_str().is_some())
                else {
                    return Ok(true);
                };
                item = Item::Node(id, None);
                continue;
            }
            Step::Where(c) => {
                // a criterion of one item keeps it or not: no branch
                if test(c, &item, cx)? != Some(true) {
                    return Ok(true);
                }
                continue;
            }
            _ => return Ok(false),
        };
        match lone(child) {
            Some(Some(one)) => item = Item::Node(one, ty),
            Some(None) => return Ok(true),
            None => return Ok(false),
        }
    }
    found(&item);
    Ok(true)
}

/// Walks on from the choice-typed forms of member `name` (kept out of [`walk`], which stays small).
#[inline(never)]
fn choices<'a, S: Sink<'a>>(
    v: Node<'a>,
    name: &str,
    rest: &[Step],
    cx: Cx<'_, 'a>,
    sink: &mut S,
) -> Result<bool, EvalError> {
    let fhirpath::Member::Choices(cs) = fhirpath::member(v, name) else {
        return Ok(false);
    };
    for (child, ty) in cs {
        if each(child, Some(ty), rest, cx, sink)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Walks on from the extensions with `url` of an item.
#[inline(never)]
fn extensions<'a, S: Sink<'a>>(
    item: &Item<'a>,
    url: &str,
    rest: &[Step],
    cx: Cx<'_, 'a>,
    sink: &mut S,
) -> Result<bool, EvalError> {
    let mut next = Coll::new();
    fhirpath::extensions(item, url, &mut next);
    walk_all(next, rest, cx, sink)
}

/// Walks on from each of `items`.
fn walk_all<'a, S: Sink<'a>>(
    items: Coll<'a>,
    rest: &[Step],
    cx: Cx<'_, 'a>,
    sink: &mut S,
) -> Result<bool, EvalError> {
    for child in items {
        if walk(rest, child, cx, sink)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Walks on from a member's value: each element of an array (nulls skipped), nothing for null.
fn each<'a, S: Sink<'a>>(
    child: Node<'a>,
    ty: Option<&'a str>,
    rest: &[Step],
    cx: Cx<'_, 'a>,
    sink: &mut S,
) -> Result<bool, EvalError> {
    if let Some(items) = child.as_array() {
        for i in items.iter() {
            if !i.is_null() && walk(rest, Item::Node(i, ty), cx, sink)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if child.is_null() {
        return Ok(false);
    }
    walk(rest, Item::Node(child, ty), cx, sink)
}

/// A `where` criterion of one item, as the interpreter's `truth` sees it (None: empty).
fn test<'a>(c: &Cond, item: &Item<'a>, cx: Cx<'_, 'a>) -> Result<Option<bool>, EvalError> {
    match c {
        Cond::Eq(p, lit) => {
            let equal = |f: &Item<'_>| matches!(f.prim(), Some(Prim::Str(t)) if fhirpath::same_bytes(t.as_bytes(), lit.as_bytes()));
            let mut lone = None;
            if walk_lone(&p.steps, item, cx, |f| lone = Some(equal(f)))? {
                return Ok(lone);
            }
            let mut x = Single { first: None, n: 0 };
            walk(&p.steps, item.clone(), cx, &mut x)?;
            Ok(x.first.map(|f| x.n == 1 && equal(&f)))
        }
        Cond::And(a, b) => {
            let (x, y) = (test(a, item, cx)?, test(b, item, cx)?);
            Ok(fhirpath::logic(BinOp::And, x, y))
        }
    }
}

/// Runs a path over each item of the focus into `sink`.
fn run_path<'a, S: Sink<'a>>(
    p: &Path,
    focus: &[Item<'a>],
    cx: Cx<'_, 'a>,
    sink: &mut S,
) -> Result<(), EvalError> {
    match p.end {
        End::Items => {
            for item in focus {
                if walk(&p.steps, item.clone(), cx, sink)? {
                    break;
                }
            }
        }
        End::Exists | End::Empty => {
            let mut found = FirstItem(None);
            for item in focus {
                if walk(&p.steps, item.clone(), cx, &mut found)? {
                    break;
                }
            }
            sink.take(Item::Bool(found.0.is_none() == (p.end == End::Empty)));
        }
    }
    Ok(())
}

/// Runs a compiled expression over the focus into `sink`.
fn run_into<'a, S: Sink<'a>>(
    e: &PExpr,
    focus: &Coll<'a>,
    resource: Node<'a>,
    env: &Env<'_>,
    m: &Members<'a>,
    sink: &mut S,
) -> Result<(), EvalError> {
    let cx = Cx {
        strict: env.strict,
        members: m,
    };
    match e {
        PExpr::Path(p) => run_path(p, focus, cx, sink)?,
        PExpr::FirstOf(paths) => {
            for p in paths {
                if let [item] = focus.as_slice() {
                    let mut found = None;
                    if walk_lone(&p.steps, item, cx, |f| found = Some(f.clone()))? {
                        match found {
                            Some(f) => {
                                sink.take(f);
                                break;
                            }
                            None => continue,
                        }
                    }
                }
                let mut first = FirstItem(None);
                for item in focus {
                    if walk(&p.steps, item.clone(), cx, &mut first)? {
                        break;
                    }
                }
                if let Some(item) = first.0 {
                    sink.take(item);
                    break;
                }
            }
        }
        PExpr::Logic(op, a, b) => {
            let x = fhirpath::truth(&run(a, focus, resource, env, m)?)?;
            let y = fhirpath::truth(&run(b, focus, resource, env, m)?)?;
            if let Some(r) = fhirpath::logic(*op, x, y) {
                sink.take(Item::Bool(r));
            }
        }
        PExpr::Interp(e) => {
            for item in fhirpath::eval(e, focus, resource, env)? {
                sink.take(item);
            }
        }
    }
    Ok(())
}

fn run<'a>(
    e: &PExpr,
    focus: &Coll<'a>,
    resource: Node<'a>,
    env: &Env<'_>,
    m: &Members<'a>,
) -> Result<Coll<'a>, EvalError> {
    let mut out = Coll::new();
    run_into(e, focus, resource, env, m, &mut out)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// values

/// The text of a string item with the lifetime of the resource, if it has one.
fn borrowed<'a>(item: &Item<'a>) -> Option<&'a str> {
    match item {
        Item::Node(v, _) => match fhirpath::kind(*v) {
            Kind::Str(s) => Some(s),
            _ => None,
        },
        Item::Str(Cow::Borrowed(s)) => Some(s),
        _ => None,
    }
}

/// An item as text (for string and list columns); None if it is not a primitive.
fn text<'a>(item: &Item<'a>, side: &mut Side<'a>) -> Option<Val<'a>> {
    if let Some(s) = borrowed(item) {
        return Some(Val::Str(s));
    }
    sof::text_of(item).map(|t| side.own(t))
}

impl Plan {
    /// Compiles a view (its member table of its own; [`Plans`] shares one between views).
    fn compile(view: &ViewDefinition, slots: &mut Slots) -> Plan {
        let types = view
            .columns
            .iter()
            .map(|c| {
                let ty = match sof::column_type(c, Mode::Typed) {
                    DataType::Boolean => Ty::Bool,
                    DataType::Int64 => Ty::Int,
                    DataType::Float64 => Ty::Dec,
                    DataType::Date32 => Ty::Date,
                    DataType::Timestamp(..) => Ty::Ts,
                    _ => Ty::Str,
                };
                (ty, c.collection)
            })
            .collect();
        Plan {
            types,
            wheres: view
                .wheres
                .iter()
                .map(|(t, e)| {
                    let e = pexpr(e, Some(&mut *slots));
                    let shared = is_compiled(&e).then(|| slots.where_slot(t));
                    (t.clone(), e, shared)
                })
                .collect(),
            select: view
                .select
                .iter()
                .map(|sel| pselect(sel, Some(&mut *slots)))
                .collect(),
            view: view.clone(),
        }
    }

    /// A builder for the plan's rows (the view's typed schema), with room for about `rows`.
    pub fn builder(&self, rows: usize) -> BatchBuilder {
        BatchBuilder::with_capacity(&self.view, Mode::Typed, rows)
    }

    /// How many of the view's expressions (columns, iterations, `where`s) run compiled, of all.
    pub fn compiled_share(&self) -> (usize, usize) {
        fn count(e: &PExpr, n: &mut (usize, usize)) {
            match e {
                PExpr::Logic(_, a, b) => {
                    count(a, n);
                    count(b, n);
                }
                PExpr::Interp(_) => n.1 += 1,
                _ => {
                    n.0 += 1;
                    n.1 += 1;
                }
            }
        }
        fn sel(s: &PSelect, n: &mut (usize, usize)) {
            for (_, e) in &s.cols {
                count(e, n);
            }
            match &s.iter {
                PIter::ForEach(e) | PIter::ForEachOrNull(e) => count(e, n),
                PIter::Repeat(ps) => n.1 += ps.len(),
                PIter::Focus => {}
            }
            s.nested.iter().chain(&s.union_all).for_each(|x| sel(x, n));
        }
        let mut n = (0, 0);
        self.wheres.iter().for_each(|(_, e, _)| count(e, &mut n));
        self.select.iter().for_each(|s| sel(s, &mut n));
        n
    }

    /// A non-collection column's value, written to `out`, its cell in the row.
    #[inline(always)]
    fn one<'a>(&self, ci: usize, item: &Item<'a>, side: &mut Side<'a>, out: &mut Val<'a>) {
        let (ty, list) = self.types[ci];
        // the common cases first: a string of the resource into a text or date column
        if !list && let Some(s) = borrowed(item) {
            match ty {
                Ty::Str => {
                    *out = Val::Str(s);
                    return;
                }
                Ty::Ts => {
                    *out = match datetime::parse_date_time_micros(s) {
                        Ok(t) => Val::Micros(t),
                        Err(e) => side.bad(e.to_string()),
                    };
                    return;
                }
                _ => {}
            }
        }
        let Some(p) = item.prim() else {
            *out = side.bad("is not a primitive value".into());
            return;
        };
        if list {
            // a single value in a list column (a `forEachOrNull` over nothing)
            let Some(t) = text(item, side) else {
                *out = Val::Null;
                return;
            };
            side.lists.push(t);
            *out = Val::List(side.lists.len() as u32 - 1, 1);
            return;
        }
        let not = |what: &str, side: &mut Side<'a>| {
            side.bad(format!(
                "`{}` is not {what}",
                sof::text_of(item).unwrap_or_default()
            ))
        };
        *out = match (ty, p) {
            (Ty::Str, Prim::Str(_)) => text(item, side).unwrap_or(Val::Null),
            (Ty::Str, _) => sof::text_of(item).map_or(Val::Null, |t| side.own(t)),
            (Ty::Int, Prim::Int(n)) => Val::Int(n),
            (Ty::Int, _) => not("an integer", side),
            (Ty::Dec, Prim::Int(n)) => Val::Dec(n as f64),
            (Ty::Dec, Prim::Dec(f)) => Val::Dec(f),
            (Ty::Dec, _) => not("a decimal", side),
            (Ty::Bool, Prim::Bool(b)) => Val::Bool(b),
            (Ty::Bool, _) => not("a boolean", side),
            (Ty::Date, Prim::Str(s)) => match datetime::parse_date_days(s) {
                Ok(d) => Val::Days(d),
                Err(e) => side.bad(e.to_string()),
            },
            (Ty::Ts, Prim::Str(s)) => match datetime::parse_date_time_micros(s) {
                Ok(t) => Val::Micros(t),
                Err(e) => side.bad(e.to_string()),
            },
            (Ty::Date | Ty::Ts, _) => side.bad("is not a date".into()),
        };
    }

    /// A select's own columns over `focus`, into `row`.
    #[allow(clippy::too_many_arguments)]
    fn fill<'a>(
        &self,
        s: &PSelect,
        focus: &Coll<'a>,
        resource: Node<'a>,
        env: &Env<'_>,
        m: &Members<'a>,
        row: &mut [Val<'a>],
        side: &mut Side<'a>,
    ) -> Result<(), EvalError> {
        for (ci, e) in &s.cols {
            if self.types[*ci].1 {
                let v = run(e, focus, resource, env, m)?;
                let start = side.lists.len();
                for item in &v {
                    let t = text(item, side).unwrap_or(Val::Null);
                    side.lists.push(t);
                }
                row[*ci] = Val::List(start as u32, v.len() as u32);
                continue;
            }
            // a path from one item that does not branch (most columns): no sink, no recursion
            if let (PExpr::Path(p), [item]) = (e, focus.as_slice())
                && p.end == End::Items
                && walk_lone(
                    &p.steps,
                    item,
                    Cx {
                        strict: env.strict,
                        members: m,
                    },
                    |item| self.one(*ci, item, side, &mut row[*ci]),
                )?
            {
                continue;
            }
            let mut one = Single { first: None, n: 0 };
            run_into(e, focus, resource, env, m, &mut one)?;
            // the cell is null until set
            match (&one.first, one.n) {
                (None, _) => {}
                (Some(item), 1) => self.one(*ci, item, side, &mut row[*ci]),
                (Some(_), n) => {
                    let col = &self.view.columns[*ci];
                    return Err(EvalError(format!(
                        "column `{}` (path `{}`) yields {n} values; declare `collection: true` or narrow the path",
                        col.name, col.path
                    )));
                }
            };
        }
        Ok(())
    }

    /// Appends a select's rows over `focus` to `out`.
    #[allow(clippy::too_many_arguments)]
    fn select_rows<'a>(
        &self,
        s: &PSelect,
        focus: &Coll<'a>,
        resource: Node<'a>,
        row_index: i64,
        strict: bool,
        m: &Members<'a>,
        out: &mut Vec<Val<'a>>,
        side: &mut Side<'a>,
    ) -> Result<(), EvalError> {
        let width = self.view.columns.len();
        let env = Env {
            constants: &self.view.constants,
            row_index,
            strict,
            refs: m.refs,
        };
        let items = match &s.iter {
            PIter::Focus => {
                return self.focus_rows(s, focus, resource, row_index, strict, m, out, side);
            }
            PIter::ForEach(e) | PIter::ForEachOrNull(e) => {
                let items = run(e, focus, resource, &env, m)?;
                if items.is_empty() {
                    if !matches!(s.iter, PIter::ForEachOrNull(_)) {
                        return Ok(());
                    }
                    // one row: own columns over the empty focus, nested selects all null
                    let env = Env {
                        constants: &self.view.constants,
                        row_index: 0,
                        strict,
                        refs: m.refs,
                    };
                    let at = out.len();
                    out.resize(at + width, Val::Null);
                    for (ci, e) in &s.cols {
                        if let Some(first) = run(e, &Coll::new(), resource, &env, m)?.first() {
                            self.one(*ci, first, side, &mut out[at + *ci]);
                        }
                    }
                    return Ok(());
                }
                items
            }
            PIter::Repeat(paths) => sof::repeat_items(paths, focus, resource, &env)?
                .into_iter()
                .collect(),
        };
        for (i, it) in items.into_iter().enumerate() {
            self.focus_rows(
                s,
                &smallvec::smallvec![it],
                resource,
                i as i64,
                strict,
                m,
                out,
                side,
            )?;
        }
        Ok(())
    }

    /// Appends the rows of a select for one focus to `out`: its own columns, times the rows of
    /// each nested select, times the rows of its `unionAll`.
    #[allow(clippy::too_many_arguments)]
    fn focus_rows<'a>(
        &self,
        s: &PSelect,
        f: &Coll<'a>,
        resource: Node<'a>,
        idx: i64,
        strict: bool,
        m: &Members<'a>,
        out: &mut Vec<Val<'a>>,
        side: &mut Side<'a>,
    ) -> Result<(), EvalError> {
        let width = self.view.columns.len();
        let env = Env {
            constants: &self.view.constants,
            row_index: idx,
            strict,
            refs: m.refs,
        };
        let start = out.len();
        out.resize(start + width, Val::Null);
        self.fill(s, f, resource, &env, m, &mut out[start..], side)?;
        for n in &s.nested {
            let mid = out.len();
            self.select_rows(n, f, resource, idx, strict, m, out, side)?;
            product(out, start, mid, &n.covers, width);
        }
        if !s.union_all.is_empty() {
            let mid = out.len();
            for u in &s.union_all {
                self.select_rows(u, f, resource, idx, strict, m, out, side)?;
            }
            product(out, start, mid, &s.union_covers, width);
        }
        Ok(())
    }

    /// Evaluates one resource (strict: malformed references are errors) and stages its rows;
    /// `members` is [`Plans::members`] of this resource.
    /// On error nothing is staged; a resource of another type or filtered out by a `where`
    /// stages no rows.
    pub fn eval<'a>(
        &self,
        resource: Node<'a>,
        members: &Members<'a>,
        strict: bool,
        st: &mut Staging<'a>,
    ) -> Result<Staged, PlanError> {
        let m = members;
        let width = self.view.columns.len();
        let base = st.cells.len();
        let none = Staged {
            cells: base..base,
            width,
        };
        // the type was read with the members (the first member scan of the resource)
        let rt = if m.resource.is_some() {
            m.resource_type
        } else {
            fhirpath::get_str(resource, "resourceType")
        };
        if !rt.is_some_and(|t| fhirpath::same_bytes(t.as_bytes(), self.view.resource.as_bytes())) {
            return Ok(none);
        }
        let focus: Coll<'a> = smallvec::smallvec![Item::Node(resource, None)];
        let env = Env {
            constants: &self.view.constants,
            row_index: 0,
            strict,
            refs: m.refs,
        };
        for (text, w, shared) in &self.wheres {
            // another view of the type may have tested the same criterion on this resource
            let memo = shared.and_then(|i| m.wheres.get(i as usize));
            if let Some(Memo::Known { strict: s, pass }) = memo.map(Cell::get)
                && s == strict
            {
                if !pass {
                    return Ok(none);
                }
                continue;
            }
            let r = run(w, &focus, resource, &env, m)?;
            let pass = match r.len() {
                0 => false,
                1 => match r[0].prim() {
                    Some(Prim::Bool(b)) => b,
                    _ => {
                        return Err(
                            EvalError(format!("where `{text}` must yield a boolean")).into()
                        );
                    }
                },
                _ => {
                    return Err(
                        EvalError(format!("where `{text}` yields more than one value")).into(),
                    );
                }
            };
            if let Some(cell) = memo {
                cell.set(Memo::Known { strict, pass });
            }
            if !pass {
                return Ok(none);
            }
        }
        // a top-level `forEach` over nothing yields no rows at all
        for s in &self.select {
            if let PIter::ForEach(e) = &s.iter
                && run(e, &focus, resource, &env, m)?.is_empty()
            {
                return Ok(none);
            }
        }
        let bad_before = st.side.bad.len();
        let result = self.rows(&focus, resource, &env, m, st);
        match result {
            Ok(()) => {}
            Err(e) => {
                st.cells.truncate(base);
                return Err(e);
            }
        }
        // a value that does not fit is an error only if its row is output
        if st.side.bad.len() > bad_before
            && let Some((k, m)) = st.cells[base..]
                .iter()
                .enumerate()
                .find_map(|(k, v)| match v {
                    Val::Bad(m) => Some((k, *m)),
                    _ => None,
                })
        {
            let col = &self.view.columns[k % width.max(1)];
            let message = st.side.bad[m as usize].clone();
            st.cells.truncate(base);
            return Err(CellError {
                column: col.name.clone(),
                path: col.path.clone(),
                message,
            }
            .into());
        }
        Ok(Staged {
            cells: base..st.cells.len(),
            width,
        })
    }

    /// The select product of a resource into `st.cells` from its current end.
    fn rows<'a>(
        &self,
        focus: &Coll<'a>,
        resource: Node<'a>,
        env: &Env<'_>,
        m: &Members<'a>,
        st: &mut Staging<'a>,
    ) -> Result<(), PlanError> {
        let width = self.view.columns.len();
        let base = st.cells.len();
        st.cells.resize(base + width, Val::Null);
        for s in &self.select {
            if matches!(s.iter, PIter::Focus)
                && s.nested.is_empty()
                && s.union_all.is_empty()
                && st.cells.len() == base + width
            {
                // plain columns of the resource (the common case): set in place
                self.fill(
                    s,
                    focus,
                    resource,
                    env,
                    m,
                    &mut st.cells[base..],
                    &mut st.side,
                )?;
                continue;
            }
            let mid = st.cells.len();
            self.select_rows(
                s,
                focus,
                resource,
                0,
                env.strict,
                m,
                &mut st.cells,
                &mut st.side,
            )?;
            product(&mut st.cells, base, mid, &s.covers, width);
            if st.cells.len() == base {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Appends staged rows to a builder made by [`Plan::builder`].
    pub fn append(&self, st: &Staging<'_>, staged: &Staged, b: &mut BatchBuilder) {
        if staged.width == 0 {
            return;
        }
        for row in st.cells[staged.cells.clone()].chunks(staged.width) {
            for (builder, v) in b.builders.iter_mut().zip(row) {
                let side = &st.side;
                match (builder, *v) {
                    (Builder::Str(b), Val::Str(s)) => b.append_value(s),
                    (Builder::Str(b), Val::Owned(k)) => b.append_value(&side.owned[k as usize]),
                    (Builder::Str(b), _) => b.append_null(),
                    (Builder::Int(b), Val::Int(n)) => b.append_value(n),
                    (Builder::Int(b), _) => b.append_null(),
                    (Builder::Dec(b), Val::Dec(f)) => b.append_value(f),
                    (Builder::Dec(b), _) => b.append_null(),
                    (Builder::Bool(b), Val::Bool(x)) => b.append_value(x),
                    (Builder::Bool(b), _) => b.append_null(),
                    (Builder::Date(b), Val::Days(d)) => b.append_value(d),
                    (Builder::Date(b), _) => b.append_null(),
                    (Builder::Ts(b), Val::Micros(t)) => b.append_value(t),
                    (Builder::Ts(b), _) => b.append_null(),
                    (Builder::List(b), Val::List(start, n)) => {
                        for item in &side.lists[start as usize..(start + n) as usize] {
                            match *item {
                                Val::Str(s) => b.values().append_value(s),
                                Val::Owned(k) => b.values().append_value(&side.owned[k as usize]),
                                _ => b.values().append_null(),
                            }
                        }
                        b.append(true);
                    }
                    (Builder::List(b), _) => b.append(false),
                }
            }
            b.rows += 1;
        }
    }
}

/// The rows `cells[left..mid]` times the rows `cells[mid..]`: every combination in order, the
/// right row setting only `covers`. The result replaces both, from `left` on.
fn product(cells: &mut Vec<Val<'_>>, left: usize, mid: usize, covers: &[usize], width: usize) {
    if width == 0 {
        return;
    }
    let end = cells.len();
    match (end - mid) / width {
        0 => cells.truncate(left),
        1 => {
            for l in (left..mid).step_by(width) {
                for &c in covers {
                    cells[l + c] = cells[mid + c];
                }
            }
            cells.truncate(mid);
        }
        nright => {
            for l in (left..mid).step_by(width) {
                for r in 0..nright {
                    let at = cells.len();
                    cells.extend_from_within(l..l + width);
                    for &c in covers {
                        cells[at + c] = cells[mid + r * width + c];
                    }
                }
            }
            cells.drain(left..end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycling_keeps_the_memory() {
        let text = String::from("kept");
        let mut st: Staging<'_> = Staging::new();
        st.cells.extend((0..1000).map(|_| Val::Str(&text)));
        let (ptr, cap) = (st.cells.as_ptr() as usize, st.cells.capacity());
        let again: Staging<'static> = st.recycle();
        assert!(again.cells.is_empty());
        assert_eq!(
            (again.cells.as_ptr() as usize, again.cells.capacity()),
            (ptr, cap),
            "recycling reallocated"
        );
        let members = Members {
            resource: None,
            resource_type: None,
            slots: vec![Slot::default(); 40],
            wheres: Vec::new(),
            refs: None,
        };
        let (ptr, cap) = (members.slots.as_ptr() as usize, members.slots.capacity());
        let again: Members<'static> = members.recycle();
        assert!(again.slots.is_empty());
        assert_eq!(
            (again.slots.as_ptr() as usize, again.slots.capacity()),
            (ptr, cap),
            "recycling the member table reallocated"
        );
    }
}
