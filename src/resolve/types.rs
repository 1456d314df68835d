//! Type checks of evaluated values against the kind schema and module input types, with the small
//! conversions configuration needs (a template yields a string; `"3"` is accepted where a number is due).

use crate::diag::Diagnostic;
use crate::expr::{Expr, ExprKind, Value};
use crate::load::InputType;
use crate::schema::{AttrType, Default};
use crate::source::{Sources, Span};
use indexmap::IndexMap;
use ipnet::Ipv4Net;

pub fn default_value(d: Default) -> Value {
    match d {
        Default::Str(s) => Value::String(s.into()),
        Default::Bool(b) => Value::Bool(b),
        Default::Number(n) => Value::Number(n),
        Default::EmptyList => Value::List(vec![]),
        Default::EmptyMap => Value::map(IndexMap::new()),
    }
}

/// Checks a resource attribute's value; `expr` is what was written, for positions.
pub fn check(
    sources: &Sources,
    v: Value,
    ty: &AttrType,
    expr: &Expr,
    name: &str,
) -> Result<Value, Diagnostic> {
    check_at(sources, v, ty, expr, expr.span, name)
}

fn mismatch(name: &str, ty: &AttrType, v: &Value, span: Span) -> Diagnostic {
    let d = Diagnostic::error(format!(
        "`{name}` must be a {}, found {}",
        ty.describe(),
        describe(v)
    ))
    .at(span, format!("expected {}", ty.describe()))
    .help(format!("write {}", example(ty)));
    match v {
        Value::Resource(_) => d.help("use one of the resource's attributes, e.g. `.id`"),
        _ => d,
    }
}

/// How a value of `ty` is written, for hints.
fn example(ty: &AttrType) -> String {
    match ty {
        AttrType::String => "a quoted string".into(),
        AttrType::Number => "a number, such as 14".into(),
        AttrType::Bool => "true or false".into(),
        AttrType::Cidr => "a quoted CIDR block, such as \"10.0.0.0/16\"".into(),
        AttrType::Json => "a table, or a string holding JSON".into(),
        AttrType::List(inner) => format!("a list, [...], of {}", example(inner)),
        AttrType::Map(inner) => format!("a table, {{ key = ... }}, of {}", example(inner)),
        AttrType::Object(_) => "a table, { key = ... }".into(),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.len() <= 40 => format!("the string {s:?}"),
        other => format!("a {}", other.type_name()),
    }
}

fn check_at(
    sources: &Sources,
    v: Value,
    ty: &AttrType,
    expr: &Expr,
    span: Span,
    name: &str,
) -> Result<Value, Diagnostic> {
    if let Value::Unknown(_) = v {
        return Ok(v);
    }
    match (ty, v) {
        (AttrType::String, Value::String(s)) => Ok(Value::String(s)),
        // NaN and infinity are numbers to TOML and to Rust, but no AWS setting takes them (and NaN
        // never equals itself: it would differ on every plan).
        (AttrType::Number, Value::Number(n)) if !n.is_finite() => Err(Diagnostic::error(format!(
            "`{name}` is {n}, not a finite number"
        ))
        .at(span, "not a finite number")
        .help("write a number such as 14")),
        (AttrType::Number, Value::Number(n)) => Ok(Value::Number(n)),
        (AttrType::Number, Value::String(s))
            if s.trim().parse::<f64>().is_ok_and(f64::is_finite) =>
        {
            Ok(Value::Number(s.trim().parse().unwrap_or(0.0)))
        }
        (AttrType::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (AttrType::Bool, Value::String(s)) if s == "true" || s == "false" => {
            Ok(Value::Bool(s == "true"))
        }
        (AttrType::Cidr, Value::String(s)) => match s.parse::<Ipv4Net>() {
            Ok(net) if net.network() == net.addr() => Ok(Value::String(s)),
            Ok(net) => Err(Diagnostic::error(format!("{s:?} has host bits set"))
                .at(span, "not a network address")
                .help(format!("did you mean \"{}\"?", net.trunc()))),
            Err(_) => Err(
                Diagnostic::error(format!("{s:?} is not a valid IPv4 CIDR block"))
                    .at(span, "invalid CIDR")
                    .help("write it as ADDRESS/PREFIX, e.g. \"10.0.0.0/16\""),
            ),
        },
        (AttrType::Json, Value::String(s)) => match serde_json::from_str::<serde_json::Value>(&s) {
            Ok(json) => Ok(Value::from_json(&json)),
            Err(e) => Err(json_error(sources, expr, span, name, &e)),
        },
        (AttrType::Json, v @ (Value::Map(_) | Value::List(_))) => {
            if let Some(bad) = v.first_resource() {
                return Err(mismatch(name, &AttrType::String, bad, span));
            }
            Ok(v)
        }
        (AttrType::List(inner), Value::List(items)) => {
            let items_exprs = match &expr.kind {
                ExprKind::List(es) if es.len() == items.len() => Some(es),
                _ => None,
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let (e, s) = items_exprs.map_or((expr, span), |es| (&es[i], es[i].span));
                out.push(check_at(sources, item, inner, e, s, name)?);
            }
            Ok(Value::List(out))
        }
        (AttrType::Map(inner), Value::Map(map)) => {
            let mut out = IndexMap::with_capacity(map.len());
            for (k, item) in *map {
                let (e, s) = entry_expr(expr, &k).map_or((expr, span), |e| (e, e.span));
                out.insert(k, check_at(sources, item, inner, e, s, name)?);
            }
            Ok(Value::map(out))
        }
        (AttrType::Object(fields), Value::Map(map)) => {
            for k in map.keys() {
                if !fields.iter().any(|f| f.name == k) {
                    let at = match &expr.kind {
                        ExprKind::Map(entries) => entries
                            .iter()
                            .find(|e| e.key == *k)
                            .map_or(span, |e| e.key_span),
                        _ => span,
                    };
                    return Err(
                        Diagnostic::error(format!("unknown field `{k}` in `{name}`"))
                            .at(at, "not a field")
                            .suggest(k, fields.iter().map(|f| f.name))
                            .note(
                                None,
                                format!(
                                    "fields: {}",
                                    fields.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                                ),
                            ),
                    );
                }
            }
            let mut out = IndexMap::new();
            for f in *fields {
                match map.get(f.name) {
                    Some(item) => {
                        let (e, s) = entry_expr(expr, f.name).map_or((expr, span), |e| (e, e.span));
                        out.insert(
                            f.name.to_string(),
                            check_at(sources, item.clone(), &f.ty, e, s, name)?,
                        );
                    }
                    None if f.required => {
                        return Err(Diagnostic::error(format!(
                            "`{name}` entry is missing `{}`",
                            f.name
                        ))
                        .at(span, format!("add `{}`", f.name)));
                    }
                    None => {}
                }
            }
            Ok(Value::map(out))
        }
        (ty, v) => Err(mismatch(name, ty, &v, span)),
    }
}

fn entry_expr<'e>(expr: &'e Expr, key: &str) -> Option<&'e Expr> {
    match &expr.kind {
        ExprKind::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
        _ => None,
    }
}

/// A JSON syntax error, pointing into the JSON file when the value is `file("...")` itself.
fn json_error(
    sources: &Sources,
    expr: &Expr,
    span: Span,
    name: &str,
    e: &serde_json::Error,
) -> Diagnostic {
    let text = e.to_string();
    let reason = text.split(" at line ").next().unwrap_or(&text);
    let message = format!("`{name}` is not valid JSON: {reason}");
    if let ExprKind::Call(f, _, args) = &expr.kind
        && let (true, Some(path)) = (f == "file", args.first().and_then(Expr::as_str))
    {
        let base = sources
            .get(expr.span.file)
            .path
            .parent()
            .map(|p| p.join(path));
        if let Some(id) = base.and_then(|p| sources.find(&p)) {
            let file = sources.get(id);
            let line = e.line().max(1).min(file.text.lines().count().max(1));
            let offset = file
                .text
                .lines()
                .take(line - 1)
                .map(|l| l.len() + 1)
                .sum::<usize>()
                + e.column().saturating_sub(1);
            let at = Span::new(
                id,
                offset.min(file.text.len())..(offset + 1).min(file.text.len()),
            );
            return Diagnostic::error(message)
                .at(at, "invalid JSON here")
                .help("fix the JSON file (a trailing comma, a missing quote...)")
                .note(Some(span), "read here");
        }
    }
    Diagnostic::error(message)
        .at(span, "invalid JSON")
        .help("write the document as a TOML table, or fix the JSON")
}

/// Checks a module input against its declared type.
pub fn check_input(v: Value, ty: InputType, expr: &Expr, name: &str) -> Result<Value, Diagnostic> {
    let bad = |v: &Value| {
        Diagnostic::error(format!(
            "input `{name}` must be a {}, found {}",
            ty.name(),
            describe(v)
        ))
        .at(expr.span, format!("expected {}", ty.name()))
        .help(format!(
            "the module declares `{name}` as {}; pass one",
            ty.name()
        ))
    };
    match (ty, v) {
        (_, v @ Value::Unknown(_)) | (InputType::Any, v) => Ok(v),
        (InputType::String, Value::String(s)) => Ok(Value::String(s)),
        (InputType::String, Value::Number(n)) => Ok(Value::String(
            crate::expr::Value::Number(n).to_json().to_string(),
        )),
        (InputType::Number, Value::Number(n)) => Ok(Value::Number(n)),
        (InputType::Number, Value::String(s)) if s.trim().parse::<f64>().is_ok() => {
            Ok(Value::Number(s.trim().parse().unwrap_or(0.0)))
        }
        (InputType::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (InputType::Cidr, Value::String(s)) => match s.parse::<Ipv4Net>() {
            Ok(net) if net.network() == net.addr() => Ok(Value::String(s)),
            _ => Err(Diagnostic::error(format!(
                "input `{name}` must be an IPv4 network in CIDR notation, found {s:?}"
            ))
            .at(expr.span, "invalid CIDR")
            .help("e.g. \"10.0.0.0/16\", with no host bits set")),
        },
        (InputType::List, Value::List(l)) => Ok(Value::List(l)),
        (InputType::Map, Value::Map(m)) => Ok(Value::Map(m)),
        (_, v) => Err(bad(&v)),
    }
}
