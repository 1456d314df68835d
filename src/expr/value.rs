//! Values that expressions evaluate to.

use indexmap::IndexMap;
use std::fmt;

/// The index of a resource instance in the resolved environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId(pub u32);

/// A value: JSON-like data plus two things configuration needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    /// Boxed: a map inline made every value 72 bytes instead of 32.
    Map(Box<IndexMap<String, Value>>),
    /// Known only after apply (an id AWS assigns). Carries the resource it comes from, when it comes straight
    /// from one, so checks can still tell which VPC a subnet's `vpc_id` names.
    Unknown(Option<InstanceId>),
    /// A whole resource, e.g. `each.value` over `accounts_in(...)`; its attributes are read on access.
    Resource(InstanceId),
}

impl Value {
    pub fn map(map: IndexMap<String, Value>) -> Value {
        Value::Map(Box::new(map))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown(_) => "value not known until apply",
            Value::Resource(_) => "resource",
        }
    }

    /// True when this value, or anything inside it, is known only after apply.
    pub fn has_unknown(&self) -> bool {
        match self {
            Value::Unknown(_) => true,
            Value::List(items) => items.iter().any(Value::has_unknown),
            Value::Map(map) => map.values().any(Value::has_unknown),
            _ => false,
        }
    }

    /// The first whole resource inside this value, if any (they cannot be encoded or stored as data).
    pub fn first_resource(&self) -> Option<&Value> {
        match self {
            Value::Resource(_) => Some(self),
            Value::List(items) => items.iter().find_map(Value::first_resource),
            Value::Map(map) => map.values().find_map(Value::first_resource),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The resource an id comes from, if known.
    pub fn origin(&self) -> Option<InstanceId> {
        match self {
            Value::Unknown(origin) => *origin,
            Value::Resource(id) => Some(*id),
            _ => None,
        }
    }

    /// The value as JSON; unknown values become [`unknown_json`].
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => s.clone().into(),
            Value::List(items) => items.iter().map(Value::to_json).collect(),
            Value::Map(map) => map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            Value::Unknown(_) | Value::Resource(_) => unknown_json(),
        }
    }

    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// How JSON documents (desired attributes, plan files) hold a value not known until apply: an object
/// with the single key `$unknown` (no attribute of any kind is named so). It compares equal to no real
/// value, and [`is_unknown_json`] recognises it; renderers spell it out ([`crate::report::KNOWN_AFTER_APPLY`]).
pub fn unknown_json() -> serde_json::Value {
    serde_json::json!({ "$unknown": true })
}

/// Whether `v` is [`unknown_json`].
pub fn is_unknown_json(v: &serde_json::Value) -> bool {
    v.as_object()
        .is_some_and(|m| m.len() == 1 && m.get("$unknown") == Some(&serde_json::Value::Bool(true)))
}

/// Whether `v` holds [`unknown_json`] anywhere inside.
pub fn has_unknown_json(v: &serde_json::Value) -> bool {
    match v {
        _ if is_unknown_json(v) => true,
        serde_json::Value::Array(items) => items.iter().any(has_unknown_json),
        serde_json::Value::Object(map) => map.values().any(has_unknown_json),
        _ => false,
    }
}

fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        (n as i64).into()
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// Formats a number the way configuration writes it: `3`, not `3.0`.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

impl fmt::Display for Value {
    /// As it appears in plans and messages: strings quoted, unknowns spelled out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => write!(f, "{s:?}"),
            Value::Number(n) => f.write_str(&format_number(*n)),
            Value::Unknown(_) | Value::Resource(_) => f.write_str(crate::report::KNOWN_AFTER_APPLY),
            other => write!(f, "{}", other.to_json()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every attribute of every resolved instance is a `Value`: an unboxed map made each 72 bytes.
    #[test]
    fn a_value_is_no_larger_than_a_string_and_its_tag() {
        assert!(std::mem::size_of::<Value>() <= 32);
    }
}
