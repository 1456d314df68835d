//! Evaluation of expressions against a [`Scope`].

use super::ast::{BinOp, Expr, ExprKind, Part, Step, UnOp};
use super::funcs;
use super::value::{InstanceId, Value, format_number};
use crate::diag::Diagnostic;
use crate::source::Span;
use indexmap::IndexMap;

/// What an expression can see. The resolver implements it for stacks and modules.
pub trait Scope {
    /// Answers a reference. `steps` are the steps after the root, with indexes already evaluated; the scope
    /// consumes as many as it needs to find the value and returns how many it used. The evaluator applies
    /// the rest (`.attr` and `[index]` on maps and lists).
    fn lookup(
        &mut self,
        root: &str,
        root_span: Span,
        steps: &[EvalStep],
    ) -> Result<(Value, usize), Diagnostic>;

    /// An attribute of a whole resource value (`each.value.id` where `each.value` is an account).
    fn resource_attr(
        &mut self,
        id: InstanceId,
        name: &str,
        span: Span,
    ) -> Result<Value, Diagnostic>;

    /// `accounts_in(organizational_unit.x)`: needs the unevaluated argument, since it names an OU
    /// declaration rather than computing a value.
    fn accounts_in(&mut self, arg: &Expr) -> Result<Value, Diagnostic>;

    /// `file(path)`, relative to the file the call is written in.
    fn read_file(&mut self, path: &str, call: Span) -> Result<String, Diagnostic>;
}

/// A step of a reference with its index evaluated.
#[derive(Debug, Clone)]
pub enum EvalStep<'a> {
    Attr(&'a str, Span),
    Index(Value, Span),
}

impl EvalStep<'_> {
    pub fn span(&self) -> Span {
        match self {
            EvalStep::Attr(_, s) | EvalStep::Index(_, s) => *s,
        }
    }
}

/// Evaluates an expression.
pub fn eval(expr: &Expr, scope: &mut dyn Scope) -> Result<Value, Diagnostic> {
    if let Some(t) = expr.as_traversal() {
        let mut steps = Vec::with_capacity(t.steps.len());
        for step in &t.steps {
            steps.push(match step {
                Step::Attr(name, span) => EvalStep::Attr(name, *span),
                Step::Index(e) => EvalStep::Index(eval(e, scope)?, e.span),
            });
        }
        let (mut value, used) = scope.lookup(t.root, t.root_span, &steps)?;
        for step in &steps[used..] {
            value = apply_step(value, step, scope)?;
        }
        return Ok(value);
    }
    match &expr.kind {
        ExprKind::Lit(v) => Ok(v.clone()),
        ExprKind::Template(parts) => {
            let mut out = String::new();
            let mut unknown = false;
            for part in parts {
                match part {
                    Part::Lit(s) => out.push_str(s),
                    Part::Interp(e) => match eval(e, scope)? {
                        Value::Unknown(_) => unknown = true,
                        v => out.push_str(&to_string(&v, e.span)?),
                    },
                }
            }
            Ok(if unknown {
                Value::Unknown(None)
            } else {
                Value::String(out)
            })
        }
        ExprKind::List(items) => items
            .iter()
            .map(|e| eval(e, scope))
            .collect::<Result<_, _>>()
            .map(Value::List),
        ExprKind::Map(entries) => {
            let mut map = IndexMap::with_capacity(entries.len());
            for e in entries {
                map.insert(e.key.clone(), eval(&e.value, scope)?);
            }
            Ok(Value::map(map))
        }
        ExprKind::Call(name, span, args) => {
            if name == "accounts_in" {
                return match args.as_slice() {
                    [arg] => scope.accounts_in(arg),
                    _ => Err(Diagnostic::error(
                        "accounts_in takes one argument: an organizational unit",
                    )
                    .at(*span, "e.g. accounts_in(organizational_unit.workloads)")),
                };
            }
            let values = args
                .iter()
                .map(|e| eval(e, scope))
                .collect::<Result<Vec<_>, _>>()?;
            let spans: Vec<Span> = args.iter().map(|a| a.span).collect();
            funcs::call(name, *span, expr.span, &values, &spans, scope)
        }
        ExprKind::Unary(op, inner) => {
            let v = eval(inner, scope)?;
            match (op, v) {
                (_, Value::Unknown(_)) => Ok(Value::Unknown(None)),
                (UnOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                (UnOp::Neg, v) => Ok(Value::Number(-to_number(&v, inner.span)?)),
                (UnOp::Not, v) => Err(type_error("`!` needs a bool", &v, inner.span)),
            }
        }
        ExprKind::Binary(op, a, b) => binary(*op, a, b, scope),
        ExprKind::Cond(c, then, otherwise) => match eval(c, scope)? {
            Value::Bool(true) => eval(then, scope),
            Value::Bool(false) => eval(otherwise, scope),
            Value::Unknown(_) => Ok(Value::Unknown(None)),
            v => Err(type_error("a condition must be a bool", &v, c.span)),
        },
        // A step on something that is not a reference: `split("/", x)[1]`, `jsondecode(s).a`.
        ExprKind::Attr(base, name, span) => {
            let v = eval(base, scope)?;
            apply_step(v, &EvalStep::Attr(name, *span), scope)
        }
        ExprKind::Index(base, index) => {
            let v = eval(base, scope)?;
            let i = eval(index, scope)?;
            apply_step(v, &EvalStep::Index(i, index.span), scope)
        }
        ExprKind::Name(_) => unreachable!("a bare name is a traversal"),
    }
}

/// Applies `.name` or `[index]` to a value.
pub fn apply_step(
    value: Value,
    step: &EvalStep,
    scope: &mut dyn Scope,
) -> Result<Value, Diagnostic> {
    match (value, step) {
        (Value::Unknown(_), _) => Ok(Value::Unknown(None)),
        (Value::Resource(id), EvalStep::Attr(name, span)) => scope.resource_attr(id, name, *span),
        (Value::Map(mut map), EvalStep::Attr(key, span)) => map
            .swap_remove(*key)
            .ok_or_else(|| missing_key(key, &map, *span)),
        (Value::Map(mut map), EvalStep::Index(Value::String(key), span)) => map
            .swap_remove(key.as_str())
            .ok_or_else(|| missing_key(key, &map, *span)),
        (Value::Map(_), EvalStep::Index(Value::Unknown(_), _)) => Ok(Value::Unknown(None)),
        (Value::List(mut items), EvalStep::Index(index, span)) => {
            if let Value::Unknown(_) = index {
                return Ok(Value::Unknown(None));
            }
            let n = to_number(index, *span)?;
            let len = items.len();
            if n < 0.0 || n.fract() != 0.0 || n as usize >= len {
                return Err(Diagnostic::error(format!(
                    "index {} is out of range",
                    format_number(n)
                ))
                .at(
                    *span,
                    format!(
                        "the list has {len} element{}",
                        if len == 1 { "" } else { "s" }
                    ),
                ));
            }
            Ok(items.swap_remove(n as usize))
        }
        (v, EvalStep::Attr(name, span)) => Err(Diagnostic::error(format!(
            "cannot read `.{name}` of a {}",
            v.type_name()
        ))
        .at(*span, format!("this is a {}", v.type_name()))),
        (v, EvalStep::Index(_, span)) => Err(Diagnostic::error(format!(
            "cannot index a {}",
            v.type_name()
        ))
        .at(*span, format!("this indexes a {}", v.type_name()))),
    }
}

fn missing_key(key: &str, map: &IndexMap<String, Value>, span: Span) -> Diagnostic {
    Diagnostic::error(format!("no key `{key}` in this map"))
        .at(span, "not found")
        .suggest(key, map.keys().map(String::as_str))
        .note(
            None,
            format!("keys: {}", preview(map.keys().map(String::as_str))),
        )
}

/// A short comma-separated list, cut after ten items.
pub fn preview<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    if items.is_empty() {
        return "(none)".into();
    }
    let shown: Vec<String> = items.iter().take(10).map(|s| format!("`{s}`")).collect();
    let more = if items.len() > 10 {
        format!(" and {} more", items.len() - 10)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

fn binary(op: BinOp, a: &Expr, b: &Expr, scope: &mut dyn Scope) -> Result<Value, Diagnostic> {
    let left = eval(a, scope)?;
    // `&&` and `||` short-circuit so `x != null && x.y` works.
    match (op, &left) {
        (BinOp::And, Value::Bool(false)) => return Ok(Value::Bool(false)),
        (BinOp::Or, Value::Bool(true)) => return Ok(Value::Bool(true)),
        _ => {}
    }
    let right = eval(b, scope)?;
    if left.has_unknown() || right.has_unknown() {
        return Ok(Value::Unknown(None));
    }
    Ok(match op {
        BinOp::Eq => Value::Bool(left == right),
        BinOp::Ne => Value::Bool(left != right),
        BinOp::And | BinOp::Or => match (&left, &right) {
            (Value::Bool(_), Value::Bool(r)) => Value::Bool(*r),
            (Value::Bool(_), v) => {
                return Err(type_error(
                    &format!("`{}` needs bools", op.symbol()),
                    v,
                    b.span,
                ));
            }
            (v, _) => {
                return Err(type_error(
                    &format!("`{}` needs bools", op.symbol()),
                    v,
                    a.span,
                ));
            }
        },
        _ => {
            let (x, y) = (to_number(&left, a.span)?, to_number(&right, b.span)?);
            match op {
                BinOp::Lt => Value::Bool(x < y),
                BinOp::Le => Value::Bool(x <= y),
                BinOp::Gt => Value::Bool(x > y),
                BinOp::Ge => Value::Bool(x >= y),
                BinOp::Add => Value::Number(x + y),
                BinOp::Sub => Value::Number(x - y),
                BinOp::Mul => Value::Number(x * y),
                BinOp::Div | BinOp::Rem if y == 0.0 => {
                    return Err(Diagnostic::error("division by zero").at(b.span, "this is zero"));
                }
                BinOp::Div => Value::Number(x / y),
                BinOp::Rem => Value::Number(x % y),
                BinOp::Eq | BinOp::Ne | BinOp::And | BinOp::Or => unreachable!("handled above"),
            }
        }
    })
}

pub(crate) fn type_error(what: &str, v: &Value, span: Span) -> Diagnostic {
    let d = Diagnostic::error(format!("{what}, found {}", v.type_name()))
        .at(span, format!("this is a {}", v.type_name()));
    if let Value::Resource(_) = v {
        d.help("use one of the resource's attributes, e.g. `.id`")
    } else {
        d
    }
}

/// A number, or a string holding one (templates produce strings).
pub(crate) fn to_number(v: &Value, span: Span) -> Result<f64, Diagnostic> {
    match v {
        Value::Number(n) => Ok(*n),
        Value::String(s) => s.trim().parse().map_err(|_| {
            Diagnostic::error(format!("expected a number, found the string {s:?}"))
                .at(span, "not a number")
        }),
        v => Err(type_error("expected a number", v, span)),
    }
}

/// The text of a value inside a string template.
pub(crate) fn to_string(v: &Value, span: Span) -> Result<String, Diagnostic> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(format_number(*n)),
        Value::Bool(b) => Ok(b.to_string()),
        v => Err(type_error(
            "only strings, numbers and bools can be put in a string",
            v,
            span,
        )
        .help("use jsonencode(...) or join(...) to turn it into a string")),
    }
}
