//! JSON-RPC 1.0 messages as OVSDB uses them, in both directions.

use serde_json::{Map, Value, json};

use crate::Error;

/// One JSON-RPC 1.0 message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A request that expects a reply with the same `id`.
    Request {
        /// Request id (any JSON value but `null`).
        id: Value,
        /// Method name.
        method: String,
        /// Parameters (an array in OVSDB).
        params: Value,
    },
    /// A request without reply (`"id": null`).
    Notification {
        /// Method name.
        method: String,
        /// Parameters.
        params: Value,
    },
    /// A reply to a request.
    Response {
        /// The id of the request answered.
        id: Value,
        /// The result (`null` on error).
        result: Value,
        /// The error (`null` on success).
        error: Value,
    },
}

impl Message {
    /// Parses a message from a JSON value.
    pub fn from_value(value: Value) -> Result<Self, Error> {
        let Value::Object(mut obj) = value else {
            return Err(Error::Protocol("JSON-RPC message is not an object".into()));
        };
        let id = obj.remove("id").unwrap_or(Value::Null);
        if let Some(method) = obj.remove("method") {
            let Value::String(method) = method else {
                return Err(Error::Protocol("JSON-RPC method is not a string".into()));
            };
            let params = obj.remove("params").unwrap_or(Value::Array(Vec::new()));
            Ok(if id.is_null() {
                Message::Notification { method, params }
            } else {
                Message::Request { id, method, params }
            })
        } else if obj.contains_key("result") || obj.contains_key("error") {
            Ok(Message::Response {
                id,
                result: obj.remove("result").unwrap_or(Value::Null),
                error: obj.remove("error").unwrap_or(Value::Null),
            })
        } else {
            Err(Error::Protocol(
                "JSON-RPC message has neither method nor result".into(),
            ))
        }
    }

    /// Serialises the message.
    pub fn into_value(self) -> Value {
        match self {
            Message::Request { id, method, params } => {
                json!({"id": id, "method": method, "params": params})
            }
            Message::Notification { method, params } => {
                json!({"id": null, "method": method, "params": params})
            }
            Message::Response { id, result, error } => {
                let mut m = Map::new();
                m.insert("id".into(), id);
                m.insert("result".into(), result);
                m.insert("error".into(), error);
                Value::Object(m)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_kinds() {
        let m = Message::from_value(json!({"id": "echo", "method": "echo", "params": []})).unwrap();
        assert_eq!(
            m,
            Message::Request {
                id: json!("echo"),
                method: "echo".into(),
                params: json!([])
            }
        );
        let m =
            Message::from_value(json!({"id": null, "method": "update3", "params": [1]})).unwrap();
        assert_eq!(
            m,
            Message::Notification {
                method: "update3".into(),
                params: json!([1])
            }
        );
        let m = Message::from_value(json!({"id": 3, "result": ["a"], "error": null})).unwrap();
        assert_eq!(
            m,
            Message::Response {
                id: json!(3),
                result: json!(["a"]),
                error: Value::Null
            }
        );
        assert!(Message::from_value(json!([1])).is_err());
        assert!(Message::from_value(json!({"id": 1})).is_err());
    }

    #[test]
    fn round_trip() {
        for m in [
            Message::Request {
                id: json!(1),
                method: "list_dbs".into(),
                params: json!([]),
            },
            Message::Notification {
                method: "update2".into(),
                params: json!([null, {}]),
            },
            Message::Response {
                id: json!(2),
                result: Value::Null,
                error: json!("boom"),
            },
        ] {
            assert_eq!(Message::from_value(m.clone().into_value()).unwrap(), m);
        }
    }
}
