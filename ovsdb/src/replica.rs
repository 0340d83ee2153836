//! The local replica ("IDL"): rows keyed by UUID, kept in sync by `update2` /
//! `update3` notifications, read through immutable [`Snapshot`]s.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use uuid::Uuid;

use crate::Error;
use crate::datum::Datum;
use crate::schema::{DatabaseSchema, TableSchema};

/// One row: column name to value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// The columns (in a replica: every column of the schema, defaults included).
    pub columns: BTreeMap<String, Datum>,
}

impl Row {
    /// The value of a column.
    pub fn get(&self, column: &str) -> Option<&Datum> {
        self.columns.get(column)
    }

    /// Parses a row object without a schema.
    pub fn from_json(v: &Value) -> Result<Self, Error> {
        let o = v
            .as_object()
            .ok_or_else(|| Error::Protocol(format!("row is not an object: {v}")))?;
        let columns = o
            .iter()
            .map(|(k, v)| Ok((k.clone(), Datum::from_json(v)?)))
            .collect::<Result<_, Error>>()?;
        Ok(Row { columns })
    }
}

/// One table of a replica.
pub type Table = BTreeMap<Uuid, Arc<Row>>;

/// One row's change in an `update2`/`update3` notification.
#[derive(Debug, Clone, PartialEq)]
pub enum RowUpdate {
    /// Present when the monitor started (all non-default columns).
    Initial(Row),
    /// Inserted (all non-default columns).
    Insert(Row),
    /// Deleted.
    Delete,
    /// Modified: changed columns only; for sets and maps with `max > 1`, the
    /// elements to toggle.
    Modify(Row),
}

/// The `<table-updates2>` object: table name to row UUID to change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableUpdates(pub BTreeMap<String, BTreeMap<Uuid, RowUpdate>>);

impl TableUpdates {
    /// Parses `<table-updates2>`.
    pub fn parse(v: &Value) -> Result<Self, Error> {
        let mut out = BTreeMap::new();
        let o = v
            .as_object()
            .ok_or_else(|| Error::Protocol(format!("table-updates2 is not an object: {v}")))?;
        for (table, rows) in o {
            let rows = rows
                .as_object()
                .ok_or_else(|| Error::Protocol(format!("bad table-update2 for {table}")))?;
            let mut t = BTreeMap::new();
            for (uuid, ru) in rows {
                let uuid = Uuid::parse_str(uuid)
                    .map_err(|e| Error::Protocol(format!("bad row uuid {uuid:?}: {e}")))?;
                let ru = ru
                    .as_object()
                    .filter(|o| o.len() == 1)
                    .ok_or_else(|| Error::Protocol(format!("bad row-update2: {ru}")))?;
                let (kind, row) = ru.iter().next().expect("one entry");
                let update = match kind.as_str() {
                    "initial" => RowUpdate::Initial(Row::from_json(row)?),
                    "insert" => RowUpdate::Insert(Row::from_json(row)?),
                    "modify" => RowUpdate::Modify(Row::from_json(row)?),
                    "delete" => RowUpdate::Delete,
                    _ => {
                        return Err(Error::Protocol(format!(
                            "unknown row-update2 kind {kind:?}"
                        )));
                    }
                };
                t.insert(uuid, update);
            }
            out.insert(table.clone(), t);
        }
        Ok(TableUpdates(out))
    }

    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(BTreeMap::is_empty)
    }
}

/// A consistent, immutable view of the replica at one generation.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Incremented on every change of the replica.
    pub generation: u64,
    /// The schema the replica follows (`None` before the first connection).
    pub schema: Option<Arc<DatabaseSchema>>,
    /// Tables by name.
    pub tables: BTreeMap<String, Arc<Table>>,
    /// The id of the last transaction reflected (clustered servers only).
    pub last_txn_id: Option<Uuid>,
}

impl Snapshot {
    /// A table (empty tables may be absent).
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name).map(|t| &**t)
    }

    /// The rows of a table (none if absent).
    pub fn rows(&self, table: &str) -> impl Iterator<Item = (&Uuid, &Row)> {
        self.tables
            .get(table)
            .into_iter()
            .flat_map(|t| t.iter().map(|(u, r)| (u, &**r)))
    }

    /// One row.
    pub fn row(&self, table: &str, uuid: &Uuid) -> Option<&Row> {
        self.tables.get(table)?.get(uuid).map(|r| &**r)
    }

    /// The first row whose `column` equals `value`.
    pub fn find(&self, table: &str, column: &str, value: &Datum) -> Option<(Uuid, &Row)> {
        self.rows(table)
            .find(|(_, r)| r.get(column) == Some(value))
            .map(|(u, r)| (*u, r))
    }

    /// Number of rows in a table.
    pub fn len(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, |t| t.len())
    }
}

/// The mutable replica behind the snapshots.
#[derive(Debug, Clone, Default)]
pub struct Replica {
    snap: Snapshot,
}

impl Replica {
    /// An empty replica without schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the schema used to fill defaults and to interpret `modify`.
    pub fn set_schema(&mut self, schema: Arc<DatabaseSchema>) {
        if self.snap.schema.as_deref() != Some(&*schema) {
            self.snap.schema = Some(schema);
            self.snap.generation += 1;
        }
    }

    /// Drops every row (a full dump follows).
    pub fn clear(&mut self) {
        self.snap.tables.clear();
        self.snap.generation += 1;
    }

    /// Records the last transaction id.
    pub fn set_last_txn_id(&mut self, id: Option<Uuid>) {
        self.snap.last_txn_id = id;
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.snap.generation
    }

    /// A snapshot of the current contents (cheap: tables are shared).
    pub fn snapshot(&self) -> Snapshot {
        self.snap.clone()
    }

    /// Applies `update2`/`update3` changes and bumps the generation.
    pub fn apply(&mut self, updates: &TableUpdates) -> Result<(), Error> {
        let schema = self.snap.schema.clone();
        for (tname, rows) in &updates.0 {
            let ts = schema.as_ref().and_then(|s| s.tables.get(tname));
            let table = Arc::make_mut(self.snap.tables.entry(tname.clone()).or_default());
            for (uuid, update) in rows {
                match update {
                    RowUpdate::Initial(row) | RowUpdate::Insert(row) => {
                        table.insert(*uuid, Arc::new(new_row(ts, row)));
                    }
                    RowUpdate::Delete => {
                        if table.remove(uuid).is_none() {
                            tracing::warn!(table = %tname, %uuid, "delete of an unknown row");
                        }
                    }
                    RowUpdate::Modify(diff) => {
                        let row = table.entry(*uuid).or_insert_with(|| {
                            tracing::warn!(table = %tname, %uuid, "modify of an unknown row");
                            Arc::new(new_row(ts, &Row::default()))
                        });
                        let row = Arc::make_mut(row);
                        for (col, d) in &diff.columns {
                            let ty = ts.and_then(|t| t.columns.get(col)).map(|c| &c.type_);
                            match ty {
                                Some(ty) if ty.is_multi() => {
                                    let d = d.clone().coerce(ty);
                                    row.columns
                                        .entry(col.clone())
                                        .or_insert_with(|| Datum::default_of(ty))
                                        .apply_diff(&d);
                                }
                                Some(ty) => {
                                    row.columns.insert(col.clone(), d.clone().coerce(ty));
                                }
                                None => {
                                    row.columns.insert(col.clone(), d.clone());
                                }
                            }
                        }
                    }
                }
            }
            if table.is_empty() {
                self.snap.tables.remove(tname);
            }
        }
        self.snap.generation += 1;
        Ok(())
    }
}

fn new_row(ts: Option<&TableSchema>, given: &Row) -> Row {
    let mut columns: BTreeMap<String, Datum> = ts
        .map(|t| {
            t.columns
                .iter()
                .map(|(n, c)| (n.clone(), Datum::default_of(&c.type_)))
                .collect()
        })
        .unwrap_or_default();
    for (k, v) in &given.columns {
        let v = match ts.and_then(|t| t.columns.get(k)) {
            Some(c) => v.clone().coerce(&c.type_),
            None => v.clone(),
        };
        columns.insert(k.clone(), v);
    }
    Row { columns }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Arc<DatabaseSchema> {
        Arc::new(
            DatabaseSchema::parse(&json!({"name": "db", "version": "1", "tables": {"T": {"columns": {
                "name": {"type": "string"},
                "opt": {"type": {"key": "string", "min": 0, "max": 1}},
                "s": {"type": {"key": "integer", "min": 0, "max": "unlimited"}},
                "m": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}}
            }}}}))
            .unwrap(),
        )
    }

    const U: &str = "36bbf5d9-6d49-4bd2-a5c6-a4ff2ac8c4a6";

    #[test]
    fn insert_modify_delete() {
        let mut r = Replica::new();
        r.set_schema(schema());
        r.apply(
            &TableUpdates::parse(
                &json!({"T": {U: {"insert": {"name": "a", "s": ["set", [1, 2]]}}}}),
            )
            .unwrap(),
        )
        .unwrap();
        let u = Uuid::parse_str(U).unwrap();
        let snap = r.snapshot();
        let row = snap.row("T", &u).unwrap();
        assert_eq!(row.get("name"), Some(&Datum::from("a")));
        assert_eq!(row.get("opt"), Some(&Datum::empty_set()));
        assert_eq!(row.get("m"), Some(&Datum::empty_map()));
        r.apply(
            &TableUpdates::parse(&json!({"T": {U: {"modify": {
                "name": "b", "opt": "x", "s": ["set", [2, 3]], "m": ["map", [["k", "v"]]]
            }}}}))
            .unwrap(),
        )
        .unwrap();
        let snap2 = r.snapshot();
        let row = snap2.row("T", &u).unwrap();
        assert_eq!(row.get("name"), Some(&Datum::from("b")));
        assert_eq!(row.get("opt"), Some(&Datum::from("x")));
        assert_eq!(row.get("s"), Some(&Datum::set([1i64, 3])));
        assert_eq!(row.get("m"), Some(&Datum::map([("k", "v")])));
        // The old snapshot is untouched.
        assert_eq!(
            snap.row("T", &u).unwrap().get("name"),
            Some(&Datum::from("a"))
        );
        assert!(snap2.generation > snap.generation);
        r.apply(&TableUpdates::parse(&json!({"T": {U: {"delete": null}}})).unwrap())
            .unwrap();
        assert_eq!(r.snapshot().len("T"), 0);
    }
}
