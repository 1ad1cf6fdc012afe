//! SQL-on-FHIR v2 ViewDefinitions: parsing with errors that name the offending element,
//! evaluation of a resource into rows, and Arrow record batches of those rows.
//!
//! Two output modes: [`Mode::Spec`] keeps FHIR's own text for dates (what the spec's tests
//! expect), [`Mode::Typed`] turns `date` into `Date32` and `dateTime`/`instant` into UTC
//! microsecond timestamps (what the site store holds). In typed mode a value that does not fit
//! its column's type (a date that is not a date, a malformed reference) is an error naming the
//! column, so ingest can reject the resource with file, line and element.

use crate::bundle::RefScope;
use crate::datetime;
use crate::fhirpath::{self, Coll, Env, EvalError, Expr, Item, Lit, Prim};
use crate::fhirpath::{Kind, Node};
use arrow::array::{
    ArrayRef, AsArray, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, ListBuilder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use serde_json::Value as Json;
use std::sync::Arc;

/// An invalid ViewDefinition: the JSON path of the element and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("ViewDefinition {element}: {message}")]
pub struct ViewError {
    /// Where, e.g. `select[1].column[0].path`.
    pub element: String,
    /// What is wrong.
    pub message: String,
}

fn verr(element: impl Into<String>, message: impl Into<String>) -> ViewError {
    ViewError {
        element: element.into(),
        message: message.into(),
    }
}

/// An output column of a view.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// Declared FHIR type (`string`, `integer`, `dateTime`, ...), if any.
    pub ty: Option<String>,
    /// `collection: true`: the cell holds a list.
    pub collection: bool,
    /// The FHIRPath text (for messages).
    pub path: String,
}

#[derive(Debug, Clone)]
pub(crate) enum Iter {
    Focus,
    ForEach(Expr),
    ForEachOrNull(Expr),
    Repeat(Vec<Expr>),
}

#[derive(Debug, Clone)]
pub(crate) struct Select {
    pub(crate) cols: Vec<(usize, Expr)>,
    pub(crate) iter: Iter,
    pub(crate) nested: Vec<Select>,
    pub(crate) union_all: Vec<Select>,
    /// every output column index produced by this select's subtree
    pub(crate) covers: Vec<usize>,
}

/// A parsed, checked ViewDefinition, ready to evaluate.
#[derive(Debug, Clone)]
pub struct ViewDefinition {
    /// `name`, if given.
    pub name: Option<String>,
    /// The FHIR resource type it reads.
    pub resource: String,
    /// Output columns in order.
    pub columns: Vec<ColumnDef>,
    pub(crate) constants: Vec<(String, Lit)>,
    pub(crate) select: Vec<Select>,
    pub(crate) wheres: Vec<(String, Expr)>,
}

/// How dates come out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As FHIR text (spec conformance, `sof run`).
    Spec,
    /// As Arrow `Date32` / `Timestamp(µs, UTC)`; type mismatches are errors (site store).
    Typed,
}

/// One cell of an output row.
#[derive(Debug, Clone)]
pub enum Cell<'a> {
    /// No value.
    Null,
    /// One value.
    One(Item<'a>),
    /// A `collection: true` column's values.
    Many(Vec<Item<'a>>),
}

/// An output row (one cell per column).
pub type Row<'a> = Vec<Cell<'a>>;

fn is_valid_name(n: &str) -> bool {
    let mut c = n.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic())
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn parse_path(text: &Json, element: &str, consts: &[(String, Lit)]) -> Result<Expr, ViewError> {
    let s = text
        .as_str()
        .ok_or_else(|| verr(element, "must be a FHIRPath string"))?;
    let e = fhirpath::parse(s).map_err(|e| verr(element, e.to_string()))?;
    check_vars(&e, consts).map_err(|m| verr(element, m.to_string()))?;
    Ok(e)
}

/// A `%name` a path uses that the view does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undefined constant %{name}")]
struct UndefinedConstant {
    /// The name.
    name: String,
}

fn check_vars(e: &Expr, consts: &[(String, Lit)]) -> Result<(), UndefinedConstant> {
    match e {
        Expr::Var(v) => {
            if v == "rowIndex"
                || v == "resource"
                || v == "rootResource"
                || consts.iter().any(|(n, _)| n == v)
            {
                Ok(())
            } else {
                Err(UndefinedConstant { name: v.clone() })
            }
        }
        Expr::Member(Some(b), _) | Expr::Neg(b) => check_vars(b, consts),
        Expr::Index(a, b) | Expr::Bin(_, a, b) => {
            check_vars(a, consts)?;
            check_vars(b, consts)
        }
        Expr::Call(b, _, args) => {
            if let Some(b) = b {
                check_vars(b, consts)?;
            }
            args.iter().try_for_each(|a| check_vars(a, consts))
        }
        _ => Ok(()),
    }
}

const CONSTANT_TYPES: &[&str] = &[
    "Base64Binary",
    "Boolean",
    "Canonical",
    "Code",
    "Date",
    "DateTime",
    "Decimal",
    "Id",
    "Instant",
    "Integer",
    "Integer64",
    "Oid",
    "PositiveInt",
    "String",
    "Time",
    "UnsignedInt",
    "Uri",
    "Url",
    "Uuid",
];

impl ViewDefinition {
    /// Parses and checks a ViewDefinition's JSON text.
    pub fn parse(text: &str) -> Result<ViewDefinition, ViewError> {
        let json: Json = serde_json::from_str(text)
            .map_err(|e| verr("(document)", format!("invalid JSON: {e}")))?;
        Self::from_json(&json)
    }

    /// Checks a ViewDefinition given as JSON.
    pub fn from_json(json: &Json) -> Result<ViewDefinition, ViewError> {
        let obj = json
            .as_object()
            .ok_or_else(|| verr("(document)", "must be a JSON object"))?;
        if let Some(rt) = obj.get("resourceType")
            && rt != "ViewDefinition"
        {
            return Err(verr("resourceType", "must be `ViewDefinition`"));
        }
        let resource = obj
            .get("resource")
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                verr(
                    "resource",
                    "is required: the FHIR resource type the view reads",
                )
            })?
            .to_owned();
        let mut constants = Vec::new();
        if let Some(cs) = obj.get("constant") {
            let cs = cs
                .as_array()
                .ok_or_else(|| verr("constant", "must be an array"))?;
            for (i, c) in cs.iter().enumerate() {
                let el = format!("constant[{i}]");
                let name = c
                    .get("name")
                    .and_then(Json::as_str)
                    .filter(|n| is_valid_name(n))
                    .ok_or_else(|| {
                        verr(format!("{el}.name"), "is required and must be a valid name")
                    })?;
                let mut value = None;
                if let Some(m) = c.as_object() {
                    for (k, v) in m {
                        if let Some(ty) = k.strip_prefix("value") {
                            if !CONSTANT_TYPES.contains(&ty) {
                                return Err(verr(format!("{el}.{k}"), "unsupported constant type"));
                            }
                            value = Some(match v {
                                Json::String(s) => Lit::Str(s.clone()),
                                Json::Bool(b) => Lit::Bool(*b),
                                Json::Number(n) => match n.as_i64() {
                                    Some(i) if !matches!(ty, "Decimal") => Lit::Int(i),
                                    _ => Lit::Dec(n.as_f64().unwrap_or(f64::NAN)),
                                },
                                _ => {
                                    return Err(verr(
                                        format!("{el}.{k}"),
                                        "must be a primitive value",
                                    ));
                                }
                            });
                        }
                    }
                }
                let value = value.ok_or_else(|| verr(&el, "needs a value[x]"))?;
                constants.push((name.to_owned(), value));
            }
        }
        let mut columns = Vec::new();
        let select_json = obj
            .get("select")
            .ok_or_else(|| verr("select", "is required"))?;
        let select = parse_selects(select_json, "select", &constants, &mut columns)?;
        if select.is_empty() {
            return Err(verr("select", "must not be empty"));
        }
        let mut seen = std::collections::HashSet::new();
        for c in &columns {
            if !seen.insert(c.name.as_str()) {
                return Err(verr(
                    "select",
                    format!("column name `{}` is used twice", c.name),
                ));
            }
        }
        let mut wheres = Vec::new();
        if let Some(ws) = obj.get("where") {
            let ws = ws
                .as_array()
                .ok_or_else(|| verr("where", "must be an array"))?;
            for (i, w) in ws.iter().enumerate() {
                let el = format!("where[{i}].path");
                let p = w.get("path").ok_or_else(|| verr(&el, "is required"))?;
                wheres.push((
                    p.as_str().unwrap_or_default().to_owned(),
                    parse_path(p, &el, &constants)?,
                ));
            }
        }
        Ok(ViewDefinition {
            name: obj.get("name").and_then(Json::as_str).map(str::to_owned),
            resource,
            columns,
            constants,
            select,
            wheres,
        })
    }

    /// The Arrow schema of the view's output in `mode`.
    pub fn schema(&self, mode: Mode) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| {
                let dt = column_type(c, mode);
                if c.collection {
                    Field::new(
                        &c.name,
                        DataType::List(Arc::new(Field::new("item", dt, true))),
                        true,
                    )
                } else {
                    Field::new(&c.name, dt, true)
                }
            })
            .collect();
        Arc::new(Schema::new(fields))
    }

    /// Evaluates one resource into rows appended to `out` (nothing if the resource is of
    /// another type or a `where` filters it out).
    pub fn eval<'a>(&self, resource: Node<'a>, out: &mut Vec<Row<'a>>) -> Result<(), EvalError> {
        self.eval_with(resource, out, false)
    }

    /// [`ViewDefinition::eval`], in strict mode when `strict` (malformed references are errors).
    pub fn eval_with<'a>(
        &self,
        resource: Node<'a>,
        out: &mut Vec<Row<'a>>,
        strict: bool,
    ) -> Result<(), EvalError> {
        self.eval_in(resource, out, strict, None)
    }

    /// [`ViewDefinition::eval_with`], resolving references through `refs` (the `fullUrl`s of
    /// the resource's Bundle, noting those that resolve to nothing: [`crate::bundle`]).
    pub fn eval_in<'a>(
        &self,
        resource: Node<'a>,
        out: &mut Vec<Row<'a>>,
        strict: bool,
        refs: Option<&RefScope>,
    ) -> Result<(), EvalError> {
        if fhirpath::get_str(resource, "resourceType") != Some(self.resource.as_str()) {
            return Ok(());
        }
        let focus: Coll<'a> = smallvec::smallvec![Item::Node(resource, None)];
        let env = Env {
            constants: &self.constants,
            row_index: 0,
            strict,
            refs,
        };
        for (text, w) in &self.wheres {
            let r = fhirpath::eval(w, &focus, resource, &env)?;
            match r.len() {
                0 => return Ok(()),
                1 => match r[0].prim() {
                    Some(Prim::Bool(true)) => {}
                    Some(Prim::Bool(false)) => return Ok(()),
                    _ => return Err(EvalError(format!("where `{text}` must yield a boolean"))),
                },
                _ => {
                    return Err(EvalError(format!(
                        "where `{text}` yields more than one value"
                    )));
                }
            }
        }
        // a top-level `forEach` over nothing yields no rows at all: find out before evaluating
        // the other columns (a view of components, say, over resources that have none)
        for s in &self.select {
            if let Iter::ForEach(e) = &s.iter
                && fhirpath::eval(e, &focus, resource, &env)?.is_empty()
            {
                return Ok(());
            }
        }
        let width = self.columns.len();
        let mut rows: Vec<Row<'a>> = vec![vec![Cell::Null; width]];
        for s in &self.select {
            if matches!(s.iter, Iter::Focus)
                && s.nested.is_empty()
                && s.union_all.is_empty()
                && rows.len() == 1
            {
                // plain columns of the resource (the common case): set in place, no product
                let env = Env {
                    constants: &self.constants,
                    row_index: 0,
                    strict,
                    refs,
                };
                self.fill_columns(s, &focus, resource, &env, &mut rows[0])?;
                continue;
            }
            let srows = self.select_rows(s, &focus, resource, 0, width, strict, refs)?;
            rows = product(rows, &srows, &s.covers);
            if rows.is_empty() {
                return Ok(());
            }
        }
        out.extend(rows);
        Ok(())
    }

    /// Evaluates a select's own columns over `focus` into `row`.
    fn fill_columns<'a>(
        &self,
        s: &Select,
        focus: &Coll<'a>,
        resource: Node<'a>,
        env: &Env<'_>,
        row: &mut Row<'a>,
    ) -> Result<(), EvalError> {
        for (ci, e) in &s.cols {
            let v = fhirpath::eval(e, focus, resource, env)?;
            let col = &self.columns[*ci];
            row[*ci] = if col.collection {
                Cell::Many(v.into_iter().collect())
            } else {
                let n = v.len();
                let mut items = v.into_iter();
                match (items.next(), n) {
                    (None, _) => Cell::Null,
                    (Some(one), 1) => Cell::One(one),
                    _ => {
                        return Err(EvalError(format!(
                            "column `{}` (path `{}`) yields {n} values; declare `collection: true` or narrow the path",
                            col.name, col.path
                        )));
                    }
                }
            };
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn select_rows<'a>(
        &self,
        s: &Select,
        focus: &Coll<'a>,
        resource: Node<'a>,
        row_index: i64,
        width: usize,
        strict: bool,
        refs: Option<&RefScope>,
    ) -> Result<Vec<Row<'a>>, EvalError> {
        let env = Env {
            constants: &self.constants,
            row_index,
            strict,
            refs,
        };
        let foci: Vec<(Coll<'a>, i64)> = match &s.iter {
            Iter::Focus => vec![(focus.clone(), row_index)],
            Iter::ForEach(e) | Iter::ForEachOrNull(e) => {
                let items = fhirpath::eval(e, focus, resource, &env)?;
                if items.is_empty() {
                    if matches!(s.iter, Iter::ForEachOrNull(_)) {
                        // one row: own columns over the empty focus (so %rowIndex is 0),
                        // nested selects all null
                        let env = Env {
                            constants: &self.constants,
                            row_index: 0,
                            strict,
                            refs,
                        };
                        let mut row: Row<'a> = vec![Cell::Null; width];
                        let empty = Coll::new();
                        for (ci, e) in &s.cols {
                            let v = fhirpath::eval(e, &empty, resource, &env)?;
                            if let Some(first) = v.into_iter().next() {
                                row[*ci] = Cell::One(first);
                            }
                        }
                        return Ok(vec![row]);
                    }
                    return Ok(Vec::new());
                }
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, it)| (smallvec::smallvec![it], i as i64))
                    .collect()
            }
            Iter::Repeat(paths) => {
                let acc = repeat_items(paths, focus, resource, &env)?;
                acc.into_iter()
                    .enumerate()
                    .map(|(i, it)| (smallvec::smallvec![it], i as i64))
                    .collect()
            }
        };
        let mut out = Vec::new();
        for (f, idx) in foci {
            let env = Env {
                constants: &self.constants,
                row_index: idx,
                strict,
                refs,
            };
            let mut row: Row<'a> = vec![Cell::Null; width];
            self.fill_columns(s, &f, resource, &env, &mut row)?;
            let mut rows = vec![row];
            for n in &s.nested {
                let nrows = self.select_rows(n, &f, resource, idx, width, strict, refs)?;
                rows = product(rows, &nrows, &n.covers);
            }
            if !s.union_all.is_empty() {
                let mut urows = Vec::new();
                for u in &s.union_all {
                    urows.extend(self.select_rows(u, &f, resource, idx, width, strict, refs)?);
                }
                let covers: Vec<usize> = s
                    .union_all
                    .iter()
                    .flat_map(|u| u.covers.iter().copied())
                    .collect();
                rows = product(rows, &urows, &covers);
            }
            out.extend(rows);
        }
        Ok(out)
    }
}

/// The items a `repeat` select iterates: depth-first, in document order, at most 64 levels.
pub(crate) fn repeat_items<'a>(
    paths: &[Expr],
    focus: &Coll<'a>,
    resource: Node<'a>,
    env: &Env<'_>,
) -> Result<Vec<Item<'a>>, EvalError> {
    fn walk<'a>(
        item: Item<'a>,
        paths: &[Expr],
        resource: Node<'a>,
        env: &Env<'_>,
        acc: &mut Vec<Item<'a>>,
        depth: usize,
    ) -> Result<(), EvalError> {
        if depth > 64 {
            return Err(EvalError("repeat nests deeper than 64 levels".into()));
        }
        let one: Coll<'a> = smallvec::smallvec![item];
        for p in paths {
            for child in fhirpath::eval(p, &one, resource, env)? {
                acc.push(child.clone());
                walk(child, paths, resource, env, acc, depth + 1)?;
            }
        }
        Ok(())
    }
    let mut acc = Vec::new();
    for f in focus.iter() {
        walk(f.clone(), paths, resource, env, &mut acc, 0)?;
    }
    Ok(acc)
}

/// Every combination of a left row with a right row (the right sets only `covers`).
fn product<'a>(left: Vec<Row<'a>>, right: &[Row<'a>], covers: &[usize]) -> Vec<Row<'a>> {
    if right.len() == 1 {
        let mut left = left;
        for l in &mut left {
            for &c in covers {
                l[c] = right[0][c].clone();
            }
        }
        return left;
    }
    let mut out = Vec::with_capacity(left.len() * right.len());
    for l in &left {
        for r in right {
            let mut row = l.clone();
            for &c in covers {
                row[c] = r[c].clone();
            }
            out.push(row);
        }
    }
    out
}

fn parse_selects(
    json: &Json,
    element: &str,
    consts: &[(String, Lit)],
    columns: &mut Vec<ColumnDef>,
) -> Result<Vec<Select>, ViewError> {
    let arr = json
        .as_array()
        .ok_or_else(|| verr(element, "must be an array"))?;
    arr.iter()
        .enumerate()
        .map(|(i, s)| parse_select(s, &format!("{element}[{i}]"), consts, columns))
        .collect()
}

fn parse_select(
    json: &Json,
    el: &str,
    consts: &[(String, Lit)],
    columns: &mut Vec<ColumnDef>,
) -> Result<Select, ViewError> {
    let obj = json
        .as_object()
        .ok_or_else(|| verr(el, "must be an object"))?;
    for k in obj.keys() {
        if !matches!(
            k.as_str(),
            "column"
                | "select"
                | "forEach"
                | "forEachOrNull"
                | "repeat"
                | "unionAll"
                | "description"
                | "extension"
                | "id"
        ) {
            return Err(verr(format!("{el}.{k}"), "is not a select element"));
        }
    }
    let iters = ["forEach", "forEachOrNull", "repeat"]
        .iter()
        .filter(|k| obj.contains_key(**k))
        .count();
    if iters > 1 {
        return Err(verr(
            el,
            "may have only one of forEach, forEachOrNull and repeat",
        ));
    }
    let iter = if let Some(p) = obj.get("forEach") {
        Iter::ForEach(parse_path(p, &format!("{el}.forEach"), consts)?)
    } else if let Some(p) = obj.get("forEachOrNull") {
        Iter::ForEachOrNull(parse_path(p, &format!("{el}.forEachOrNull"), consts)?)
    } else if let Some(r) = obj.get("repeat") {
        let arr = r
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| verr(format!("{el}.repeat"), "must be a non-empty array of paths"))?;
        Iter::Repeat(
            arr.iter()
                .enumerate()
                .map(|(i, p)| parse_path(p, &format!("{el}.repeat[{i}]"), consts))
                .collect::<Result<_, _>>()?,
        )
    } else {
        Iter::Focus
    };
    let start = columns.len();
    let mut cols = Vec::new();
    if let Some(cs) = obj.get("column") {
        let arr = cs
            .as_array()
            .ok_or_else(|| verr(format!("{el}.column"), "must be an array"))?;
        for (i, c) in arr.iter().enumerate() {
            let cel = format!("{el}.column[{i}]");
            let name = c
                .get("name")
                .and_then(Json::as_str)
                .ok_or_else(|| verr(format!("{cel}.name"), "is required"))?;
            if !is_valid_name(name) {
                return Err(verr(
                    format!("{cel}.name"),
                    format!(
                        "`{name}` is not a valid column name (letters, digits, _; starting with a letter)"
                    ),
                ));
            }
            let path_json = c
                .get("path")
                .ok_or_else(|| verr(format!("{cel}.path"), "is required"))?;
            let path = parse_path(path_json, &format!("{cel}.path"), consts)?;
            let collection = match c.get("collection") {
                None | Some(Json::Null) => false,
                Some(Json::Bool(b)) => *b,
                Some(_) => return Err(verr(format!("{cel}.collection"), "must be true or false")),
            };
            let ty = match c.get("type") {
                None => None,
                Some(Json::String(t)) => Some(t.clone()),
                Some(_) => return Err(verr(format!("{cel}.type"), "must be a FHIR type name")),
            };
            cols.push((columns.len(), path));
            columns.push(ColumnDef {
                name: name.to_owned(),
                ty,
                collection,
                path: path_json.as_str().unwrap_or_default().to_owned(),
            });
        }
    }
    let nested = match obj.get("select") {
        Some(s) => parse_selects(s, &format!("{el}.select"), consts, columns)?,
        None => Vec::new(),
    };
    let mut union_all = Vec::new();
    if let Some(u) = obj.get("unionAll") {
        let arr = u
            .as_array()
            .ok_or_else(|| verr(format!("{el}.unionAll"), "must be an array"))?;
        let mut branch_cols: Option<Vec<ColumnDef>> = None;
        let union_start = columns.len();
        for (i, b) in arr.iter().enumerate() {
            let bel = format!("{el}.unionAll[{i}]");
            let mut local = Vec::new();
            let mut sel = parse_select(b, &bel, consts, &mut local)?;
            match &branch_cols {
                None => {
                    columns.extend(local.iter().cloned());
                    branch_cols = Some(local);
                }
                Some(first) => {
                    let names =
                        |v: &[ColumnDef]| v.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
                    if names(first) != names(&local) {
                        return Err(verr(
                            &bel,
                            format!(
                                "unionAll branches must have the same columns: {:?} vs {:?}",
                                names(first),
                                names(&local)
                            ),
                        ));
                    }
                }
            }
            shift(&mut sel, union_start);
            union_all.push(sel);
        }
    }
    let covers: Vec<usize> = (start..columns.len()).collect();
    Ok(Select {
        cols,
        iter,
        nested,
        union_all,
        covers,
    })
}

/// Renumbers a union branch's column indexes (parsed locally from 0) to the view's.
fn shift(s: &mut Select, by: usize) {
    for (i, _) in &mut s.cols {
        *i += by;
    }
    for c in &mut s.covers {
        *c += by;
    }
    for n in s.nested.iter_mut().chain(s.union_all.iter_mut()) {
        shift(n, by);
    }
}

pub(crate) fn column_type(c: &ColumnDef, mode: Mode) -> DataType {
    match c.ty.as_deref() {
        Some("boolean") => DataType::Boolean,
        Some("integer" | "positiveInt" | "unsignedInt" | "integer64") => DataType::Int64,
        Some("decimal") => DataType::Float64,
        Some("date") if mode == Mode::Typed => DataType::Date32,
        Some("dateTime" | "instant") if mode == Mode::Typed => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        _ => DataType::Utf8,
    }
}

pub(crate) fn text_of(item: &Item<'_>) -> Option<String> {
    match item.prim()? {
        Prim::Str(s) => Some(s.to_owned()),
        Prim::Int(n) => Some(n.to_string()),
        Prim::Dec(f) => Some(f.to_string()),
        Prim::Bool(b) => Some(b.to_string()),
    }
}

pub(crate) enum Builder {
    Str(StringBuilder),
    Int(Int64Builder),
    Dec(Float64Builder),
    Bool(BooleanBuilder),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder),
    List(ListBuilder<StringBuilder>),
}

impl Builder {
    /// A builder for a column of `data_type` with room for `rows` values: for text, `text`
    /// bytes; for a list, `items` items of `list_text` bytes in all.
    fn for_type(
        data_type: &DataType,
        rows: usize,
        items: usize,
        list_text: usize,
        text: usize,
    ) -> Builder {
        match data_type {
            DataType::Boolean => Builder::Bool(BooleanBuilder::with_capacity(rows)),
            DataType::Int64 => Builder::Int(Int64Builder::with_capacity(rows)),
            DataType::Float64 => Builder::Dec(Float64Builder::with_capacity(rows)),
            DataType::Date32 => Builder::Date(Date32Builder::with_capacity(rows)),
            DataType::Timestamp(..) => {
                Builder::Ts(TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"))
            }
            DataType::List(_) => Builder::List(ListBuilder::with_capacity(
                StringBuilder::with_capacity(items, list_text),
                rows,
            )),
            _ => Builder::Str(StringBuilder::with_capacity(rows, text)),
        }
    }
}

/// Accumulates rows into an Arrow record batch of a view's schema.
pub struct BatchBuilder {
    schema: SchemaRef,
    pub(crate) builders: Vec<Builder>,
    columns: Vec<ColumnDef>,
    pub(crate) rows: usize,
}

/// A value that does not fit its column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("column `{column}` (path `{path}`): {message}")]
pub struct CellError {
    /// Column name.
    pub column: String,
    /// The column's FHIRPath (the element).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl BatchBuilder {
    /// A builder for `view`'s rows in `mode`.
    pub fn new(view: &ViewDefinition, mode: Mode) -> BatchBuilder {
        Self::with_capacity(view, mode, 1024)
    }

    /// A builder with room for about `rows` rows (fewer reallocations while it fills).
    pub fn with_capacity(view: &ViewDefinition, mode: Mode, rows: usize) -> BatchBuilder {
        let schema = view.schema(mode);
        // guesses: 16 bytes of text per value, a list of one item of 8 bytes
        let builders = schema
            .fields()
            .iter()
            .map(|f| Builder::for_type(f.data_type(), rows, rows, rows * 8, rows * 16))
            .collect();
        BatchBuilder {
            schema,
            builders,
            columns: view.columns.clone(),
            rows: 0,
        }
    }

    /// Rows appended so far.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was appended.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Checks that a row's values fit the columns, without appending it.
    pub fn check(&self, row: &Row<'_>) -> Result<(), CellError> {
        for (i, cell) in row.iter().enumerate() {
            if let Cell::One(item) = cell {
                self.convert_check(i, item)?;
            }
        }
        Ok(())
    }

    fn cell_err(&self, i: usize, message: String) -> CellError {
        CellError {
            column: self.columns[i].name.clone(),
            path: self.columns[i].path.clone(),
            message,
        }
    }

    fn convert_check(&self, i: usize, item: &Item<'_>) -> Result<(), CellError> {
        let p = item
            .prim()
            .ok_or_else(|| self.cell_err(i, "is not a primitive value".into()))?;
        match (&self.builders[i], &p) {
            (Builder::Int(_), Prim::Int(_))
            | (Builder::Dec(_), Prim::Int(_) | Prim::Dec(_))
            | (Builder::Bool(_), Prim::Bool(_)) => Ok(()),
            (Builder::Int(_), _) => Err(self.cell_err(
                i,
                format!("`{}` is not an integer", text_of(item).unwrap_or_default()),
            )),
            (Builder::Dec(_), _) => Err(self.cell_err(
                i,
                format!("`{}` is not a decimal", text_of(item).unwrap_or_default()),
            )),
            (Builder::Bool(_), _) => Err(self.cell_err(
                i,
                format!("`{}` is not a boolean", text_of(item).unwrap_or_default()),
            )),
            (Builder::Date(_), Prim::Str(s)) => datetime::parse_date_days(s)
                .map(|_| ())
                .map_err(|e| self.cell_err(i, e.to_string())),
            (Builder::Ts(_), Prim::Str(s)) => datetime::parse_date_time_micros(s)
                .map(|_| ())
                .map_err(|e| self.cell_err(i, e.to_string())),
            (Builder::Date(_) | Builder::Ts(_), _) => Err(self.cell_err(i, "is not a date".into())),
            _ => Ok(()),
        }
    }

    /// Appends a row. In typed columns a value that does not convert is an error and nothing of
    /// the row is appended (call [`BatchBuilder::check`] first when rows come in groups).
    pub fn push(&mut self, row: &Row<'_>) -> Result<(), CellError> {
        self.check(row)?;
        self.append_checked(row);
        Ok(())
    }

    /// Appends a row that [`BatchBuilder::check`] accepted (a value that does not convert
    /// becomes null).
    pub fn append_checked(&mut self, row: &Row<'_>) {
        for (i, cell) in row.iter().enumerate() {
            let item = match cell {
                Cell::Null => None,
                Cell::One(it) => Some(it),
                Cell::Many(items) => {
                    if let Builder::List(b) = &mut self.builders[i] {
                        for it in items {
                            match text_of(it) {
                                Some(t) => b.values().append_value(t),
                                None => b.values().append_null(),
                            }
                        }
                        b.append(true);
                    }
                    continue;
                }
            };
            match &mut self.builders[i] {
                Builder::Str(b) => match item.and_then(|it| it.prim()) {
                    Some(Prim::Str(s)) => b.append_value(s),
                    Some(p) => b.append_value(
                        text_of(&match p {
                            Prim::Int(n) => Item::Int(n),
                            Prim::Dec(f) => Item::Dec(f),
                            Prim::Bool(v) => Item::Bool(v),
                            Prim::Str(_) => unreachable!("handled above"),
                        })
                        .unwrap_or_default(),
                    ),
                    None => b.append_null(),
                },
                Builder::Int(b) => b.append_option(item.and_then(|it| match it.prim() {
                    Some(Prim::Int(n)) => Some(n),
                    _ => None,
                })),
                Builder::Dec(b) => b.append_option(item.and_then(|it| match it.prim() {
                    Some(Prim::Int(n)) => Some(n as f64),
                    Some(Prim::Dec(f)) => Some(f),
                    _ => None,
                })),
                Builder::Bool(b) => b.append_option(item.and_then(|it| match it.prim() {
                    Some(Prim::Bool(v)) => Some(v),
                    _ => None,
                })),
                Builder::Date(b) => b.append_option(item.and_then(|it| match it.prim() {
                    Some(Prim::Str(s)) => datetime::parse_date_days(s).ok(),
                    _ => None,
                })),
                Builder::Ts(b) => b.append_option(item.and_then(|it| match it.prim() {
                    Some(Prim::Str(s)) => datetime::parse_date_time_micros(s).ok(),
                    _ => None,
                })),
                Builder::List(b) => {
                    if let Some(t) = item.and_then(text_of) {
                        b.values().append_value(t);
                        b.append(true);
                    } else {
                        b.append(false);
                    }
                }
            }
        }
        self.rows += 1;
    }

    /// The accumulated rows as a record batch; the builder is empty afterwards.
    pub fn finish(&mut self) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(|b| -> ArrayRef {
                match b {
                    Builder::Str(b) => Arc::new(b.finish()),
                    Builder::Int(b) => Arc::new(b.finish()),
                    Builder::Dec(b) => Arc::new(b.finish()),
                    Builder::Bool(b) => Arc::new(b.finish()),
                    Builder::Date(b) => Arc::new(b.finish()),
                    Builder::Ts(b) => Arc::new(b.finish()),
                    Builder::List(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays).expect("builders follow the schema")
    }

    /// [`BatchBuilder::finish`], then room made for `rows` more rows like these, each column's
    /// buffers sized from what it held: while the next batch fills no buffer is copied to a
    /// larger one (Arrow's builders start empty after `finish` and double as they go).
    pub fn finish_and_reserve(&mut self, rows: usize) -> RecordBatch {
        let had = self.rows.max(1);
        let batch = self.finish();
        // the text the batch held, scaled to `rows` and an eighth more
        let room = |bytes: usize| bytes.saturating_mul(rows) / had + bytes / 8;
        for (b, col) in self.builders.iter_mut().zip(batch.columns()) {
            let (items, list_text, text) = match col.data_type() {
                DataType::List(_) => {
                    let items = col.as_list::<i32>().values();
                    (
                        room(items.len()),
                        room(items.as_string::<i32>().values().len()),
                        0,
                    )
                }
                DataType::Utf8 => (0, 0, room(col.as_string::<i32>().values().len())),
                _ => (0, 0, 0),
            };
            *b = Builder::for_type(col.data_type(), rows, items, list_text, text);
        }
        batch
    }
}

/// A row as a JSON object, as the spec's tests state expected rows.
pub fn row_to_json(view: &ViewDefinition, row: &Row<'_>) -> serde_json::Map<String, Json> {
    fn item_json(it: &Item<'_>) -> Json {
        match it.prim() {
            Some(Prim::Str(s)) => Json::String(s.to_owned()),
            Some(Prim::Int(n)) => Json::from(n),
            Some(Prim::Dec(f)) => serde_json::Number::from_f64(f)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Some(Prim::Bool(b)) => Json::Bool(b),
            None => match it {
                Item::Node(v, _) => to_json(*v),
                _ => Json::Null,
            },
        }
    }
    view.columns
        .iter()
        .zip(row)
        .map(|(c, cell)| {
            let v = match cell {
                Cell::Null => {
                    if c.collection {
                        Json::Array(Vec::new())
                    } else {
                        Json::Null
                    }
                }
                Cell::One(it) => item_json(it),
                Cell::Many(items) => Json::Array(items.iter().map(item_json).collect()),
            };
            (c.name.clone(), v)
        })
        .collect()
}

/// Converts a borrowed simd-json value to a `serde_json` value.
pub fn to_json(v: Node<'_>) -> Json {
    match fhirpath::kind(v) {
        Kind::Null => Json::Null,
        Kind::Bool(b) => Json::Bool(b),
        Kind::Int(n) => Json::from(n),
        Kind::UInt(n) => Json::from(n),
        Kind::Dec(f) => serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Kind::Str(s) => Json::String(s.to_owned()),
        Kind::Arr(a) => Json::Array(a.iter().map(to_json).collect()),
        Kind::Obj(o) => Json::Object(o.iter().map(|(k, v)| (k.to_owned(), to_json(v))).collect()),
    }
}

/// What [`run_files`] found wrong: records it could not use, and references it could not resolve.
#[derive(Debug, Default)]
pub struct RunProblems {
    /// Records that are not resources, and resources the view cannot evaluate (skipped).
    pub rejected: Vec<crate::resource::Problem>,
    /// References that resolve to nothing (an `urn:` reference to no entry of its Bundle, or in
    /// NDJSON), one per resource and reference: the rows are output with the key left empty.
    pub unresolved: Vec<crate::resource::Problem>,
}

/// Runs `view` over input files, calling `on_row` for every row (rows borrow the input, so
/// consume them in the callback). References between the entries of a Bundle resolve through
/// their `fullUrl`s ([`crate::bundle`]). Records that are not resources and resources the view
/// cannot evaluate are returned as problems, and so are references that resolve to nothing; a
/// file that cannot be read stops the run.
pub fn run_files<E: std::fmt::Display>(
    view: &ViewDefinition,
    files: &[crate::read::InputFile],
    on_row: &mut dyn FnMut(&Row<'_>) -> Result<(), E>,
) -> Result<RunProblems, crate::read::ReadError> {
    let mut problems = RunProblems::default();
    let mut parser = crate::resource::Parser::new();
    for f in files {
        crate::read::read_file(f, 4 << 20, &mut |chunk| {
            let (file, entry) = (chunk.file.clone(), chunk.entries);
            let scope = RefScope::new(chunk.refs.clone());
            chunk.for_each(|_, line, bytes| {
                let location = || crate::read::Location {
                    file: file.clone(),
                    line,
                    entry,
                };
                let problem = |element: Option<String>, message: String| crate::resource::Problem {
                    location: location(),
                    element,
                    message,
                };
                parser.parse(bytes, false, |parsed| match parsed {
                    Err((element, message)) => problems.rejected.push(problem(element, message)),
                    Ok((v, rt, _)) => {
                        let mut rows = Vec::new();
                        match view.eval_in(v, &mut rows, false, Some(&scope)) {
                            Err(e) => problems.rejected.push(problem(None, e.to_string())),
                            Ok(()) => {
                                for r in &rows {
                                    if let Err(m) = on_row(r) {
                                        problems.rejected.push(problem(None, m.to_string()));
                                    }
                                }
                            }
                        }
                        for u in scope.take_unresolved() {
                            problems.unresolved.push(problem(
                                Some(rt.to_owned()),
                                crate::bundle::unresolved_message(&u),
                            ));
                        }
                    }
                });
            });
            true
        })?;
    }
    Ok(problems)
}
