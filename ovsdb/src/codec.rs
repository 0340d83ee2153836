//! Framing of JSON values sent back to back on a byte stream.
//!
//! OVSDB (RFC 7047) sends JSON-RPC messages as JSON texts one after the other, with
//! no length prefix and no delimiter. [`JsonCodec`] scans incoming bytes once,
//! tracking string/escape state and bracket depth, and yields a message as soon as
//! its closing bracket arrives. A message larger than the cap is an error (the
//! caller drops the connection); the codec never buffers more than the cap plus one
//! read.

use bytes::{Buf, BufMut, BytesMut};
use serde_json::Value;
use tokio_util::codec::{Decoder, Encoder};

use crate::Error;

/// Default message-size cap: 64 MiB (a full dump of a large database is one reply).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;

/// A [`Decoder`]/[`Encoder`] of back-to-back JSON objects and arrays.
#[derive(Debug, Clone)]
pub struct JsonCodec {
    max_len: usize,
    /// Bytes of the current message already scanned.
    scanned: usize,
    depth: usize,
    in_string: bool,
    escape: bool,
}

impl JsonCodec {
    /// A codec that rejects messages longer than `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        Self {
            max_len,
            scanned: 0,
            depth: 0,
            in_string: false,
            escape: false,
        }
    }

    /// The message-size cap in bytes.
    pub fn max_len(&self) -> usize {
        self.max_len
    }
}

impl Default for JsonCodec {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_MESSAGE_SIZE)
    }
}

impl Decoder for JsonCodec {
    type Item = Value;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Value>, Error> {
        if self.depth == 0 {
            // Between messages: skip whitespace, then a message must open.
            let skip = src.iter().take_while(|b| b.is_ascii_whitespace()).count();
            src.advance(skip);
            match src.first() {
                None => return Ok(None),
                Some(b'{' | b'[') => {
                    self.depth = 1;
                    self.scanned = 1;
                }
                Some(&b) => return Err(Error::Garbage(b)),
            }
        }
        let mut end = None;
        for (i, &b) in src[self.scanned..].iter().enumerate() {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        end = Some(self.scanned + i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        match end {
            Some(end) => {
                if end > self.max_len {
                    return Err(Error::MessageTooLarge(self.max_len));
                }
                let frame = src.split_to(end);
                self.scanned = 0;
                Ok(Some(serde_json::from_slice(&frame)?))
            }
            None => {
                self.scanned = src.len();
                if self.scanned > self.max_len {
                    return Err(Error::MessageTooLarge(self.max_len));
                }
                Ok(None)
            }
        }
    }
}

impl Encoder<Value> for JsonCodec {
    type Error = Error;

    fn encode(&mut self, item: Value, dst: &mut BytesMut) -> Result<(), Error> {
        serde_json::to_writer(dst.writer(), &item)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode_all(codec: &mut JsonCodec, buf: &mut BytesMut) -> Result<Vec<Value>, Error> {
        let mut out = Vec::new();
        while let Some(v) = codec.decode(buf)? {
            out.push(v);
        }
        Ok(out)
    }

    fn sample() -> (Vec<Value>, Vec<u8>) {
        let values = vec![
            json!({"id": 1, "method": "echo", "params": ["a}]\"\\", {"x": [1, 2.5, null]}]}),
            json!([1, "[", {"k": "{\u{e9}\u{1F600}"}]),
            json!({"id": null, "result": {}, "error": null}),
        ];
        let mut bytes = Vec::new();
        for v in &values {
            bytes.extend_from_slice(serde_json::to_string(v).unwrap().as_bytes());
        }
        (values, bytes)
    }

    #[test]
    fn split_at_every_byte_boundary() {
        let (values, bytes) = sample();
        for cut in 0..=bytes.len() {
            let mut codec = JsonCodec::default();
            let mut buf = BytesMut::new();
            buf.extend_from_slice(&bytes[..cut]);
            let mut got = decode_all(&mut codec, &mut buf).unwrap();
            buf.extend_from_slice(&bytes[cut..]);
            got.extend(decode_all(&mut codec, &mut buf).unwrap());
            assert_eq!(got, values, "cut at {cut}");
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn byte_by_byte() {
        let (values, bytes) = sample();
        let mut codec = JsonCodec::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for b in bytes {
            buf.put_u8(b);
            got.extend(decode_all(&mut codec, &mut buf).unwrap());
        }
        assert_eq!(got, values);
    }

    #[test]
    fn two_values_in_one_read_with_whitespace() {
        let mut codec = JsonCodec::default();
        let mut buf = BytesMut::from(&b" {\"a\":1}\n[2]\r\n\t{\"b\""[..]);
        let got = decode_all(&mut codec, &mut buf).unwrap();
        assert_eq!(got, vec![json!({"a": 1}), json!([2])]);
        buf.extend_from_slice(b":[]}");
        assert_eq!(
            decode_all(&mut codec, &mut buf).unwrap(),
            vec![json!({"b": []})]
        );
    }

    #[test]
    fn oversized_message_is_an_error() {
        let mut codec = JsonCodec::new(16);
        let mut buf = BytesMut::from(&b"{\"a\":\"0123456789"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b"0123456789");
        assert!(matches!(
            codec.decode(&mut buf),
            Err(Error::MessageTooLarge(16))
        ));
        // A complete message over the cap in one read is refused too.
        let mut codec = JsonCodec::new(16);
        let mut buf = BytesMut::from(&b"{\"a\":\"0123456789abcdef\"}"[..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(Error::MessageTooLarge(16))
        ));
        // Exactly at the cap is fine.
        let mut codec = JsonCodec::new(9);
        let mut buf = BytesMut::from(&b"{\"a\":123}"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(json!({"a": 123})));
    }

    #[test]
    fn garbage_is_an_error() {
        let mut codec = JsonCodec::default();
        let mut buf = BytesMut::from(&b"hello"[..]);
        assert!(matches!(codec.decode(&mut buf), Err(Error::Garbage(b'h'))));
        let mut codec = JsonCodec::default();
        let mut buf = BytesMut::from(&b"{\"a\" 1}"[..]);
        assert!(matches!(codec.decode(&mut buf), Err(Error::Json(_))));
        let mut codec = JsonCodec::default();
        let mut buf = BytesMut::from(&b"[1]]"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(json!([1])));
        assert!(matches!(codec.decode(&mut buf), Err(Error::Garbage(b']'))));
    }

    #[test]
    fn encode_round_trip() {
        let mut codec = JsonCodec::default();
        let mut buf = BytesMut::new();
        codec
            .encode(
                json!({"id": 7, "method": "list_dbs", "params": []}),
                &mut buf,
            )
            .unwrap();
        codec.encode(json!([true]), &mut buf).unwrap();
        let got = decode_all(&mut codec, &mut buf).unwrap();
        assert_eq!(
            got,
            vec![
                json!({"id": 7, "method": "list_dbs", "params": []}),
                json!([true])
            ]
        );
    }
}
