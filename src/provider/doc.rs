//! Policy documents compared by meaning, not by text.
//!
//! IAM and Organizations return documents re-serialized (IAM URL-encodes them too); what the configuration
//! wrote may order keys differently, or write `"Action": "s3:*"` where AWS answers `["s3:*"]`. Both sides
//! go through [`canonical`] before they are compared, so an unchanged policy never shows a diff.

use serde_json::Value;

/// The canonical form of a policy document given as JSON text, URL-encoded JSON text or a JSON value.
/// Text that is not JSON is returned as a string unchanged (and will differ from any real document).
pub fn canonical(doc: &Value) -> Value {
    let parsed = match doc {
        Value::String(text) => match parse_text(text) {
            Some(v) => v,
            None => return doc.clone(),
        },
        other => other.clone(),
    };
    normalize(parsed)
}

fn parse_text(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return serde_json::from_str(text).ok();
    }
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()?
        .replace('+', " ");
    serde_json::from_str(&decoded).ok()
}

fn normalize(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map
                .into_iter()
                .map(|(k, v)| {
                    let v = normalize(v);
                    (k, v)
                })
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(items) => {
            // Every list in a policy is a set: statements, actions, resources, principals and
            // condition values alike. One element equals the element on its own.
            let mut items: Vec<Value> = items.into_iter().map(normalize).collect();
            items.sort_by_key(|v| v.to_string());
            items.dedup();
            if items.len() == 1 {
                return items.pop().unwrap();
            }
            Value::Array(items)
        }
        // Condition values: booleans and numbers are written as strings by AWS.
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_single_element_lists_do_not_matter() {
        let a = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
        let b = json!(
            r#"{"Statement":{"Resource":["*"],"Action":["s3:*"],"Effect":"Allow"},"Version":"2012-10-17"}"#
        );
        assert_eq!(canonical(&a), canonical(&b));
    }

    #[test]
    fn url_encoded_documents_compare_equal() {
        let a = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["b:*", "a:*"], "Resource": "*"}]});
        let encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Action%22%3A%20%5B%22a%3A%2A%22%2C%20%22b%3A%2A%22%5D%2C%20%22Resource%22%3A%20%22%2A%22%7D%5D%7D";
        assert_eq!(canonical(&a), canonical(&json!(encoded)));
    }

    #[test]
    fn real_differences_remain() {
        let a = json!({"Statement": [{"Effect": "Allow", "Action": "s3:*"}]});
        let b = json!({"Statement": [{"Effect": "Deny", "Action": "s3:*"}]});
        assert_ne!(canonical(&a), canonical(&b));
        let c = json!({"Statement": [{"Effect": "Allow", "Action": ["s3:*", "ec2:*"]}]});
        assert_ne!(canonical(&a), canonical(&c));
    }
}
