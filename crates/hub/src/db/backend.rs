//! The two backends behind the store's one API: a statement ([`Sql`]) is written once where
//! SQLite and PostgreSQL agree and twice, side by side, where they differ; it takes its
//! parameters as [`Arg`]s (numbered `?1`, `?2`, … in both texts: PostgreSQL's `$1` is made
//! from them) and gives its rows as [`Row`]s of text, integers and nulls. Every value reaches
//! the database as a bound parameter, never inside the SQL text.

use super::pg::PgConn;
use super::{DbError, R};

/// One statement in the SQL of each backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sql {
    /// SQLite's text.
    pub(crate) sqlite: &'static str,
    /// PostgreSQL's text (its `?N` read as `$N`).
    pub(crate) postgres: &'static str,
}

impl Sql {
    /// A statement both backends read alike.
    pub(crate) const fn both(sql: &'static str) -> Sql {
        Sql {
            sqlite: sql,
            postgres: sql,
        }
    }

    /// A statement each backend writes its own way.
    pub(crate) const fn each(sqlite: &'static str, postgres: &'static str) -> Sql {
        Sql { sqlite, postgres }
    }
}

/// A bound parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    /// Text, or NULL.
    Text(Option<&'a str>),
    /// A 64-bit integer.
    Int(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(Some(s))
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Text(Some(s))
    }
}
impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(s: Option<&'a str>) -> Self {
        Arg::Text(s)
    }
}
impl<'a> From<&'a Option<String>> for Arg<'a> {
    fn from(s: &'a Option<String>) -> Self {
        Arg::Text(s.as_deref())
    }
}
impl From<i64> for Arg<'_> {
    fn from(i: i64) -> Self {
        Arg::Int(i)
    }
}

/// The parameters of a statement: `args![a, b]`, each converted with [`Arg::from`].
macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$($crate::db::backend::Arg::from($a)),*] };
}
pub(crate) use args;

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Arg::Text(t) => t.to_sql(),
            Arg::Int(i) => i.to_sql(),
        }
    }
}

/// A value read back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
}

/// A row read back.
#[derive(Debug, Clone)]
pub(crate) struct Row(pub(crate) Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> R<&Value> {
        self.0
            .get(i)
            .ok_or_else(|| DbError(format!("the row has no column {i}")))
    }

    /// Column `i` as text, which must not be NULL.
    pub(crate) fn text(&self, i: usize) -> R<String> {
        self.opt_text(i)?
            .ok_or_else(|| DbError(format!("column {i} is NULL, text expected")))
    }

    /// Column `i` as text or NULL.
    pub(crate) fn opt_text(&self, i: usize) -> R<Option<String>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            Value::Int(n) => Err(DbError(format!(
                "column {i} holds the integer {n}, text expected"
            ))),
        }
    }

    /// Column `i` as an integer.
    pub(crate) fn int(&self, i: usize) -> R<i64> {
        match self.at(i)? {
            Value::Int(n) => Ok(*n),
            other => Err(DbError(format!(
                "column {i} holds {other:?}, an integer expected"
            ))),
        }
    }
}

/// A connection of either backend, in a transaction or not ([`super::Db::read`],
/// [`super::Db::write`]).
pub(crate) enum Conn<'a> {
    /// SQLite.
    Lite(&'a rusqlite::Connection),
    /// PostgreSQL.
    Pg(&'a mut PgConn),
}

impl Conn<'_> {
    /// Runs a statement; the number of rows it changed.
    pub(crate) fn exec(&mut self, q: &Sql, args: &[Arg<'_>]) -> R<u64> {
        match self {
            Conn::Lite(c) => Ok(c
                .prepare_cached(q.sqlite)?
                .execute(rusqlite::params_from_iter(args))? as u64),
            Conn::Pg(c) => c.exec(q.postgres, args),
        }
    }

    /// Runs a query; its rows.
    pub(crate) fn rows(&mut self, q: &Sql, args: &[Arg<'_>]) -> R<Vec<Row>> {
        match self {
            Conn::Lite(c) => {
                let mut stmt = c.prepare_cached(q.sqlite)?;
                let n = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        use rusqlite::types::ValueRef;
                        row.push(match r.get_ref(i)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(n) => Value::Int(n),
                            ValueRef::Text(t) => Value::Text(
                                std::str::from_utf8(t)
                                    .map_err(|e| DbError(format!("column {i}: {e}")))?
                                    .to_owned(),
                            ),
                            other => {
                                return Err(DbError(format!(
                                    "column {i}: unexpected {:?}",
                                    other.data_type()
                                )));
                            }
                        });
                    }
                    out.push(Row(row));
                }
                Ok(out)
            }
            Conn::Pg(c) => c.rows(q.postgres, args),
        }
    }

    /// The first row of a query, if any.
    pub(crate) fn row(&mut self, q: &Sql, args: &[Arg<'_>]) -> R<Option<Row>> {
        Ok(self.rows(q, args)?.into_iter().next())
    }

    /// The integer a query gives (its first column of its first row), e.g. a `count(*)`.
    pub(crate) fn int(&mut self, q: &Sql, args: &[Arg<'_>]) -> R<i64> {
        self.row(q, args)?
            .ok_or_else(|| DbError("the query gave no row".into()))?
            .int(0)
    }

    /// Runs several statements without parameters (migrations).
    pub(crate) fn batch(&mut self, q: &Sql) -> R<()> {
        match self {
            Conn::Lite(c) => Ok(c.execute_batch(q.sqlite)?),
            Conn::Pg(c) => c.batch(q.postgres),
        }
    }

    /// Tells the other replicas on the same database (PostgreSQL `NOTIFY`, delivered when the
    /// transaction commits); nothing on SQLite, where one hub process owns the file.
    pub(crate) fn notify(&mut self, channel: &str, payload: &str) -> R<()> {
        match self {
            Conn::Lite(_) => Ok(()),
            Conn::Pg(c) => c
                .exec("SELECT pg_notify($1, $2)", args![channel, payload])
                .map(|_| ()),
        }
    }
}

/// PostgreSQL's text of a statement written with `?N` parameters: each `?N` outside quotes
/// becomes `$N`.
pub(crate) fn dollar_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '\'' || ch == '"' => quote = Some(ch),
            None if ch == '?' && chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('$');
                continue;
            }
            None => {}
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::dollar_params;

    #[test]
    fn numbered_parameters_become_dollar_parameters_outside_quotes() {
        assert_eq!(
            dollar_params("SELECT '?1', \"?2\" FROM t WHERE a = ?1 AND b = ?12 OR c = ?"),
            "SELECT '?1', \"?2\" FROM t WHERE a = $1 AND b = $12 OR c = ?"
        );
        assert_eq!(
            dollar_params("x = 'it''s ?3' AND y = ?3"),
            "x = 'it''s ?3' AND y = $3"
        );
    }
}
