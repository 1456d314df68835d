//! The built-in functions.

use super::eval::{Scope, to_number, to_string, type_error};
use super::value::{Value, format_number};
use crate::diag::Diagnostic;
use crate::source::Span;
use indexmap::IndexMap;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// Every function: name and a usage line for messages.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("accounts_in", "accounts_in(organizational_unit.NAME)"),
    ("cidrhost", "cidrhost(prefix, hostnum)"),
    ("cidrsubnet", "cidrsubnet(prefix, newbits, netnum)"),
    ("concat", "concat(list, ...)"),
    ("contains", "contains(list, value)"),
    ("file", "file(path)"),
    ("format", "format(spec, values...)"),
    ("join", "join(separator, list)"),
    ("jsondecode", "jsondecode(string)"),
    ("jsonencode", "jsonencode(value)"),
    ("keys", "keys(map)"),
    ("length", "length(list, map or string)"),
    ("lookup", "lookup(map, key, default)"),
    ("lower", "lower(string)"),
    ("merge", "merge(map, ...)"),
    ("range", "range(n) or range(start, end)"),
    ("split", "split(separator, string)"),
    ("tonumber", "tonumber(value)"),
    ("tostring", "tostring(value)"),
    ("upper", "upper(string)"),
    ("values", "values(map)"),
];

/// Calls a function on evaluated arguments. `name_span` points at the name, `call` at the whole call.
pub(super) fn call(
    name: &str,
    name_span: Span,
    call: Span,
    args: &[Value],
    spans: &[Span],
    scope: &mut dyn Scope,
) -> Result<Value, Diagnostic> {
    let Some((_, usage)) = FUNCTIONS.iter().find(|(n, _)| *n == name) else {
        return Err(Diagnostic::error(format!("unknown function `{name}`"))
            .at(name_span, "not a landfall function")
            .help("use one of the functions listed below")
            .suggest(name, FUNCTIONS.iter().map(|(n, _)| *n))
            .note(
                None,
                format!(
                    "functions: {}",
                    FUNCTIONS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
    };
    let arity = |min: usize, max: usize| -> Result<(), Diagnostic> {
        if args.len() < min || args.len() > max {
            return Err(Diagnostic::error(format!(
                "wrong number of arguments to `{name}`: {} given",
                args.len()
            ))
            .at(call, format!("usage: {usage}"))
            .help(format!("call it as {usage}")));
        }
        Ok(())
    };
    // Functions that inspect only the shape of their arguments cope with unknown parts; the rest need
    // every part known and return an unknown value otherwise.
    let shape_only = matches!(
        name,
        "length" | "keys" | "merge" | "concat" | "lookup" | "values"
    );
    if !shape_only && args.iter().any(Value::has_unknown) {
        arity(0, usize::MAX)?;
        return Ok(Value::Unknown(None));
    }
    let arg = |i: usize| (&args[i], spans[i]);
    match name {
        "lower" | "upper" => {
            arity(1, 1)?;
            let s = string(arg(0))?;
            Ok(Value::String(if name == "lower" {
                s.to_lowercase()
            } else {
                s.to_uppercase()
            }))
        }
        "tostring" => {
            arity(1, 1)?;
            Ok(Value::String(to_string(&args[0], spans[0])?))
        }
        "tonumber" => {
            arity(1, 1)?;
            Ok(Value::Number(to_number(&args[0], spans[0])?))
        }
        "join" => {
            arity(2, 2)?;
            let sep = string(arg(0))?;
            let items = list(arg(1))?;
            let parts = items
                .iter()
                .map(|v| to_string(v, spans[1]))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::String(parts.join(&sep)))
        }
        "split" => {
            arity(2, 2)?;
            let sep = string(arg(0))?;
            let s = string(arg(1))?;
            Ok(Value::List(
                s.split(sep.as_str())
                    .map(|p| Value::String(p.into()))
                    .collect(),
            ))
        }
        "format" => {
            arity(1, usize::MAX)?;
            format(&string(arg(0))?, &args[1..], spans[0], &spans[1..])
        }
        "length" => {
            arity(1, 1)?;
            match &args[0] {
                Value::List(items) => Ok(Value::Number(items.len() as f64)),
                Value::Map(map) => Ok(Value::Number(map.len() as f64)),
                Value::String(s) => Ok(Value::Number(s.chars().count() as f64)),
                Value::Unknown(_) => Ok(Value::Unknown(None)),
                v => Err(type_error(
                    "length needs a list, map or string",
                    v,
                    spans[0],
                )),
            }
        }
        "keys" | "values" => {
            arity(1, 1)?;
            let map = map(arg(0))?;
            let Some(map) = map else {
                return Ok(Value::Unknown(None));
            };
            Ok(Value::List(if name == "keys" {
                map.keys().map(|k| Value::String(k.clone())).collect()
            } else {
                map.values().cloned().collect()
            }))
        }
        "merge" => {
            let mut out = IndexMap::new();
            for i in 0..args.len() {
                match map(arg(i))? {
                    Some(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
                    None => return Ok(Value::Unknown(None)),
                }
            }
            Ok(Value::map(out))
        }
        "concat" => {
            let mut out = Vec::new();
            for i in 0..args.len() {
                match &args[i] {
                    Value::List(items) => out.extend(items.iter().cloned()),
                    Value::Unknown(_) => return Ok(Value::Unknown(None)),
                    v => return Err(type_error("concat needs lists", v, spans[i])),
                }
            }
            Ok(Value::List(out))
        }
        "lookup" => {
            arity(2, 3)?;
            let Some(m) = map(arg(0))? else {
                return Ok(Value::Unknown(None));
            };
            if args[1].has_unknown() {
                return Ok(Value::Unknown(None));
            }
            let key = string(arg(1))?;
            match (m.get(&key), args.get(2)) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(default)) => Ok(default.clone()),
                (None, None) => Err(Diagnostic::error(format!(
                    "no key `{key}` in the map given to lookup"
                ))
                .at(spans[1], "not found")
                .help("give lookup a third argument, the default")),
            }
        }
        "contains" => {
            arity(2, 2)?;
            Ok(Value::Bool(list(arg(0))?.contains(&args[1])))
        }
        "range" => {
            arity(1, 2)?;
            let (start, end) = if args.len() == 1 {
                (0.0, to_number(&args[0], spans[0])?)
            } else {
                (
                    to_number(&args[0], spans[0])?,
                    to_number(&args[1], spans[1])?,
                )
            };
            if end - start > 100_000.0 {
                return Err(
                    Diagnostic::error("range is limited to 100000 elements").at(call, "too large")
                );
            }
            let mut out = Vec::new();
            let mut n = start;
            while n < end {
                out.push(Value::Number(n));
                n += 1.0;
            }
            Ok(Value::List(out))
        }
        "jsonencode" => {
            arity(1, 1)?;
            if let Some(bad) = args[0].first_resource() {
                return Err(type_error(
                    "jsonencode cannot encode a whole resource",
                    bad,
                    spans[0],
                ));
            }
            Ok(Value::String(args[0].to_json().to_string()))
        }
        "jsondecode" => {
            arity(1, 1)?;
            let s = string(arg(0))?;
            serde_json::from_str::<serde_json::Value>(&s)
                .map(|j| Value::from_json(&j))
                .map_err(|e| {
                    Diagnostic::error(format!("jsondecode: not valid JSON: {e}"))
                        .at(spans[0], "this string")
                })
        }
        "file" => {
            arity(1, 1)?;
            let path = string(arg(0))?;
            scope.read_file(&path, call).map(Value::String)
        }
        "cidrsubnet" => {
            arity(3, 3)?;
            let net = cidr(arg(0))?;
            let newbits = whole(arg(1))?;
            let netnum = whole(arg(2))?;
            let prefix = net.prefix_len() as u64 + newbits;
            if prefix > 32 {
                return Err(Diagnostic::error(format!(
                    "cidrsubnet: {net} has no room for {newbits} more bits (that would make a /{prefix})"
                ))
                .at(spans[1], "too many bits"));
            }
            if netnum >= 1u64 << newbits {
                return Err(Diagnostic::error(format!(
                    "cidrsubnet: network number {netnum} does not fit in {newbits} bits (0 to {})",
                    (1u64 << newbits) - 1
                ))
                .at(spans[2], "out of range")
                .help("use a smaller network number, or more new bits"));
            }
            let base = u32::from(net.network()) as u64;
            let addr = base + (netnum << (32 - prefix));
            let sub = Ipv4Net::new(Ipv4Addr::from(addr as u32), prefix as u8)
                .map_err(|e| Diagnostic::error(format!("cidrsubnet: {e}")).at(call, "here"))?;
            Ok(Value::String(sub.to_string()))
        }
        "cidrhost" => {
            arity(2, 2)?;
            let net = cidr(arg(0))?;
            let host = whole(arg(1))?;
            let size = 1u64 << (32 - net.prefix_len());
            if host >= size {
                return Err(Diagnostic::error(format!(
                    "cidrhost: {net} has only {size} addresses"
                ))
                .at(spans[1], "out of range"));
            }
            Ok(Value::String(
                Ipv4Addr::from((u32::from(net.network()) as u64 + host) as u32).to_string(),
            ))
        }
        _ => unreachable!("every listed function is handled"),
    }
}

fn string((v, span): (&Value, Span)) -> Result<String, Diagnostic> {
    to_string(v, span)
}

fn list((v, span): (&Value, Span)) -> Result<&Vec<Value>, Diagnostic> {
    match v {
        Value::List(items) => Ok(items),
        v => Err(type_error("expected a list", v, span)),
    }
}

/// A map, `None` when it is not known yet.
fn map((v, span): (&Value, Span)) -> Result<Option<&IndexMap<String, Value>>, Diagnostic> {
    match v {
        Value::Map(m) => Ok(Some(m)),
        Value::Unknown(_) => Ok(None),
        v => Err(type_error("expected a map", v, span)),
    }
}

fn whole((v, span): (&Value, Span)) -> Result<u64, Diagnostic> {
    let n = to_number(v, span)?;
    if n < 0.0 || n.fract() != 0.0 || n > 1e15 {
        return Err(Diagnostic::error(format!(
            "expected a whole number, found {}",
            format_number(n)
        ))
        .at(span, "here"));
    }
    Ok(n as u64)
}

fn cidr((v, span): (&Value, Span)) -> Result<Ipv4Net, Diagnostic> {
    let s = to_string(v, span)?;
    s.parse::<Ipv4Net>().map_err(|_| {
        Diagnostic::error(format!("{s:?} is not an IPv4 CIDR block"))
            .at(span, "expected e.g. \"10.0.0.0/16\"")
    })
}

fn format(
    spec: &str,
    args: &[Value],
    spec_span: Span,
    spans: &[Span],
) -> Result<Value, Diagnostic> {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let verb = chars.next();
        if verb == Some('%') {
            out.push('%');
            continue;
        }
        let Some(value) = args.get(next) else {
            return Err(Diagnostic::error(format!(
                "format: more verbs than values ({} given)",
                args.len()
            ))
            .at(spec_span, "this format string"));
        };
        let span = spans[next];
        next += 1;
        match verb {
            Some('s') | Some('v') => out.push_str(&to_string(value, span)?),
            Some('d') => out.push_str(&format_number(to_number(value, span)?.trunc())),
            other => {
                return Err(Diagnostic::error(format!(
                    "format: unsupported verb `%{}`",
                    other.map(String::from).unwrap_or_default()
                ))
                .at(spec_span, "use %s, %d or %%"));
            }
        }
    }
    if next < args.len() {
        return Err(Diagnostic::error(format!(
            "format: {} values given but only {next} used",
            args.len()
        ))
        .at(spans[next], "not used"));
    }
    Ok(Value::String(out))
}
