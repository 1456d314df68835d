//! `landfall kinds`: the resource kinds and their attributes.

use super::{Error, Exit, Result};
use crate::{resolve, schema};

/// `landfall kinds [KIND]`: prints every kind (or one) with its attributes and their constraints.
pub fn kinds(only: Option<&str>) -> Result {
    let selected: Vec<&schema::Kind> = match only {
        Some(name) => vec![schema::kind(name).ok_or_else(|| Error::UnknownKind(name.into()))?],
        None => schema::KINDS.iter().collect(),
    };
    let mut out = String::new();
    for k in selected {
        out.push_str(&format!("{} — {}\n", k.name, k.doc));
        for a in k.attrs {
            out.push_str(&attr_line(a));
            // The keys of a nested block (a route, a security group rule).
            let fields: &[schema::Field] = match a.ty {
                schema::AttrType::Object(fields) => fields,
                schema::AttrType::List(schema::AttrType::Object(fields)) => fields,
                _ => continue,
            };
            for f in fields {
                let mut flags = Vec::new();
                if f.required {
                    flags.push("required".to_string());
                }
                if let Some((min, max)) = f.range {
                    flags.push(format!("{min} to {max}"));
                }
                flags.extend(f.text.map(|t| t.describe()));
                let flags = bracketed(&flags);
                out.push_str(&format!("    .{:<27} {}{flags}\n", f.name, f.ty.describe()));
            }
        }
        out.push('\n');
    }
    print!("{out}");
    Ok(Exit::Success)
}

/// One attribute: name, type, constraints, documentation.
fn attr_line(a: &schema::Attr) -> String {
    let mut flags = Vec::new();
    if a.required {
        flags.push("required".to_string());
    }
    if a.computed {
        flags.push("computed".to_string());
    }
    if a.force_new {
        flags.push("forces replacement".to_string());
    }
    if let Some(d) = a.default {
        flags.push(format!("default {}", resolve::default_display(d)));
    }
    flags.extend(a.constraints());
    let doc = if a.doc.is_empty() {
        String::new()
    } else {
        format!(" — {}", a.doc)
    };
    format!(
        "  {:<30} {}{}{doc}\n",
        a.name,
        a.ty.describe(),
        bracketed(&flags)
    )
}

/// ` [a, b]`, or nothing when there are no flags.
fn bracketed(flags: &[String]) -> String {
    if flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", flags.join(", "))
    }
}
