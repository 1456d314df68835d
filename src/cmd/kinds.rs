//! `landfall kinds`: the resource kinds and their attributes.

use super::*;

pub fn kinds(only: Option<&str>, color: bool) -> ExitCode {
    let selected: Vec<&schema::Kind> = match only {
        Some(name) => match schema::kind(name) {
            Some(k) => vec![k],
            None => {
                return fail(
                    color,
                    Diagnostic::error(format!("unknown resource kind `{name}`"))
                        .suggest(name, schema::KINDS.iter().map(|k| k.name)),
                );
            }
        },
        None => schema::KINDS.iter().collect(),
    };
    let mut out = String::new();
    for k in selected {
        out.push_str(&format!("{} — {}\n", k.name, k.doc));
        for a in k.attrs {
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
            if let Some((min, max)) = a.range {
                flags.push(format!("{min} to {max}"));
            }
            if let Some(n) = a.max_len {
                flags.push(format!("at most {n} characters"));
            }
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", flags.join(", "))
            };
            out.push_str(&format!(
                "  {:<30} {}{flags}{}\n",
                a.name,
                a.ty.describe(),
                if a.doc.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", a.doc)
                }
            ));
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
                let flags = if flags.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", flags.join(", "))
                };
                out.push_str(&format!("    .{:<27} {}{flags}\n", f.name, f.ty.describe()));
            }
        }
        out.push('\n');
    }
    print!("{out}");
    ExitCode::SUCCESS
}
