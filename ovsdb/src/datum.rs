//! OVSDB values: atoms and datums (sets and maps), in their RFC 7047 JSON forms.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::Error;
use crate::schema::{AtomicType, ColumnType};

/// One OVSDB atom.
#[derive(Debug, Clone)]
pub enum Atom {
    /// A 64-bit integer.
    Integer(i64),
    /// A real number.
    Real(f64),
    /// A boolean.
    Boolean(bool),
    /// A string.
    String(String),
    /// A row UUID (`["uuid", "..."]`).
    Uuid(Uuid),
    /// A reference to a row inserted earlier in the same transaction
    /// (`["named-uuid", "name"]`).
    NamedUuid(String),
}

impl Atom {
    fn rank(&self) -> u8 {
        match self {
            Atom::Integer(_) => 0,
            Atom::Real(_) => 1,
            Atom::Boolean(_) => 2,
            Atom::String(_) => 3,
            Atom::Uuid(_) => 4,
            Atom::NamedUuid(_) => 5,
        }
    }

    /// Parses an atom from its JSON form.
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        match value {
            Value::Bool(b) => Ok(Atom::Boolean(*b)),
            Value::String(s) => Ok(Atom::String(s.clone())),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Atom::Integer(i))
                } else if let Some(f) = n.as_f64() {
                    Ok(Atom::Real(f))
                } else {
                    Err(Error::Protocol(format!("number out of range: {n}")))
                }
            }
            Value::Array(a) if a.len() == 2 => match (&a[0], &a[1]) {
                (Value::String(tag), Value::String(s)) if tag == "uuid" => Uuid::parse_str(s)
                    .map(Atom::Uuid)
                    .map_err(|e| Error::Protocol(format!("bad uuid {s:?}: {e}"))),
                (Value::String(tag), Value::String(s)) if tag == "named-uuid" => {
                    Ok(Atom::NamedUuid(s.clone()))
                }
                _ => Err(Error::Protocol(format!("not an atom: {value}"))),
            },
            _ => Err(Error::Protocol(format!("not an atom: {value}"))),
        }
    }

    /// The JSON form of the atom.
    pub fn to_json(&self) -> Value {
        match self {
            Atom::Integer(i) => json!(i),
            Atom::Real(f) => json!(f),
            Atom::Boolean(b) => json!(b),
            Atom::String(s) => json!(s),
            Atom::Uuid(u) => json!(["uuid", u.to_string()]),
            Atom::NamedUuid(n) => json!(["named-uuid", n]),
        }
    }

    /// The default atom of a type (0, 0.0, false, "", all-zero UUID).
    pub fn default_of(ty: AtomicType) -> Self {
        match ty {
            AtomicType::Integer => Atom::Integer(0),
            AtomicType::Real => Atom::Real(0.0),
            AtomicType::Boolean => Atom::Boolean(false),
            AtomicType::String => Atom::String(String::new()),
            AtomicType::Uuid => Atom::Uuid(Uuid::nil()),
        }
    }

    /// The string, if this is a string atom.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Atom::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer atom.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Atom::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean atom.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Atom::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The UUID, if this is a UUID atom.
    pub fn as_uuid(&self) -> Option<Uuid> {
        match self {
            Atom::Uuid(u) => Some(*u),
            _ => None,
        }
    }

    /// Coerces an integer to a real when the column wants a real (JSON does not
    /// distinguish `1` from `1.0`).
    fn coerce(self, ty: AtomicType) -> Self {
        match (self, ty) {
            (Atom::Integer(i), AtomicType::Real) => Atom::Real(i as f64),
            (a, _) => a,
        }
    }
}

impl PartialEq for Atom {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Atom {}
impl PartialOrd for Atom {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Atom {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Atom::Integer(a), Atom::Integer(b)) => a.cmp(b),
            (Atom::Real(a), Atom::Real(b)) => a.total_cmp(b),
            (Atom::Boolean(a), Atom::Boolean(b)) => a.cmp(b),
            (Atom::String(a), Atom::String(b)) => a.cmp(b),
            (Atom::Uuid(a), Atom::Uuid(b)) => a.cmp(b),
            (Atom::NamedUuid(a), Atom::NamedUuid(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Atom::Integer(i) => write!(f, "{i}"),
            Atom::Real(r) => write!(f, "{r}"),
            Atom::Boolean(b) => write!(f, "{b}"),
            Atom::String(s) => write!(f, "{s:?}"),
            Atom::Uuid(u) => write!(f, "{u}"),
            Atom::NamedUuid(n) => write!(f, "@{n}"),
        }
    }
}

impl From<i64> for Atom {
    fn from(v: i64) -> Self {
        Atom::Integer(v)
    }
}
impl From<f64> for Atom {
    fn from(v: f64) -> Self {
        Atom::Real(v)
    }
}
impl From<bool> for Atom {
    fn from(v: bool) -> Self {
        Atom::Boolean(v)
    }
}
impl From<&str> for Atom {
    fn from(v: &str) -> Self {
        Atom::String(v.to_owned())
    }
}
impl From<String> for Atom {
    fn from(v: String) -> Self {
        Atom::String(v)
    }
}
impl From<Uuid> for Atom {
    fn from(v: Uuid) -> Self {
        Atom::Uuid(v)
    }
}

/// An OVSDB datum: every column value is a set of atoms (a scalar is a set of one)
/// or a map from atoms to atoms.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Datum {
    /// A set (a scalar column holds a set of exactly one atom).
    Set(BTreeSet<Atom>),
    /// A map.
    Map(BTreeMap<Atom, Atom>),
}

impl Datum {
    /// The empty set.
    pub fn empty_set() -> Self {
        Datum::Set(BTreeSet::new())
    }

    /// The empty map.
    pub fn empty_map() -> Self {
        Datum::Map(BTreeMap::new())
    }

    /// A set of atoms.
    pub fn set<A: Into<Atom>>(atoms: impl IntoIterator<Item = A>) -> Self {
        Datum::Set(atoms.into_iter().map(Into::into).collect())
    }

    /// A map of atoms.
    pub fn map<K: Into<Atom>, V: Into<Atom>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Datum::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A reference to a row inserted earlier in the same transaction.
    pub fn named_uuid(name: impl Into<String>) -> Self {
        Datum::from(Atom::NamedUuid(name.into()))
    }

    /// Parses a datum from its JSON form, without a schema.
    pub fn from_json(value: &Value) -> Result<Self, Error> {
        if let Value::Array(a) = value
            && a.len() == 2
            && let (Value::String(tag), Value::Array(items)) = (&a[0], &a[1])
        {
            match tag.as_str() {
                "set" => {
                    return items
                        .iter()
                        .map(Atom::from_json)
                        .collect::<Result<_, _>>()
                        .map(Datum::Set);
                }
                "map" => {
                    let mut m = BTreeMap::new();
                    for pair in items {
                        match pair {
                            Value::Array(kv) if kv.len() == 2 => {
                                m.insert(Atom::from_json(&kv[0])?, Atom::from_json(&kv[1])?);
                            }
                            _ => return Err(Error::Protocol(format!("bad map pair: {pair}"))),
                        }
                    }
                    return Ok(Datum::Map(m));
                }
                _ => {}
            }
        }
        Ok(Datum::from(Atom::from_json(value)?))
    }

    /// Parses a datum and makes it fit the column type (an empty set for a map
    /// column becomes an empty map, integers become reals where reals are wanted).
    pub fn from_json_typed(value: &Value, ty: &ColumnType) -> Result<Self, Error> {
        Ok(Datum::from_json(value)?.coerce(ty))
    }

    /// Makes a schema-less datum fit the column type.
    pub fn coerce(self, ty: &ColumnType) -> Self {
        match (self, &ty.value) {
            (Datum::Set(s), Some(_)) if s.is_empty() => Datum::empty_map(),
            (Datum::Set(s), _) => {
                Datum::Set(s.into_iter().map(|a| a.coerce(ty.key.atomic)).collect())
            }
            (Datum::Map(m), Some(v)) => Datum::Map(
                m.into_iter()
                    .map(|(k, x)| (k.coerce(ty.key.atomic), x.coerce(v.atomic)))
                    .collect(),
            ),
            (d, None) => d,
        }
    }

    /// The default value of a column type (empty when `min == 0`).
    pub fn default_of(ty: &ColumnType) -> Self {
        if ty.value.is_some() {
            Datum::empty_map()
        } else if ty.min == 0 {
            Datum::empty_set()
        } else {
            Datum::from(Atom::default_of(ty.key.atomic))
        }
    }

    /// The JSON form: a bare atom for a set of one, `["set", [...]]`, `["map", [...]]`.
    pub fn to_json(&self) -> Value {
        match self {
            Datum::Set(s) if s.len() == 1 => {
                s.iter().next().map(Atom::to_json).unwrap_or(Value::Null)
            }
            Datum::Set(s) => json!(["set", s.iter().map(Atom::to_json).collect::<Vec<_>>()]),
            Datum::Map(m) => json!([
                "map",
                m.iter()
                    .map(|(k, v)| json!([k.to_json(), v.to_json()]))
                    .collect::<Vec<_>>()
            ]),
        }
    }

    /// Applies an `update2` "modify" difference to a set or map column with
    /// `max > 1`: set elements present in both are removed, others added; map keys
    /// absent are added, present with the same value removed, present with another
    /// value updated.
    pub fn apply_diff(&mut self, diff: &Datum) {
        match (self, diff) {
            (Datum::Set(cur), Datum::Set(d)) => {
                for a in d {
                    if !cur.remove(a) {
                        cur.insert(a.clone());
                    }
                }
            }
            (Datum::Map(cur), Datum::Map(d)) => {
                for (k, v) in d {
                    match cur.get(k) {
                        Some(old) if old == v => {
                            cur.remove(k);
                        }
                        _ => {
                            cur.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            (cur @ Datum::Set(_), Datum::Map(d)) if cur.is_empty() => *cur = Datum::Map(d.clone()),
            (Datum::Map(_), Datum::Set(d)) if d.is_empty() => {}
            (cur, d) => *cur = d.clone(),
        }
    }

    /// Number of elements (set members or map pairs).
    pub fn len(&self) -> usize {
        match self {
            Datum::Set(s) => s.len(),
            Datum::Map(m) => m.len(),
        }
    }

    /// True for an empty set or map.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The single atom of a scalar (or optional, when present) column.
    pub fn as_atom(&self) -> Option<&Atom> {
        match self {
            Datum::Set(s) if s.len() == 1 => s.iter().next(),
            _ => None,
        }
    }

    /// The string of a scalar string column.
    pub fn as_str(&self) -> Option<&str> {
        self.as_atom().and_then(Atom::as_str)
    }

    /// The integer of a scalar integer column.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_atom().and_then(Atom::as_i64)
    }

    /// The boolean of a scalar boolean column.
    pub fn as_bool(&self) -> Option<bool> {
        self.as_atom().and_then(Atom::as_bool)
    }

    /// The UUID of a scalar UUID column.
    pub fn as_uuid(&self) -> Option<Uuid> {
        self.as_atom().and_then(Atom::as_uuid)
    }

    /// The members, if this is a set.
    pub fn as_set(&self) -> Option<&BTreeSet<Atom>> {
        match self {
            Datum::Set(s) => Some(s),
            Datum::Map(_) => None,
        }
    }

    /// The pairs, if this is a map.
    pub fn as_map(&self) -> Option<&BTreeMap<Atom, Atom>> {
        match self {
            Datum::Map(m) => Some(m),
            Datum::Set(_) => None,
        }
    }
}

impl<T: Into<Atom>> From<T> for Datum {
    fn from(a: T) -> Self {
        Datum::Set(BTreeSet::from([a.into()]))
    }
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips() {
        for v in [
            json!(1),
            json!("x"),
            json!(true),
            json!(2.5),
            json!(["uuid", "36bbf5d9-6d49-4bd2-a5c6-a4ff2ac8c4a6"]),
            json!(["named-uuid", "ps"]),
            json!(["set", []]),
            json!(["set", [1, 2, 3]]),
            json!(["map", [["a", "b"], ["c", "d"]]]),
            json!([
                "map",
                [[100, ["uuid", "36bbf5d9-6d49-4bd2-a5c6-a4ff2ac8c4a6"]]]
            ]),
        ] {
            let d = Datum::from_json(&v).unwrap();
            assert_eq!(d.to_json(), v);
        }
        assert!(Datum::from_json(&json!({"x": 1})).is_err());
        assert!(Datum::from_json(&json!(["uuid", "nope"])).is_err());
    }

    #[test]
    fn diffs() {
        let mut s = Datum::set(["a", "b"]);
        s.apply_diff(&Datum::set(["b", "c"]));
        assert_eq!(s, Datum::set(["a", "c"]));
        let mut m = Datum::map([("a", "1"), ("b", "2"), ("c", "3")]);
        m.apply_diff(&Datum::map([("a", "1"), ("b", "9"), ("d", "4")]));
        assert_eq!(m, Datum::map([("b", "9"), ("c", "3"), ("d", "4")]));
        let mut e = Datum::empty_set();
        e.apply_diff(&Datum::map([("k", "v")]));
        assert_eq!(e, Datum::map([("k", "v")]));
    }
}
