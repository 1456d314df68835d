//! JSON Schemas (draft-07) of landfall's configuration files, generated from the kind registry, for
//! editors: taplo and Even Better TOML complete kinds and attributes from them and underline mistakes.
//!
//! A stack or module file's top-level keys are kind names (`[vpc.main]`): each kind's key picks its
//! attribute set, so an attribute another kind has is refused. Any value may also be written as an
//! expression (`"${...}"`), which the schema accepts as a string and leaves to `landfall validate`.

use super::{Attr, AttrType, Field, KINDS, Kind, REGIONS, Text};
use serde_json::{Map, Value, json};

/// The configuration files landfall reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileType {
    /// `landfall.toml`.
    Project,
    /// `environments/**/*.toml`.
    #[value(name = "env")]
    Environment,
    /// `stacks/**/*.toml`.
    Stack,
    /// `modules/**/*.toml`.
    Module,
}

impl FileType {
    pub const ALL: [FileType; 4] = [
        FileType::Project,
        FileType::Environment,
        FileType::Stack,
        FileType::Module,
    ];

    /// The name used on the command line and in file names (`stack` -> `stack.schema.json`).
    pub fn name(self) -> &'static str {
        match self {
            FileType::Project => "project",
            FileType::Environment => "env",
            FileType::Stack => "stack",
            FileType::Module => "module",
        }
    }

    /// The files it describes, as a glob from the project root (for editor settings).
    pub fn glob(self) -> &'static str {
        match self {
            FileType::Project => "landfall.toml",
            FileType::Environment => "environments/**/*.toml",
            FileType::Stack => "stacks/**/*.toml",
            FileType::Module => "modules/**/*.toml",
        }
    }
}

/// The schema of one kind of configuration file.
pub fn schema(file: FileType) -> Value {
    let (title, body) = match file {
        FileType::Project => ("landfall project (landfall.toml)", project()),
        FileType::Environment => ("landfall environment file", environment()),
        FileType::Stack => ("landfall stack file", scope(false)),
        FileType::Module => ("landfall module file", scope(true)),
    };
    let mut doc = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": title,
    });
    merge(&mut doc, body);
    doc
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        a.extend(b);
    }
}

/// A value written as an expression: checked by `landfall validate`, not by the schema.
fn expression() -> Value {
    json!({ "type": "string", "pattern": "\\$\\{", "description": "an expression, \"${...}\"" })
}

/// `typed`, or an expression in its place.
fn or_expression(typed: Value) -> Value {
    json!({ "anyOf": [typed, expression()] })
}

fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

fn region() -> Value {
    json!({ "type": "string", "enum": REGIONS.iter().map(|(r, _)| *r).collect::<Vec<_>>() })
}

fn text_constraints(schema: &mut Map<String, Value>, t: Text) {
    if t.min > 0 {
        schema.insert("minLength".into(), t.min.into());
    }
    if t.max < usize::MAX {
        schema.insert("maxLength".into(), t.max.into());
    }
    if !t.one_of.is_empty() {
        schema.insert("enum".into(), json!(t.one_of));
    }
    if let Some(p) = t.pattern.filter(|p| !p.regex.is_empty()) {
        schema.insert("pattern".into(), p.regex.into());
    }
}

/// What a value of `ty` may be, with the limits AWS sets (`text` for its strings, `keys` for a map's
/// keys, `range` for its numbers).
fn value(
    ty: &AttrType,
    text: Option<Text>,
    keys: Option<Text>,
    range: Option<(i64, i64)>,
) -> Value {
    let typed = match ty {
        AttrType::String => {
            let mut s = Map::new();
            s.insert("type".into(), "string".into());
            match text {
                Some(t) => text_constraints(&mut s, t),
                None => return json!({ "type": "string" }),
            }
            Value::Object(s)
        }
        AttrType::Number => match range {
            Some((min, max)) => json!({ "type": "integer", "minimum": min, "maximum": max }),
            None => json!({ "type": "number" }),
        },
        AttrType::Bool => json!({ "type": "boolean" }),
        AttrType::Cidr => json!({
            "type": "string",
            "pattern": "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$",
        }),
        AttrType::Json => return json!({ "type": ["object", "string"] }),
        AttrType::List(inner) => {
            json!({ "type": "array", "items": value(inner, text, None, range) })
        }
        AttrType::Map(inner) => {
            let mut m = json!({ "type": "object", "additionalProperties": value(inner, text, None, range) });
            if let Some(k) = keys {
                let mut names = Map::new();
                text_constraints(&mut names, k);
                m["propertyNames"] = Value::Object(names);
            }
            m
        }
        AttrType::Object(fields) => object(fields),
    };
    or_expression(typed)
}

fn object(fields: &[Field]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_string(), value(&f.ty, f.text, None, f.range)))
        .collect();
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

fn attribute(a: &Attr) -> Value {
    let mut s = value(&a.ty, a.text, a.keys, a.range);
    if let Some(n) = a.max_items {
        s["maxItems"] = n.into();
    }
    let mut doc = a.doc.to_string();
    let mut notes = a.constraints();
    if a.force_new {
        notes.push("changing it replaces the resource".into());
    }
    if !notes.is_empty() {
        doc = format!("{doc} ({})", notes.join("; "));
    }
    s["description"] = doc.trim().into();
    if let Some(d) = a.default {
        s["default"] = match d {
            super::Default::Str(v) => v.into(),
            super::Default::Bool(b) => b.into(),
            super::Default::Number(n) => n.into(),
            super::Default::EmptyList => json!([]),
            super::Default::EmptyMap => json!({}),
        };
    }
    s
}

/// The keys every resource and module instance may set besides its attributes.
fn meta_arguments(resource: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "count".into(),
        or_expression(json!({ "type": "integer", "minimum": 0, "maximum": 10000 })),
    );
    m.insert(
        "for_each".into(),
        or_expression(json!({ "type": ["object", "array"] })),
    );
    m.insert(
        "account".into(),
        json!({ "type": "string", "description": "the 12-digit account it lives in" }),
    );
    m.insert(
        "region".into(),
        json!({ "anyOf": [region(), expression()] }),
    );
    m.insert("depends_on".into(), strings());
    if resource {
        m.insert(
            "lifecycle".into(),
            json!({
                "type": "object",
                "properties": {
                    "prevent_destroy": { "type": "boolean" },
                    "ignore_changes": strings(),
                },
                "additionalProperties": false,
            }),
        );
    }
    m
}

fn kind(k: &Kind) -> Value {
    let mut properties = meta_arguments(true);
    for a in k.attrs.iter().filter(|a| !a.computed) {
        properties.insert(a.name.to_string(), attribute(a));
    }
    let required: Vec<&str> = k
        .attrs
        .iter()
        .filter(|a| a.required)
        .map(|a| a.name)
        .collect();
    json!({
        "type": "object",
        "description": k.doc,
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// A stack file, or a module file (`inputs`, no stack-level `depends_on` or `[[moved]]`).
fn scope(module: bool) -> Value {
    let mut properties = Map::new();
    let mut definitions = Map::new();
    for k in KINDS {
        definitions.insert(k.name.to_string(), kind(k));
        properties.insert(
            k.name.to_string(),
            json!({
                "type": "object",
                "description": k.doc,
                "additionalProperties": { "$ref": format!("#/definitions/{}", k.name) },
            }),
        );
    }
    properties.insert("locals".into(), json!({ "type": "object" }));
    properties.insert(
        "output".into(),
        json!({
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": { "value": {}, "description": { "type": "string" } },
                "required": ["value"],
                "additionalProperties": false,
            },
        }),
    );
    let mut call = meta_arguments(false);
    call.insert(
        "source".into(),
        json!({ "type": "string", "description": "a folder under modules/" }),
    );
    properties.insert(
        "module".into(),
        json!({
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": call,
                "required": ["source"],
                "description": "a module instance: `source`, meta-arguments, and the module's inputs",
            },
        }),
    );
    if module {
        properties.insert("input".into(), inputs());
    } else {
        properties.insert("depends_on".into(), strings());
        properties.insert(
            "moved".into(),
            json!({
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": { "from": { "type": "string" }, "to": { "type": "string" } },
                    "required": ["from", "to"],
                    "additionalProperties": false,
                },
            }),
        );
    }
    json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
        "definitions": definitions,
    })
}

fn inputs() -> Value {
    let types: Vec<&str> = crate::load::INPUT_TYPES.iter().map(|(n, _)| *n).collect();
    json!({
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "properties": {
                "type": { "type": "string", "enum": types },
                "default": {},
                "description": { "type": "string" },
                "validation": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "condition": { "type": "string" },
                            "message": { "type": "string" },
                        },
                        "required": ["condition", "message"],
                        "additionalProperties": false,
                    },
                },
            },
            "additionalProperties": false,
        },
    })
}

/// `[backend]`: where state lives (see `state::BackendConfig`).
fn backend() -> Value {
    json!({
        "type": "object",
        "properties": {
            "kind": { "type": "string", "enum": ["local", "s3"] },
            "path": { "type": "string", "description": "local: the state folder" },
            "bucket": { "type": "string", "minLength": 3, "maxLength": 63 },
            "prefix": { "type": "string" },
            "region": region(),
            "encryption": { "type": "string", "enum": ["AES256", "aws:kms"] },
            "kms_key_id": { "type": "string" },
            "force_path_style": { "type": "boolean" },
        },
        "additionalProperties": false,
    })
}

fn environment() -> Value {
    json!({
        "type": "object",
        "properties": {
            "include": { "type": "array", "items": { "type": "string" }, "description": "files merged under this one" },
            "stacks": { "type": "array", "items": { "type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$" } },
            "region": region(),
            "vars": { "type": "object" },
            "backend": backend(),
        },
        "additionalProperties": false,
    })
}

/// An IAM role name, as `[defaults]` takes them.
fn role_name(description: &str) -> Value {
    let mut schema = Map::new();
    schema.insert("type".into(), "string".into());
    schema.insert("description".into(), description.into());
    text_constraints(&mut schema, super::kinds::ROLE_NAME);
    Value::Object(schema)
}

fn project() -> Value {
    json!({
        "type": "object",
        "properties": {
            "project": {
                "type": "object",
                "properties": { "name": { "type": "string" }, "home_region": region() },
                "required": ["name", "home_region"],
                "additionalProperties": false,
            },
            "defaults": {
                "type": "object",
                "properties": {
                    "access_role": role_name(
                        "The role apply, destroy and import assume in member accounts",
                    ),
                    "plan_role": role_name(
                        "The read-only role plan assumes in member accounts (unset: access_role)",
                    ),
                    "parallelism": { "type": "integer", "minimum": 1 },
                    "account_creation_timeout": { "type": "string", "description": "e.g. \"45m\"" },
                    "access_role_timeout": { "type": "string", "description": "e.g. \"5m\"" },
                    "tags": { "type": "object", "additionalProperties": { "type": "string" } },
                },
                "additionalProperties": false,
            },
            "backend": backend(),
        },
        "required": ["project"],
        "additionalProperties": false,
    })
}

/// Writes every file type's schema into `dir` as `NAME.schema.json`; returns the paths written.
pub fn write_all(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir)?;
    FileType::ALL
        .iter()
        .map(|f| {
            let path = dir.join(format!("{}.schema.json", f.name()));
            let text = serde_json::to_string_pretty(&schema(*f)).unwrap_or_default();
            std::fs::write(&path, text + "\n").map(|()| path)
        })
        .collect()
}
