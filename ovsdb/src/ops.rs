//! Typed builders for `transact` operations and parsing of their results.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::Error;
use crate::datum::Datum;
use crate::replica::Row;

/// A condition function (RFC 7047 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `includes`
    Includes,
    /// `excludes`
    Excludes,
}

impl Function {
    fn as_str(self) -> &'static str {
        match self {
            Function::Lt => "<",
            Function::Le => "<=",
            Function::Eq => "==",
            Function::Ne => "!=",
            Function::Ge => ">=",
            Function::Gt => ">",
            Function::Includes => "includes",
            Function::Excludes => "excludes",
        }
    }
}

/// A condition `[column, function, value]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// Column name (`_uuid` allowed).
    pub column: String,
    /// Comparison.
    pub function: Function,
    /// Value compared against.
    pub value: Datum,
}

impl Condition {
    /// A condition.
    pub fn new(column: impl Into<String>, function: Function, value: impl Into<Datum>) -> Self {
        Self {
            column: column.into(),
            function,
            value: value.into(),
        }
    }

    /// `column == value`.
    pub fn eq(column: impl Into<String>, value: impl Into<Datum>) -> Self {
        Self::new(column, Function::Eq, value)
    }

    /// `_uuid == uuid`.
    pub fn uuid(uuid: Uuid) -> Self {
        Self::new("_uuid", Function::Eq, uuid)
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        json!([self.column, self.function.as_str(), self.value.to_json()])
    }
}

/// A mutator (RFC 7047 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutator {
    /// `+=`
    Add,
    /// `-=`
    Sub,
    /// `*=`
    Mul,
    /// `/=`
    Div,
    /// `%=`
    Mod,
    /// `insert` (into a set or map)
    Insert,
    /// `delete` (from a set or map)
    Delete,
}

impl Mutator {
    fn as_str(self) -> &'static str {
        match self {
            Mutator::Add => "+=",
            Mutator::Sub => "-=",
            Mutator::Mul => "*=",
            Mutator::Div => "/=",
            Mutator::Mod => "%=",
            Mutator::Insert => "insert",
            Mutator::Delete => "delete",
        }
    }
}

/// A mutation `[column, mutator, value]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    /// Column name.
    pub column: String,
    /// Mutator.
    pub mutator: Mutator,
    /// Argument.
    pub value: Datum,
}

impl Mutation {
    /// The JSON form.
    pub fn to_json(&self) -> Value {
        json!([self.column, self.mutator.as_str(), self.value.to_json()])
    }
}

fn row_json(row: &BTreeMap<String, Datum>) -> Value {
    Value::Object(row.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

fn where_json(conds: &[Condition]) -> Value {
    Value::Array(conds.iter().map(Condition::to_json).collect())
}

/// `insert` a row, optionally under a `uuid-name` that later operations of the same
/// transaction reference with [`Datum::named_uuid`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Insert {
    table: String,
    row: BTreeMap<String, Datum>,
    uuid_name: Option<String>,
}

impl Insert {
    /// An insert into `table`.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            ..Default::default()
        }
    }
    /// Sets a column of the new row.
    pub fn set(mut self, column: impl Into<String>, value: impl Into<Datum>) -> Self {
        self.row.insert(column.into(), value.into());
        self
    }
    /// Names the new row for references within the transaction.
    pub fn uuid_name(mut self, name: impl Into<String>) -> Self {
        self.uuid_name = Some(name.into());
        self
    }
}

/// `update` columns of the rows that match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    table: String,
    conditions: Vec<Condition>,
    row: BTreeMap<String, Datum>,
}

impl Update {
    /// An update of `table`.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            ..Default::default()
        }
    }
    /// Adds a condition (all must hold).
    pub fn where_(mut self, cond: Condition) -> Self {
        self.conditions.push(cond);
        self
    }
    /// Sets a column.
    pub fn set(mut self, column: impl Into<String>, value: impl Into<Datum>) -> Self {
        self.row.insert(column.into(), value.into());
        self
    }
}

/// `mutate` columns of the rows that match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mutate {
    table: String,
    conditions: Vec<Condition>,
    mutations: Vec<Mutation>,
}

impl Mutate {
    /// A mutation of `table`.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            ..Default::default()
        }
    }
    /// Adds a condition (all must hold).
    pub fn where_(mut self, cond: Condition) -> Self {
        self.conditions.push(cond);
        self
    }
    /// Adds a mutation.
    pub fn mutate(
        mut self,
        column: impl Into<String>,
        mutator: Mutator,
        value: impl Into<Datum>,
    ) -> Self {
        self.mutations.push(Mutation {
            column: column.into(),
            mutator,
            value: value.into(),
        });
        self
    }
}

/// `delete` the rows that match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delete {
    table: String,
    conditions: Vec<Condition>,
}

impl Delete {
    /// A delete from `table`.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            ..Default::default()
        }
    }
    /// Adds a condition (all must hold).
    pub fn where_(mut self, cond: Condition) -> Self {
        self.conditions.push(cond);
        self
    }
}

/// `select` the rows that match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Select {
    table: String,
    conditions: Vec<Condition>,
    columns: Option<Vec<String>>,
}

impl Select {
    /// A select from `table`.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            ..Default::default()
        }
    }
    /// Adds a condition (all must hold).
    pub fn where_(mut self, cond: Condition) -> Self {
        self.conditions.push(cond);
        self
    }
    /// Restricts the columns returned.
    pub fn columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }
}

/// What a [`Wait`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitUntil {
    /// The selected rows equal the given rows.
    #[default]
    Equal,
    /// The selected rows differ from the given rows.
    NotEqual,
}

/// `wait` until the rows that match (projected on `columns`) are (or are not)
/// exactly `rows`. With timeout 0 (the default here) it is a precondition: the
/// transaction fails with `timed out` at once when it does not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    table: String,
    conditions: Vec<Condition>,
    columns: Vec<String>,
    until: WaitUntil,
    rows: Vec<BTreeMap<String, Datum>>,
    timeout_ms: Option<u64>,
}

impl Wait {
    /// A wait on `table`.
    pub fn new(table: impl Into<String>, until: WaitUntil) -> Self {
        Self {
            table: table.into(),
            conditions: Vec::new(),
            columns: Vec::new(),
            until,
            rows: Vec::new(),
            timeout_ms: Some(0),
        }
    }
    /// Adds a condition (all must hold).
    pub fn where_(mut self, cond: Condition) -> Self {
        self.conditions.push(cond);
        self
    }
    /// The columns compared.
    pub fn columns<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.columns = columns.into_iter().map(Into::into).collect();
        self
    }
    /// Adds an expected row (columns as given to [`Wait::columns`]).
    pub fn row<S: Into<String>, D: Into<Datum>>(
        mut self,
        row: impl IntoIterator<Item = (S, D)>,
    ) -> Self {
        self.rows
            .push(row.into_iter().map(|(k, v)| (k.into(), v.into())).collect());
        self
    }
    /// Wait up to `ms` milliseconds (`None`: forever).
    pub fn timeout_ms(mut self, ms: Option<u64>) -> Self {
        self.timeout_ms = ms;
        self
    }
}

/// A `comment` for the server's log.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment(pub String);

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// See [`Insert`].
    Insert(Insert),
    /// See [`Update`].
    Update(Update),
    /// See [`Mutate`].
    Mutate(Mutate),
    /// See [`Delete`].
    Delete(Delete),
    /// See [`Select`].
    Select(Select),
    /// See [`Wait`].
    Wait(Wait),
    /// See [`Comment`].
    Comment(Comment),
}

macro_rules! into_op {
    ($($t:ident),*) => {$(
        impl From<$t> for Operation {
            fn from(v: $t) -> Self {
                Operation::$t(v)
            }
        }
    )*};
}
into_op!(Insert, Update, Mutate, Delete, Select, Wait, Comment);

impl Operation {
    /// The JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            Operation::Insert(i) => {
                let mut o = json!({"op": "insert", "table": i.table, "row": row_json(&i.row)});
                if let Some(n) = &i.uuid_name {
                    o["uuid-name"] = json!(n);
                }
                o
            }
            Operation::Update(u) => json!({
                "op": "update", "table": u.table, "where": where_json(&u.conditions), "row": row_json(&u.row)
            }),
            Operation::Mutate(m) => json!({
                "op": "mutate", "table": m.table, "where": where_json(&m.conditions),
                "mutations": m.mutations.iter().map(Mutation::to_json).collect::<Vec<_>>()
            }),
            Operation::Delete(d) => {
                json!({"op": "delete", "table": d.table, "where": where_json(&d.conditions)})
            }
            Operation::Select(s) => {
                let mut o =
                    json!({"op": "select", "table": s.table, "where": where_json(&s.conditions)});
                if let Some(c) = &s.columns {
                    o["columns"] = json!(c);
                }
                o
            }
            Operation::Wait(w) => {
                let mut o = json!({
                    "op": "wait", "table": w.table, "where": where_json(&w.conditions),
                    "columns": w.columns,
                    "until": if w.until == WaitUntil::Equal { "==" } else { "!=" },
                    "rows": w.rows.iter().map(row_json).collect::<Vec<_>>(),
                });
                if let Some(t) = w.timeout_ms {
                    o["timeout"] = json!(t);
                }
                o
            }
            Operation::Comment(c) => json!({"op": "comment", "comment": c.0}),
        }
    }
}

/// The result of one successful operation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperationResult {
    /// `insert`: the new row's UUID.
    pub uuid: Option<Uuid>,
    /// `update`, `mutate`, `delete`: the number of rows matched.
    pub count: Option<u64>,
    /// `select`: the rows.
    pub rows: Option<Vec<Row>>,
}

impl OperationResult {
    fn parse(v: &Value) -> Result<Self, Error> {
        let mut r = OperationResult::default();
        if let Some(u) = v.get("uuid") {
            r.uuid = crate::datum::Atom::from_json(u)?.as_uuid();
        }
        r.count = v.get("count").and_then(Value::as_u64);
        if let Some(rows) = v.get("rows").and_then(Value::as_array) {
            r.rows = Some(rows.iter().map(Row::from_json).collect::<Result<_, _>>()?);
        }
        Ok(r)
    }
}

/// A failed transaction: the first error the server reported, either for one
/// operation (`op_index`) or for the commit (the extra element after the per-op
/// results, `op_index == None`). Nothing of the transaction was committed.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactError {
    /// The operation that failed, or `None` for a commit-time error (constraint
    /// violation, referential integrity, ...).
    pub op_index: Option<usize>,
    /// The error name (`timed out`, `constraint violation`, ...).
    pub error: String,
    /// The details, if any.
    pub details: Option<String>,
    /// The raw result array.
    pub results: Vec<Value>,
}

impl fmt::Display for TransactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op_index {
            Some(i) => write!(f, "transaction failed at operation {i}: {}", self.error)?,
            None => write!(f, "transaction failed: {}", self.error)?,
        }
        if let Some(d) = &self.details {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

impl std::error::Error for TransactError {}

/// The JSON `params` of a `transact` request.
pub fn transact_params(db: &str, ops: &[Operation]) -> Value {
    let mut p = vec![json!(db)];
    p.extend(ops.iter().map(Operation::to_json));
    Value::Array(p)
}

/// Parses the `result` of a `transact` reply for `n_ops` operations.
pub fn parse_transact_result(result: Value, n_ops: usize) -> Result<Vec<OperationResult>, Error> {
    let Value::Array(results) = result else {
        return Err(Error::Protocol(format!(
            "transact result is not an array: {result}"
        )));
    };
    let failed = results.iter().enumerate().find_map(|(i, r)| {
        let e = r.as_object()?.get("error")?;
        Some((i, e.as_str().unwrap_or("unknown error").to_owned(), r))
    });
    if let Some((i, error, r)) = failed {
        let details = r.get("details").and_then(Value::as_str).map(str::to_owned);
        return Err(TransactError {
            op_index: (i < n_ops).then_some(i),
            error,
            details,
            results,
        }
        .into());
    }
    if results.len() < n_ops {
        return Err(Error::Protocol(format!(
            "{} results for {n_ops} operations",
            results.len()
        )));
    }
    results
        .iter()
        .take(n_ops)
        .map(OperationResult::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datum::Atom;

    #[test]
    fn builders_to_json() {
        let ops: Vec<Operation> = vec![
            Insert::new("Logical_Switch")
                .set("name", "ls0")
                .uuid_name("ls")
                .into(),
            Mutate::new("Physical_Port")
                .where_(Condition::eq("name", "p0"))
                .mutate(
                    "vlan_bindings",
                    Mutator::Insert,
                    Datum::map([(100i64, Atom::NamedUuid("ls".into()))]),
                )
                .into(),
            Wait::new("Logical_Switch", WaitUntil::Equal)
                .where_(Condition::eq("name", "x"))
                .columns(["name"])
                .row([("name", "x")])
                .into(),
            Comment("hi".into()).into(),
        ];
        let v = transact_params("hardware_vtep", &ops);
        assert_eq!(v[0], json!("hardware_vtep"));
        assert_eq!(
            v[1],
            json!({"op": "insert", "table": "Logical_Switch", "row": {"name": "ls0"}, "uuid-name": "ls"})
        );
        assert_eq!(
            v[2]["mutations"],
            json!([[
                "vlan_bindings",
                "insert",
                ["map", [[100, ["named-uuid", "ls"]]]]
            ]])
        );
        assert_eq!(v[3]["until"], json!("=="));
        assert_eq!(v[3]["timeout"], json!(0));
        assert_eq!(v[4], json!({"op": "comment", "comment": "hi"}));
    }

    #[test]
    fn results() {
        let ok = parse_transact_result(
            json!([{"uuid": ["uuid", "36bbf5d9-6d49-4bd2-a5c6-a4ff2ac8c4a6"]}, {"count": 2}, {}]),
            3,
        )
        .unwrap();
        assert!(ok[0].uuid.is_some());
        assert_eq!(ok[1].count, Some(2));
        let Err(Error::Transaction(e)) =
            parse_transact_result(json!([{}, {"error": "timed out"}, null]), 3)
        else {
            panic!()
        };
        assert_eq!((e.op_index, e.error.as_str()), (Some(1), "timed out"));
        let Err(Error::Transaction(e)) = parse_transact_result(
            json!([{}, {"error": "referential integrity violation", "details": "x"}]),
            1,
        ) else {
            panic!()
        };
        assert_eq!((e.op_index, e.details.as_deref()), (None, Some("x")));
    }
}
