//! Reading a fragment's TOML with the place (line, column) of every key and value, which
//! `toml::Value` loses and `toml::Spanned` refuses where toml has none (dotted keys).

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_spanned::__unstable::{END_FIELD, NAME as SPANNED_NAME, START_FIELD, VALUE_FIELD};
use std::fmt;
use std::ops::Range;

/// A key with its place in the text when toml knows it (dotted keys have none).
pub(super) struct Key {
    pub(super) name: String,
    pub(super) span: Option<Range<usize>>,
}

/// A value at any depth; tables keep their entries in file order with places, which
/// `toml::Value` would lose.
pub(super) struct Node {
    pub(super) span: Option<Range<usize>>,
    pub(super) kind: Kind,
}

pub(super) enum Kind {
    Table(Vec<(Key, Node)>),
    Value(toml::Value),
}

// `toml::Spanned` fails outright where toml has no span (dotted keys, implicit tables),
// so these types speak the same protocol but fall back to the bare value.
const SPANNED_FIELDS: &[&str] = &[START_FIELD, END_FIELD, VALUE_FIELD];

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key {
            name: v.to_string(),
            span: None,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
        let (mut start, mut end, mut name) = (0, 0, String::new());
        while let Some(field) = map.next_key::<String>()? {
            match field.as_str() {
                START_FIELD => start = map.next_value()?,
                END_FIELD => end = map.next_value()?,
                _ => name = map.next_value()?,
            }
        }
        Ok(Key {
            name,
            span: Some(start..end),
        })
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, NodeVisitor { spanned: true })
    }
}

/// Deserializes the value inside the span protocol without asking for a span again.
struct BareNode;

impl<'de> de::DeserializeSeed<'de> for BareNode {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor { spanned: false })
    }
}

struct NodeVisitor {
    spanned: bool,
}

impl NodeVisitor {
    fn value<E>(v: toml::Value) -> Result<Node, E> {
        Ok(Node {
            span: None,
            kind: Kind::Value(v),
        })
    }
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Self::value(toml::Value::Boolean(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Self::value(toml::Value::Integer(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Self::value(toml::Value::Integer(v.try_into().unwrap_or(i64::MAX)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Self::value(toml::Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Self::value(toml::Value::String(v.to_string()))
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Node, A::Error> {
        Self::value(toml::Value::deserialize(
            de::value::SeqAccessDeserializer::new(seq),
        )?)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            match key.name.as_str() {
                START_FIELD | END_FIELD | VALUE_FIELD if self.spanned => {
                    let (mut start, mut end) = (0, 0);
                    let mut field = Some(key.name);
                    loop {
                        match field.as_deref() {
                            Some(START_FIELD) => start = map.next_value()?,
                            Some(END_FIELD) => end = map.next_value()?,
                            Some(_) => {
                                let mut node = map.next_value_seed(BareNode)?;
                                node.span = Some(start..end);
                                return Ok(node);
                            }
                            None => return Err(de::Error::missing_field(VALUE_FIELD)),
                        }
                        field = map.next_key::<String>()?;
                    }
                }
                // toml hands a date-time over as a map with one private key.
                name if name.starts_with("$__toml_private") => {
                    let text: String = map.next_value()?;
                    return Self::value(match text.parse::<toml::value::Datetime>() {
                        Ok(d) => toml::Value::Datetime(d),
                        Err(_) => toml::Value::String(text),
                    });
                }
                _ => entries.push((key, map.next_value::<Node>()?)),
            }
        }
        Ok(Node {
            span: None,
            kind: Kind::Table(entries),
        })
    }
}

pub(super) fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}
