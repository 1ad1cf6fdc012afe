//! PostgreSQL: connections (the sync `postgres` client, no TLS: run it on loopback or a
//! private network), a small pool, and the listener that turns other replicas' `NOTIFY`s
//! into wake-ups. Every call blocks; the hub makes them on tokio's blocking pool.

use super::backend::{Arg, Row, Value, dollar_params};
use super::{DbError, R};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(d) => DbError(match d.detail() {
                Some(detail) => format!("{}: {} ({detail})", d.severity(), d.message()),
                None => format!("{}: {}", d.severity(), d.message()),
            }),
            None => {
                let mut s = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(c) = src {
                    s.push_str(": ");
                    s.push_str(&c.to_string());
                    src = c.source();
                }
                DbError(s)
            }
        }
    }
}

/// A PostgreSQL connection string with its password hidden when shown.
#[derive(Clone)]
pub struct PgUrl(postgres::Config);

impl PgUrl {
    /// Reads a `postgres://user:password@host:port/db` URL (or `key=value` string).
    pub fn parse(url: &str) -> R<PgUrl> {
        let mut c: postgres::Config = url
            .parse()
            .map_err(|e| DbError(format!("database_url: {e}")))?;
        if c.get_application_name().is_none() {
            c.application_name("kakehashi-hub");
        }
        c.connect_timeout(Duration::from_secs(10));
        Ok(PgUrl(c))
    }

    fn connect(&self) -> R<Client> {
        self.0
            .connect(NoTls)
            .map_err(|e| DbError(format!("connecting to {self}: {}", DbError::from(e).0)))
    }
}

impl std::fmt::Display for PgUrl {
    /// `postgres://user@host:port/db`, never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.0;
        write!(f, "postgres://{}@", c.get_user().unwrap_or(""))?;
        for (i, h) in c.get_hosts().iter().enumerate() {
            if i > 0 {
                write!(f, ",")?;
            }
            match h {
                postgres::config::Host::Tcp(h) => write!(f, "{h}")?,
                postgres::config::Host::Unix(p) => write!(f, "[{}]", p.display())?,
            }
            if let Some(p) = c.get_ports().get(i) {
                write!(f, ":{p}")?;
            }
        }
        write!(f, "/{}", c.get_dbname().unwrap_or(""))
    }
}

/// One pooled connection with its prepared statements.
pub(crate) struct PgConn {
    client: Client,
    stmts: HashMap<&'static str, Statement>,
    /// A transaction is open (a connection returned so is closed, which rolls it back).
    pub(crate) in_tx: bool,
}

impl PgConn {
    fn stmt(&mut self, sql: &'static str) -> R<Statement> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&dollar_params(sql))?;
        self.stmts.insert(sql, s.clone());
        Ok(s)
    }

    fn params<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
        args.iter()
            .map(|a| match a {
                Arg::Text(t) => t as &(dyn ToSql + Sync),
                Arg::Int(i) => i as &(dyn ToSql + Sync),
            })
            .collect()
    }

    pub(crate) fn exec(&mut self, sql: &'static str, args: &[Arg<'_>]) -> R<u64> {
        let s = self.stmt(sql)?;
        Ok(self.client.execute(&s, &Self::params(args))?)
    }

    pub(crate) fn rows(&mut self, sql: &'static str, args: &[Arg<'_>]) -> R<Vec<Row>> {
        let s = self.stmt(sql)?;
        let rows = self.client.query(&s, &Self::params(args))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut row = Vec::with_capacity(r.len());
            for (i, col) in r.columns().iter().enumerate() {
                let t = col.type_();
                row.push(if *t == Type::INT8 {
                    r.try_get::<_, Option<i64>>(i)?
                        .map_or(Value::Null, Value::Int)
                } else if *t == Type::INT4 {
                    r.try_get::<_, Option<i32>>(i)?
                        .map_or(Value::Null, |n| Value::Int(n.into()))
                } else if *t == Type::BOOL {
                    r.try_get::<_, Option<bool>>(i)?
                        .map_or(Value::Null, |b| Value::Int(b.into()))
                } else if [Type::TEXT, Type::VARCHAR, Type::NAME, Type::BPCHAR].contains(t) {
                    r.try_get::<_, Option<String>>(i)?
                        .map_or(Value::Null, Value::Text)
                } else {
                    return Err(DbError(format!(
                        "column {} has type {t}, which the store does not read",
                        col.name()
                    )));
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }

    /// Runs statements without parameters; the prepared ones are forgotten (their tables may
    /// have changed).
    pub(crate) fn batch(&mut self, sql: &str) -> R<()> {
        self.stmts.clear();
        Ok(self.client.batch_execute(sql)?)
    }

    /// Runs `BEGIN`, `COMMIT` or `ROLLBACK`.
    pub(crate) fn simple(&mut self, sql: &str) -> R<()> {
        Ok(self.client.batch_execute(sql)?)
    }
}

struct Slots {
    idle: Vec<PgConn>,
    open: usize,
}

/// A small pool of connections: at most `max` open, idle ones reused.
pub(crate) struct Pool {
    url: PgUrl,
    max: usize,
    slots: Mutex<Slots>,
    freed: Condvar,
}

/// A connection taken from the [`Pool`], given back when dropped.
pub(crate) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<PgConn>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = PgConn;
    fn deref(&self) -> &PgConn {
        self.conn.as_ref().expect("held until dropped")
    }
}
impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut PgConn {
        self.conn.as_mut().expect("held until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let mut s = self.pool.lock();
        match self.conn.take() {
            // a broken connection, or one left in a transaction by a panic, is closed
            Some(c) if !c.in_tx && !c.client.is_closed() => s.idle.push(c),
            _ => s.open -= 1,
        }
        drop(s);
        self.pool.freed.notify_one();
    }
}

impl Drop for Pool {
    /// Closes the idle connections on a thread of its own: closing one blocks (the client
    /// runs a small runtime of its own), which the async runtime's threads must not do, and
    /// the last hub handle may be dropped on one of them.
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        if idle.is_empty() {
            return;
        }
        let _ = std::thread::Builder::new()
            .name("hub-db-close".into())
            .spawn(move || drop(idle))
            .map(|t| t.join());
    }
}

impl Pool {
    /// A pool of at most `max` connections to `url` (none opened yet).
    pub(crate) fn new(url: PgUrl, max: usize) -> Pool {
        Pool {
            url,
            max: max.max(1),
            slots: Mutex::new(Slots {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The database's URL (password hidden when shown).
    pub(crate) fn url(&self) -> &PgUrl {
        &self.url
    }

    /// An idle connection, a new one while fewer than `max` are open, or the next one
    /// given back (an error after 30 s).
    pub(crate) fn get(&self) -> R<Pooled<'_>> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut s = self.lock();
        loop {
            if let Some(c) = s.idle.pop() {
                return Ok(Pooled {
                    pool: self,
                    conn: Some(c),
                });
            }
            if s.open < self.max {
                s.open += 1;
                drop(s);
                return match self.url.connect() {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        conn: Some(PgConn {
                            client,
                            stmts: HashMap::new(),
                            in_tx: false,
                        }),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(DbError(format!(
                    "all {} database connections stayed busy for 30 s",
                    self.max
                )));
            }
            s = self
                .freed
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// What another replica (or this one) announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// A task was created: sites' polls look again.
    NewTask,
    /// A task got an answer or a hold: its readers look again.
    Answer(String),
    /// The listener lost its connection and may have missed announcements: everyone looks
    /// again.
    Missed,
}

/// The channels the store announces on.
pub(crate) const NEW_TASK: &str = "kakehashi_new_task";
/// See [`NEW_TASK`].
pub(crate) const ANSWER: &str = "kakehashi_answer";

/// Listens on a connection of its own (a thread) and hands each announcement to `on`, until
/// `on` returns false (it is asked with `None` after each quiet second). Returns once listening has begun (or failed to begin).
pub(crate) fn listen(url: PgUrl, mut on: Box<dyn FnMut(Option<Wake>) -> bool + Send>) -> R<()> {
    fn start(url: &PgUrl) -> R<Client> {
        let mut c = url.connect()?;
        c.batch_execute(&format!("LISTEN {NEW_TASK}; LISTEN {ANSWER};"))?;
        Ok(c)
    }
    let mut client = start(&url)?;
    std::thread::Builder::new()
        .name("hub-db-listen".into())
        .spawn(move || {
            let mut backoff = Duration::from_millis(100);
            loop {
                let mut notes = client.notifications();
                let mut it = notes.timeout_iter(Duration::from_secs(1));
                let failed = loop {
                    match it.next() {
                        Ok(Some(n)) => {
                            let w = if n.channel() == NEW_TASK {
                                Wake::NewTask
                            } else {
                                Wake::Answer(n.payload().to_owned())
                            };
                            if !on(Some(w)) {
                                return;
                            }
                        }
                        // a quiet second: still wanted?
                        Ok(None) => break None,
                        Err(e) => break Some(e),
                    }
                };
                drop(it);
                drop(notes);
                match failed {
                    None if client.is_closed() => {}
                    None => {
                        if !on(None) {
                            return;
                        }
                        continue;
                    }
                    Some(e) => tracing::warn!(error = %DbError::from(e), "database listener lost its connection"),
                }
                // reconnect, then wake everyone: announcements may have been missed meanwhile
                loop {
                    std::thread::sleep(backoff);
                    if !on(None) {
                        return;
                    }
                    match start(&url) {
                        Ok(c) => {
                            client = c;
                            backoff = Duration::from_millis(100);
                            if !on(Some(Wake::Missed)) {
                                return;
                            }
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "database listener cannot reconnect");
                            backoff = (backoff * 2).min(Duration::from_secs(10));
                        }
                    }
                }
            }
        })
        .map_err(|e| DbError(format!("starting the database listener: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::PgUrl;
    use crate::config::DatabaseUrl;

    #[test]
    fn a_database_url_is_shown_without_its_password() {
        let url = "postgres://kh:s3cret-pw@127.0.0.1:5433/hub";
        let shown = PgUrl::parse(url).unwrap().to_string();
        assert_eq!(shown, "postgres://kh@127.0.0.1:5433/hub");
        let debug = format!("{:?}", DatabaseUrl(url.into()));
        assert!(!debug.contains("s3cret"), "{debug}");
        let err = PgUrl::parse("postgres://kh:s3cret-pw@host:notaport/hub")
            .err()
            .unwrap();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
