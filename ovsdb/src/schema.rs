//! Database schemas (RFC 7047 section 3.2), parsed as far as a client needs.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Error;
use crate::datum::Datum;

/// An atomic type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtomicType {
    /// `integer`
    Integer,
    /// `real`
    Real,
    /// `boolean`
    Boolean,
    /// `string`
    String,
    /// `uuid`
    Uuid,
}

impl AtomicType {
    fn parse(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "integer" => AtomicType::Integer,
            "real" => AtomicType::Real,
            "boolean" => AtomicType::Boolean,
            "string" => AtomicType::String,
            "uuid" => AtomicType::Uuid,
            _ => return Err(Error::Protocol(format!("unknown atomic type {s:?}"))),
        })
    }
}

/// The type of a key or value: an atomic type with optional constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseType {
    /// The atomic type.
    pub atomic: AtomicType,
    /// Allowed values, if restricted.
    pub enum_: Option<Datum>,
    /// For UUIDs: the table referenced.
    pub ref_table: Option<String>,
    /// For UUIDs: `true` for strong references (the default), `false` for weak ones.
    pub ref_strong: bool,
}

impl BaseType {
    fn parse(v: &Value) -> Result<Self, Error> {
        match v {
            Value::String(s) => Ok(BaseType {
                atomic: AtomicType::parse(s)?,
                enum_: None,
                ref_table: None,
                ref_strong: true,
            }),
            Value::Object(o) => {
                let atomic = match o.get("type") {
                    Some(Value::String(s)) => AtomicType::parse(s)?,
                    _ => return Err(Error::Protocol(format!("base type without type: {v}"))),
                };
                Ok(BaseType {
                    atomic,
                    enum_: o.get("enum").map(Datum::from_json).transpose()?,
                    ref_table: o.get("refTable").and_then(Value::as_str).map(str::to_owned),
                    ref_strong: o.get("refType").and_then(Value::as_str) != Some("weak"),
                })
            }
            _ => Err(Error::Protocol(format!("bad base type: {v}"))),
        }
    }
}

/// A column type: key, optional value (then it is a map), and cardinality.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnType {
    /// Key (or the only) type.
    pub key: BaseType,
    /// Value type for maps.
    pub value: Option<BaseType>,
    /// Minimum number of elements (0 or 1).
    pub min: u64,
    /// Maximum number of elements; `None` is "unlimited".
    pub max: Option<u64>,
}

impl ColumnType {
    /// Parses a column type (a bare atomic type name or an object).
    pub fn parse(v: &Value) -> Result<Self, Error> {
        match v {
            Value::String(_) => Ok(ColumnType {
                key: BaseType::parse(v)?,
                value: None,
                min: 1,
                max: Some(1),
            }),
            Value::Object(o) => {
                let key = BaseType::parse(
                    o.get("key")
                        .ok_or_else(|| Error::Protocol(format!("type without key: {v}")))?,
                )?;
                let value = o.get("value").map(BaseType::parse).transpose()?;
                let min = o
                    .get("min")
                    .map_or(Some(1), Value::as_u64)
                    .ok_or_else(|| bad(v))?;
                let max = match o.get("max") {
                    None => Some(1),
                    Some(Value::String(s)) if s == "unlimited" => None,
                    Some(m) => Some(m.as_u64().ok_or_else(|| bad(v))?),
                };
                Ok(ColumnType {
                    key,
                    value,
                    min,
                    max,
                })
            }
            _ => Err(bad(v)),
        }
    }

    /// True for maps.
    pub fn is_map(&self) -> bool {
        self.value.is_some()
    }

    /// True when `update2` "modify" carries element differences rather than the new
    /// value: sets and maps that may hold more than one element.
    pub fn is_multi(&self) -> bool {
        self.max != Some(1)
    }
}

fn bad(v: &Value) -> Error {
    Error::Protocol(format!("bad column type: {v}"))
}

/// One column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSchema {
    /// Its type.
    pub type_: ColumnType,
    /// Not persisted (standalone servers only).
    pub ephemeral: bool,
    /// May be modified after insertion.
    pub mutable: bool,
}

/// One table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    /// Columns by name (without `_uuid` and `_version`).
    pub columns: BTreeMap<String, ColumnSchema>,
    /// Root tables keep unreferenced rows; others garbage-collect them.
    pub is_root: bool,
    /// Maximum number of rows, if limited.
    pub max_rows: Option<u64>,
    /// Sets of columns that are unique together.
    pub indexes: Vec<Vec<String>>,
}

/// A database schema.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseSchema {
    /// Database name.
    pub name: String,
    /// Schema version.
    pub version: String,
    /// Schema checksum, if given.
    pub cksum: Option<String>,
    /// Tables by name.
    pub tables: BTreeMap<String, TableSchema>,
}

impl DatabaseSchema {
    /// Parses a schema as `get_schema` returns it.
    pub fn parse(v: &Value) -> Result<Self, Error> {
        let o = v
            .as_object()
            .ok_or_else(|| Error::Protocol("schema is not an object".into()))?;
        let s = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
        let name = s("name").ok_or_else(|| Error::Protocol("schema without name".into()))?;
        let mut tables = BTreeMap::new();
        for (tname, t) in o
            .get("tables")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let mut columns = BTreeMap::new();
            for (cname, c) in t
                .get("columns")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let type_ = ColumnType::parse(
                    c.get("type")
                        .ok_or_else(|| Error::Protocol(format!("column {cname} without type")))?,
                )?;
                columns.insert(
                    cname.clone(),
                    ColumnSchema {
                        type_,
                        ephemeral: c.get("ephemeral").and_then(Value::as_bool).unwrap_or(false),
                        mutable: c.get("mutable").and_then(Value::as_bool).unwrap_or(true),
                    },
                );
            }
            let indexes = t
                .get("indexes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|ix| {
                    ix.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.as_str().map(str::to_owned))
                        .collect()
                })
                .collect();
            tables.insert(
                tname.clone(),
                TableSchema {
                    columns,
                    is_root: t.get("isRoot").and_then(Value::as_bool).unwrap_or(false),
                    max_rows: t.get("maxRows").and_then(Value::as_u64),
                    indexes,
                },
            );
        }
        Ok(DatabaseSchema {
            name,
            version: s("version").unwrap_or_default(),
            cksum: s("cksum"),
            tables,
        })
    }

    /// The type of `table.column`, if both exist.
    pub fn column_type(&self, table: &str, column: &str) -> Option<&ColumnType> {
        self.tables
            .get(table)?
            .columns
            .get(column)
            .map(|c| &c.type_)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_types() {
        let s = DatabaseSchema::parse(&json!({
            "name": "db", "version": "1.0.0",
            "tables": {"T": {"isRoot": true, "indexes": [["name"]], "columns": {
                "name": {"type": "string"},
                "opt": {"type": {"key": "integer", "min": 0, "max": 1}},
                "many": {"type": {"key": {"type": "uuid", "refTable": "U", "refType": "weak"},
                                  "min": 0, "max": "unlimited"}},
                "m": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}},
                "e": {"type": {"key": {"type": "string", "enum": ["set", ["a", "b"]]}}, "mutable": false}
            }}}
        }))
        .unwrap();
        let t = &s.tables["T"];
        assert!(t.is_root);
        assert_eq!(t.indexes, vec![vec!["name".to_string()]]);
        let name = &t.columns["name"].type_;
        assert_eq!((name.min, name.max, name.is_multi()), (1, Some(1), false));
        let opt = &t.columns["opt"].type_;
        assert_eq!((opt.min, opt.max, opt.is_multi()), (0, Some(1), false));
        let many = &t.columns["many"].type_;
        assert_eq!(many.max, None);
        assert_eq!(many.key.ref_table.as_deref(), Some("U"));
        assert!(!many.key.ref_strong);
        assert!(t.columns["m"].type_.is_map());
        assert!(!t.columns["e"].mutable);
        assert_eq!(t.columns["e"].type_.key.enum_, Some(Datum::set(["a", "b"])));
    }
}
