//! The scope expressions are evaluated in: answers references to variables, locals, inputs, resources,
//! modules, other stacks and other environments, and records which instances a value depends on.

use super::{Expansion, Frame, ModuleResult, RESERVED_ROOTS, Resolver, Tracked};
use crate::diag::Diagnostic;
use crate::expr::{self, EvalStep, Expr, InstanceId, Scope, Value};
use crate::load::{ScopeDef, ScopeKind};
use crate::schema;
use crate::source::Span;
use indexmap::IndexMap;
use std::collections::HashSet;

/// The instance being evaluated, for `each.*` and `count.index`.
#[derive(Debug, Clone)]
pub(super) enum Binding {
    None,
    Count(usize),
    Each(String, Value),
}

/// Evaluation of one declaration (one instance of it) in one frame.
pub(super) struct Ctx<'x, 'a> {
    pub r: &'x mut Resolver<'a>,
    pub frame: &'x Frame,
    pub def: &'a ScopeDef,
    pub binding: Binding,
    /// Instances the evaluated values depend on.
    pub deps: Vec<InstanceId>,
}

impl<'x, 'a> Ctx<'x, 'a> {
    pub fn new(r: &'x mut Resolver<'a>, frame: &'x Frame, def: &'a ScopeDef) -> Self {
        Ctx {
            r,
            frame,
            def,
            binding: Binding::None,
            deps: Vec::new(),
        }
    }

    /// Evaluates, reporting an error as a diagnostic.
    pub fn eval(&mut self, e: &Expr) -> Option<Value> {
        match expr::eval(e, self) {
            Ok(v) => Some(v),
            Err(d) => {
                self.r.diags.push(d);
                None
            }
        }
    }

    /// Where the value of `e` was written when `e` only passes a value on unchanged: `"${var.cidr}"` was
    /// set in the environment file, `"${input.cidr}"` where the module was called (or further back). A
    /// value of the wrong type is reported there, where it must be fixed, with the use as a note.
    pub fn written_at(&self, e: &Expr) -> Option<&'x Expr> {
        let t = e.as_traversal()?;
        let frame: &'x Frame = self.frame;
        let vars: &'a IndexMap<String, Expr> = self.r.var_exprs;
        let (first, rest) = t.steps.split_first()?;
        let expr::Step::Attr(name, _) = first else {
            return None;
        };
        let mut at: &'x Expr = match (t.root, self.def.kind) {
            ("var", ScopeKind::Stack) => vars.get(*name)?,
            ("input", ScopeKind::Module) => frame.input_exprs.get(*name)?,
            _ => return None,
        };
        for step in rest {
            at = match (step, &at.kind) {
                (expr::Step::Attr(k, _), expr::ExprKind::Map(entries)) => {
                    &entries.iter().find(|en| en.key == *k)?.value
                }
                (expr::Step::Index(i), expr::ExprKind::Map(entries)) => {
                    let k = i.as_str()?;
                    &entries.iter().find(|en| en.key == k)?.value
                }
                (expr::Step::Index(i), expr::ExprKind::List(items)) => match &i.kind {
                    expr::ExprKind::Lit(Value::Number(n)) if n.fract() == 0.0 && *n >= 0.0 => {
                        items.get(*n as usize)?
                    }
                    _ => return None,
                },
                _ => return None,
            };
        }
        Some(at)
    }

    /// Replaces whole resources inside a value by their attributes (for outputs and stored values).
    pub fn materialize(&mut self, v: Value) -> Value {
        match v {
            Value::Resource(id) => {
                self.deps.push(id);
                let inst = &self.r.instances[id.0 as usize];
                let mut map: IndexMap<String, Value> = inst
                    .attrs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect();
                // Computed attributes as `resource_attr` reads them: what apply has learnt so far
                // (a whole resource in an output, read by another stack during the same apply).
                let known = self.r.known.attrs.get(&inst.address);
                for a in inst.kind.attrs.iter().filter(|a| a.computed) {
                    let value = known
                        .and_then(|attrs| attrs.get(a.name))
                        .map_or(Value::Unknown(Some(id)), Value::from_json);
                    map.insert(a.name.to_string(), value);
                }
                Value::map(map)
            }
            Value::List(items) => {
                Value::List(items.into_iter().map(|v| self.materialize(v)).collect())
            }
            Value::Map(map) => Value::map(
                map.into_iter()
                    .map(|(k, v)| (k, self.materialize(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    /// Checks an `account` value: a 12-digit id, or one not known until apply.
    pub fn account_value(&mut self, v: Value, span: Span) -> Value {
        match v {
            Value::String(s) if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) => {
                Value::String(s)
            }
            Value::Unknown(o) => Value::Unknown(o),
            Value::Null => Value::Null,
            other => {
                let mut d = Diagnostic::error(format!(
                    "`account` must be a 12-digit account id, found {other}"
                ))
                .at(span, "not an account id")
                .help("write the account's 12-digit id in quotes, or reference it: ${account.prod.id}");
                if let Value::Resource(_) = other {
                    d = d.help("use the account's id, e.g. ${account.prod.id} or ${each.value.id}");
                }
                self.r.diags.push(d);
                Value::Null
            }
        }
    }

    /// Checks a `region` value: a known AWS region, known at plan time.
    pub fn region_value(&mut self, v: Value, span: Span) -> Option<String> {
        match v {
            Value::String(s) if crate::schema::is_region(&s) => Some(s),
            Value::String(s) => {
                self.r.diags.push(
                    Diagnostic::error(format!("unknown AWS region {s:?}"))
                        .at(span, "not a region")
                        .suggest(&s, crate::schema::region_names()),
                );
                None
            }
            other => {
                self.r.diags.push(
                    Diagnostic::error(format!(
                        "`region` must be a region name known at plan time, found {other}"
                    ))
                    .at(span, "invalid region"),
                );
                None
            }
        }
    }

    /// Adds the instances a `depends_on` entry names.
    pub fn depends_on(&mut self, e: &Expr) {
        let Some(t) = e.as_traversal() else { return };
        let names = t.names();
        let r: &Resolver = self.r;
        let (frame, def, root, rest): (&Frame, &ScopeDef, &str, &[&str]) = if t.root == "stack" {
            match names.first().and_then(|s| r.stack_index(s)) {
                Some(si) if names.len() >= 2 && si != self.frame.stack => {
                    (&r.frames[si], &r.stacks[si], names[1], &names[2..])
                }
                Some(_) if names.len() == 1 => {
                    self.r.diags.push(
                        Diagnostic::error("`depends_on` names a whole stack")
                            .at(e.span, "use the stack-level depends_on")
                            .help("write depends_on = [\"STACK\"] at the top of the stack file"),
                    );
                    return;
                }
                _ => {
                    self.r.diags.push(
                        Diagnostic::error(format!("unknown stack in `depends_on`: {}", t.path(1)))
                            .at(e.span, "not a stack of this environment"),
                    );
                    return;
                }
            }
        } else {
            (self.frame, self.def, t.root, &names[..])
        };
        let Some(name) = rest.first() else {
            self.r.diags.push(
                Diagnostic::error("`depends_on` entries name a resource or module")
                    .at(e.span, "incomplete"),
            );
            return;
        };
        let found = match root {
            "module" => def.modules.iter().position(|m| m.name == *name).map(|i| {
                frame.modules.get(&i).map(|exp| {
                    exp.all()
                        .flat_map(|m| m.instances.clone())
                        .map(InstanceId)
                        .collect::<Vec<_>>()
                })
            }),
            kind if schema::kind(kind).is_some() => def.resource(kind, name).map(|i| {
                frame
                    .resources
                    .get(&i)
                    .map(|exp| exp.all().copied().collect::<Vec<_>>())
            }),
            _ => None,
        };
        match found {
            Some(ids) => self.deps.extend(ids.unwrap_or_default()),
            None => self.r.diags.push(
                Diagnostic::error(format!(
                    "`depends_on` names `{}`, which is not declared",
                    t.path(rest.len().min(2) + usize::from(t.root == "stack") * 2)
                ))
                .at(e.span, "unknown resource or module")
                .help("name a resource (`vpc.main`) or module (`module.net`) declared in this stack, or `stack.NAME.kind.name`"),
            ),
        }
    }

    fn resource_ref(
        &mut self,
        other: Option<usize>,
        kind: &str,
        steps: &[EvalStep],
        at: usize,
        root_span: Span,
    ) -> Result<(Value, usize), Diagnostic> {
        let r: &Resolver = self.r;
        let (frame, def) = match other {
            Some(si) => (&r.frames[si], &r.stacks[si]),
            None => (self.frame, self.def),
        };
        let (name, span) = attr_step(steps, at, &format!("{kind}.NAME"), root_span)?;
        let Some(idx) = def.resource(kind, name) else {
            let same_kind = def
                .resources
                .iter()
                .filter(|d| d.kind.name == kind)
                .map(|d| d.name.as_str());
            let where_ = scope_label(def);
            return Err(
                Diagnostic::error(format!("unknown reference `{kind}.{name}`"))
                    .at(span, format!("no {kind} named `{name}` in {where_}"))
                    .suggest(name, same_kind),
            );
        };
        let Some(exp) = frame.resources.get(&idx) else {
            return Ok((Value::Unknown(None), steps.len()));
        };
        match (exp, steps.get(at + 1)) {
            (Expansion::Single(id), _) => {
                self.deps.push(*id);
                Ok((Value::Resource(*id), at + 1))
            }
            (exp, Some(EvalStep::Index(key, span))) => {
                let id = match (exp, key) {
                    (Expansion::Count(ids), Value::Number(n)) => ids
                        .get(*n as usize)
                        .filter(|_| n.fract() == 0.0 && *n >= 0.0),
                    (Expansion::Keys(ids), Value::String(k)) => ids.get(k),
                    (_, Value::Unknown(_)) => {
                        self.deps.extend(exp.all().copied());
                        return Ok((Value::Unknown(None), steps.len()));
                    }
                    _ => None,
                };
                match id {
                    Some(id) => {
                        self.deps.push(*id);
                        Ok((Value::Resource(*id), at + 2))
                    }
                    None => Err(no_instance(&format!("{kind}.{name}"), key, exp, *span)),
                }
            }
            (exp, _) => {
                self.deps.extend(exp.all().copied());
                let value = match exp {
                    Expansion::Count(ids) => {
                        Value::List(ids.iter().map(|i| Value::Resource(*i)).collect())
                    }
                    Expansion::Keys(ids) => Value::map(
                        ids.iter()
                            .map(|(k, i)| (k.clone(), Value::Resource(*i)))
                            .collect(),
                    ),
                    Expansion::Single(_) => unreachable!("matched above"),
                };
                Ok((value, at + 1))
            }
        }
    }

    fn module_ref(
        &mut self,
        other: Option<usize>,
        steps: &[EvalStep],
        at: usize,
        root_span: Span,
    ) -> Result<(Value, usize), Diagnostic> {
        let r: &Resolver = self.r;
        let (frame, def) = match other {
            Some(si) => (&r.frames[si], &r.stacks[si]),
            None => (self.frame, self.def),
        };
        let (name, span) = attr_step(steps, at, "module.NAME", root_span)?;
        let Some(idx) = def.modules.iter().position(|m| m.name == name) else {
            return Err(
                Diagnostic::error(format!("unknown reference `module.{name}`"))
                    .at(
                        span,
                        format!("no module instance `{name}` in {}", scope_label(def)),
                    )
                    .suggest(name, def.modules.iter().map(|m| m.name.as_str())),
            );
        };
        let Some(exp) = frame.modules.get(&idx) else {
            return Ok((Value::Unknown(None), steps.len()));
        };
        let (result, next) = match (exp, steps.get(at + 1)) {
            (Expansion::Single(m), _) => (m, at + 1),
            (exp, Some(EvalStep::Index(key, span))) => {
                let m = match (exp, key) {
                    (Expansion::Count(ms), Value::Number(n)) => ms.get(*n as usize),
                    (Expansion::Keys(ms), Value::String(k)) => ms.get(k),
                    _ => None,
                };
                match m {
                    Some(m) => (m, at + 2),
                    None => return Err(no_instance(&format!("module.{name}"), key, exp, *span)),
                }
            }
            (exp, _) => {
                let mut deps = Vec::new();
                let whole = |m: &ModuleResult, deps: &mut Vec<InstanceId>| {
                    Value::map(
                        m.outputs
                            .iter()
                            .map(|(k, t)| {
                                deps.extend(t.deps.iter().copied());
                                (k.clone(), t.value.clone())
                            })
                            .collect(),
                    )
                };
                let value = match exp {
                    Expansion::Count(ms) => {
                        Value::List(ms.iter().map(|m| whole(m, &mut deps)).collect())
                    }
                    Expansion::Keys(ms) => Value::map(
                        ms.iter()
                            .map(|(k, m)| (k.clone(), whole(m, &mut deps)))
                            .collect(),
                    ),
                    Expansion::Single(_) => unreachable!("matched above"),
                };
                self.deps.extend(deps);
                return Ok((value, at + 1));
            }
        };
        match steps.get(next) {
            Some(EvalStep::Attr(out, span)) => match result.outputs.get(*out) {
                Some(t) => {
                    self.deps.extend(t.deps.iter().copied());
                    Ok((t.value.clone(), next + 1))
                }
                None => {
                    let source = &def.modules[idx].source;
                    let declared = r.modules.get(source).and_then(Option::as_ref);
                    if declared.is_some_and(|m| m.outputs.iter().any(|o| o.name == *out)) {
                        return Ok((Value::Unknown(None), steps.len()));
                    }
                    let names: Vec<&str> = declared
                        .map(|m| m.outputs.iter().map(|o| o.name.as_str()).collect())
                        .unwrap_or_default();
                    Err(
                        Diagnostic::error(format!("module `{source}` has no output `{out}`"))
                            .at(*span, "unknown output")
                            .suggest(out, names.iter().copied())
                            .note(
                                None,
                                format!("its outputs: {}", expr::preview(names.iter().copied())),
                            ),
                    )
                }
            },
            _ => {
                let mut deps = Vec::new();
                let value = Value::map(
                    result
                        .outputs
                        .iter()
                        .map(|(k, t)| {
                            deps.extend(t.deps.iter().copied());
                            (k.clone(), t.value.clone())
                        })
                        .collect(),
                );
                self.deps.extend(deps);
                Ok((value, next))
            }
        }
    }

    fn tracked(&mut self, t: Option<&Tracked>) -> Value {
        match t {
            Some(t) => {
                self.deps.extend(t.deps.iter().copied());
                t.value.clone()
            }
            // Not evaluated: it failed (already reported) or sits in a reported cycle.
            None => Value::Unknown(None),
        }
    }
}

fn scope_label(def: &ScopeDef) -> String {
    match def.kind {
        ScopeKind::Stack => format!("stack `{}`", def.name),
        ScopeKind::Module => format!("module `{}`", def.name),
    }
}

fn no_instance<T>(what: &str, key: &Value, exp: &Expansion<T>, span: Span) -> Diagnostic {
    let keys: Vec<String> = match exp {
        Expansion::Count(v) => (0..v.len()).map(|i| i.to_string()).collect(),
        Expansion::Keys(m) => m.keys().cloned().collect(),
        Expansion::Single(_) => vec![],
    };
    Diagnostic::error(format!("`{what}` has no instance {key}"))
        .at(span, "no such instance")
        .note(
            None,
            format!(
                "its instances: {}",
                expr::preview(keys.iter().map(String::as_str))
            ),
        )
}

/// Follows `.key` and `[index]` steps into a value by reference, cloning only what is reached; stops where
/// the evaluator has to take over (a missing key, a resource, an unknown), which reports errors.
fn navigate(mut v: &Value, steps: &[EvalStep], mut used: usize) -> (Value, usize) {
    while let Some(step) = steps.get(used) {
        let next = match (v, step) {
            (Value::Map(m), EvalStep::Attr(k, _)) => m.get(*k),
            (Value::Map(m), EvalStep::Index(Value::String(k), _)) => m.get(k),
            (Value::List(l), EvalStep::Index(Value::Number(n), _))
                if n.fract() == 0.0 && *n >= 0.0 =>
            {
                l.get(*n as usize)
            }
            _ => None,
        };
        match next {
            Some(n) => {
                v = n;
                used += 1;
            }
            None => break,
        }
    }
    (v.clone(), used)
}

/// The name at `steps[i]`, or an error saying what was expected.
fn attr_step<'s>(
    steps: &'s [EvalStep],
    i: usize,
    usage: &str,
    root_span: Span,
) -> Result<(&'s str, Span), Diagnostic> {
    match steps.get(i) {
        Some(EvalStep::Attr(name, span)) => Ok((name, *span)),
        Some(other) => Err(
            Diagnostic::error(format!("expected a name here, as in `{usage}`"))
                .at(other.span(), "not a name"),
        ),
        None => Err(
            Diagnostic::error(format!("incomplete reference: expected `{usage}`"))
                .at(root_span, "incomplete"),
        ),
    }
}

impl Scope for Ctx<'_, '_> {
    fn lookup(
        &mut self,
        root: &str,
        root_span: Span,
        steps: &[EvalStep],
    ) -> Result<(Value, usize), Diagnostic> {
        match root {
            "var" => {
                let (name, span) = attr_step(steps, 0, "var.NAME", root_span)?;
                if self.def.kind == ScopeKind::Module {
                    return Err(Diagnostic::error("modules cannot read environment variables")
                        .at(root_span.to(span), "not visible in a module")
                        .help(format!("declare [input.{name}] in the module and pass `{name} = \"${{var.{name}}}\"` from the stack")));
                }
                match self.r.vars.get(name) {
                    Some(v) => Ok(navigate(v, steps, 1)),
                    None => Err(Diagnostic::error(format!("unknown variable `var.{name}`"))
                        .at(span, "not set in this environment")
                        .help(format!("set {name} in the environment's [vars]"))
                        .suggest(name, self.r.vars.keys().map(String::as_str))
                        .note(None, "variables come from the environment's [vars] and the files it includes")),
                }
            }
            "local" => {
                let (name, span) = attr_step(steps, 0, "local.NAME", root_span)?;
                match self.def.locals.iter().position(|l| l.name == name) {
                    Some(i) => {
                        let t = self.frame.locals.get(&i);
                        self.deps
                            .extend(t.iter().flat_map(|t| t.deps.iter().copied()));
                        Ok(t.map_or((Value::Unknown(None), steps.len()), |t| {
                            navigate(&t.value, steps, 1)
                        }))
                    }
                    None => Err(Diagnostic::error(format!("unknown local `local.{name}`"))
                        .at(span, format!("not declared in {}", scope_label(self.def)))
                        .suggest(name, self.def.locals.iter().map(|l| l.name.as_str()))),
                }
            }
            "input" => {
                let (name, span) = attr_step(steps, 0, "input.NAME", root_span)?;
                if self.def.kind == ScopeKind::Stack {
                    return Err(
                        Diagnostic::error("`input` is only available inside modules")
                            .at(root_span, "not in a module")
                            .help(format!("stacks read environment variables: var.{name}")),
                    );
                }
                if !self.def.inputs.iter().any(|i| i.name == name) {
                    return Err(Diagnostic::error(format!("unknown input `input.{name}`"))
                        .at(
                            span,
                            format!("module `{}` declares no such input", self.def.name),
                        )
                        .suggest(name, self.def.inputs.iter().map(|i| i.name.as_str())));
                }
                let t = self.frame.inputs.get(name);
                self.deps
                    .extend(t.iter().flat_map(|t| t.deps.iter().copied()));
                Ok(t.map_or((Value::Unknown(None), steps.len()), |t| {
                    navigate(&t.value, steps, 1)
                }))
            }
            "each" => {
                let (name, span) = attr_step(steps, 0, "each.key", root_span)?;
                match (&self.binding, name) {
                    (Binding::Each(k, _), "key") => Ok((Value::String(k.clone()), 1)),
                    (Binding::Each(_, v), "value") => Ok(navigate(v, steps, 1)),
                    (Binding::Each(..), _) => Err(Diagnostic::error(format!(
                        "`each` has `key` and `value`, not `{name}`"
                    ))
                    .at(span, "unknown")),
                    _ => Err(
                        Diagnostic::error("`each` is only available where `for_each` is set")
                            .at(root_span, "no for_each here")
                            .help("add for_each to this resource or module instance"),
                    ),
                }
            }
            "count" => {
                let (name, span) = attr_step(steps, 0, "count.index", root_span)?;
                match (&self.binding, name) {
                    (Binding::Count(i), "index") => Ok((Value::Number(*i as f64), 1)),
                    (Binding::Count(_), _) => Err(Diagnostic::error(format!(
                        "`count` has `index`, not `{name}`"
                    ))
                    .at(span, "unknown")),
                    _ => Err(Diagnostic::error(
                        "`count.index` is only available where `count` is set",
                    )
                    .at(root_span, "no count here")),
                }
            }
            // Where this stack or module instance runs: what its resources get unless they set their own.
            "here" => {
                let (name, span) = attr_step(steps, 0, "here.region", root_span)?;
                match name {
                    "region" => Ok((
                        Value::String(
                            self.frame
                                .region
                                .clone()
                                .unwrap_or_else(|| self.r.env_region.clone()),
                        ),
                        1,
                    )),
                    other => Err(
                        Diagnostic::error(format!("`here` has `region`, not `{other}`"))
                            .at(span, "unknown")
                            .suggest(other, ["region"]),
                    ),
                }
            }
            "module" => self.module_ref(None, steps, 0, root_span),
            "stack" => {
                if self.def.kind == ScopeKind::Module {
                    return Err(Diagnostic::error("modules cannot reference stacks")
                        .at(root_span, "not visible in a module")
                        .help("pass the value in as an input"));
                }
                let (name, span) = attr_step(steps, 0, "stack.NAME.kind.name", root_span)?;
                let Some(si) = self.r.stack_index(name) else {
                    let in_env = self.r.stack_names.iter().any(|s| s == name);
                    let d = Diagnostic::error(format!(
                        "stack `{name}` is not deployed by this environment"
                    ))
                    .at(span, "unknown stack")
                    .help(format!("add \"{name}\" to the environment's `stacks`, or read another environment's outputs with remote.ENV.{name}.OUTPUT"))
                    .suggest(name, self.r.stack_names.iter().map(String::as_str));
                    return Err(if in_env {
                        d
                    } else {
                        d.note(
                            None,
                            "to read another environment's outputs, use remote.ENV.STACK.OUTPUT",
                        )
                    });
                };
                if si == self.frame.stack {
                    return Err(Diagnostic::error(format!(
                        "`stack.{name}` refers to the current stack"
                    ))
                    .at(root_span.to(span), "refer to it directly")
                    .help("drop the `stack.NAME.` prefix"));
                }
                let (what, wspan) = attr_step(steps, 1, "stack.NAME.kind.name", root_span)?;
                match what {
                    "output" => {
                        let (out, ospan) =
                            attr_step(steps, 2, "stack.NAME.output.NAME", root_span)?;
                        if !self.r.stacks[si].outputs.iter().any(|o| o.name == out) {
                            return Err(Diagnostic::error(format!(
                                "stack `{name}` has no output `{out}`"
                            ))
                            .at(ospan, "unknown output")
                            .suggest(
                                out,
                                self.r.stacks[si].outputs.iter().map(|o| o.name.as_str()),
                            ));
                        }
                        let t = self.r.frames[si].outputs.get(out).cloned();
                        Ok((self.tracked(t.as_ref()), 3))
                    }
                    "module" => self.module_ref(Some(si), steps, 2, root_span),
                    kind if schema::kind(kind).is_some() => {
                        self.resource_ref(Some(si), kind, steps, 2, root_span)
                    }
                    other => Err(Diagnostic::error(format!(
                        "`stack.{name}.{other}` is not a resource kind, `module` or `output`"
                    ))
                    .at(wspan, "unknown")
                    .suggest(
                        other,
                        schema::KINDS
                            .iter()
                            .map(|k| k.name)
                            .chain(["module", "output"]),
                    )),
                }
            }
            "remote" => {
                let (env, espan) = attr_step(steps, 0, "remote.ENV.STACK.OUTPUT", root_span)?;
                let (stack, sspan) = attr_step(steps, 1, "remote.ENV.STACK.OUTPUT", root_span)?;
                let (out, ospan) = attr_step(steps, 2, "remote.ENV.STACK.OUTPUT", root_span)?;
                match self.r.remotes.get(env) {
                    Some(Some(stacks)) => match stacks.get(stack) {
                        Some(outputs)
                            if outputs.iter().any(|o| o == out)
                                && let Some(looked) = self
                                    .r
                                    .known
                                    .remote_missing
                                    .get(&(env.to_string(), stack.to_string())) =>
                        {
                            Err(Diagnostic::error(format!(
                                "environment `{env}` has no state for stack `{stack}`: looked for {looked}"
                            ))
                            .at(sspan, "no state")
                            .help(format!(
                                "apply stack `{stack}` of environment `{env}` first (`landfall apply --env {env}`), or check that environment's `[backend]` settings"
                            )))
                        }
                        Some(outputs) if outputs.iter().any(|o| o == out) => Ok((
                            self.r
                                .known
                                .remote_outputs
                                .get(&(env.to_string(), stack.to_string()))
                                .and_then(|o| o.get(out))
                                .map_or(Value::Unknown(None), Value::from_json),
                            3,
                        )),
                        Some(outputs) => Err(Diagnostic::error(format!(
                            "stack `{stack}` declares no output `{out}`"
                        ))
                        .at(ospan, "unknown output")
                        .suggest(out, outputs.iter().map(String::as_str))
                        .note(
                            None,
                            format!(
                                "its outputs: {}",
                                expr::preview(outputs.iter().map(String::as_str))
                            ),
                        )),
                        None => Err(Diagnostic::error(format!(
                            "environment `{env}` does not deploy stack `{stack}`"
                        ))
                        .at(sspan, "unknown stack")
                        .suggest(stack, stacks.keys().map(String::as_str))),
                    },
                    _ => Err(Diagnostic::error(format!("environment `{env}` not found"))
                        .at(espan, format!("there is no environments/{env}/env.toml"))
                        .suggest(
                            env,
                            crate::load::environment_names(&self.r.project.root)
                                .iter()
                                .map(String::as_str)
                                .collect::<Vec<_>>(),
                        )),
                }
            }
            kind if schema::kind(kind).is_some() => {
                self.resource_ref(None, kind, steps, 0, root_span)
            }
            other => {
                let candidates = RESERVED_ROOTS
                    .iter()
                    .copied()
                    .filter(|r| *r != "output")
                    .chain(schema::KINDS.iter().map(|k| k.name));
                let mut d = Diagnostic::error(format!("unknown reference `{other}`"))
                    .at(root_span, "not a variable, resource kind or other name");
                d = if other == "output" {
                    d.help("other stacks read outputs as stack.NAME.output.OUTPUT; within a stack, refer to the value itself")
                } else {
                    d.suggest(other, candidates)
                };
                Err(d)
            }
        }
    }

    fn resource_attr(
        &mut self,
        id: InstanceId,
        name: &str,
        span: Span,
    ) -> Result<Value, Diagnostic> {
        self.deps.push(id);
        let inst = &self.r.instances[id.0 as usize];
        if let Some(v) = inst.attrs.get(name) {
            return Ok(v.clone());
        }
        match inst.kind.attr(name) {
            Some(a) if a.computed => Ok(self
                .r
                .known
                .attrs
                .get(&inst.address)
                .and_then(|attrs| attrs.get(name))
                .map_or(Value::Unknown(Some(id)), Value::from_json)),
            Some(_) => Ok(Value::Null),
            None => Err(
                Diagnostic::error(format!("{} has no attribute `{name}`", inst.kind.name))
                    .at(span, "unknown attribute")
                    .suggest(name, inst.kind.attrs.iter().map(|a| a.name)),
            ),
        }
    }

    fn accounts_in(&mut self, arg: &Expr) -> Result<Value, Diagnostic> {
        let usage = || {
            Diagnostic::error("accounts_in needs an organizational unit")
                .at(arg.span, "expected e.g. organizational_unit.workloads")
                .help("accounts_in(organizational_unit.NAME) or accounts_in(stack.STACK.organizational_unit.NAME)")
        };
        let t = arg.as_traversal().ok_or_else(usage)?;
        let names = t.names();
        let r: &Resolver = self.r;
        let (frame, def, ou) = match (t.root, names.as_slice()) {
            ("organizational_unit", [ou]) => (self.frame, self.def, *ou),
            ("stack", [s, "organizational_unit", ou]) => match r.stack_index(s) {
                Some(si) => (&r.frames[si], &r.stacks[si], *ou),
                None => {
                    return Err(Diagnostic::error(format!(
                        "stack `{s}` is not deployed by this environment"
                    ))
                    .at(arg.span, "unknown stack")
                    .help(format!("add \"{s}\" to the environment's `stacks`")));
                }
            },
            _ => return Err(usage()),
        };
        if def.resource("organizational_unit", ou).is_none() {
            return Err(
                Diagnostic::error(format!("unknown organizational unit `{ou}`"))
                    .at(arg.span, format!("not declared in {}", scope_label(def)))
                    .suggest(
                        ou,
                        def.resources
                            .iter()
                            .filter(|r| r.kind.name == "organizational_unit")
                            .map(|r| r.name.as_str()),
                    ),
            );
        }
        // The OU tree as declared: an OU or account is under the OU its parent_id references.
        let parent_of = |decl: &crate::load::ResourceDecl| -> Option<String> {
            let e = &decl.attrs.iter().find(|a| a.key == "parent_id")?.value;
            let t = e.as_traversal()?;
            (t.root == "organizational_unit").then(|| t.names().first().map(|s| s.to_string()))?
        };
        let mut under: HashSet<String> = HashSet::from([ou.to_string()]);
        loop {
            let before = under.len();
            for d in def
                .resources
                .iter()
                .filter(|d| d.kind.name == "organizational_unit")
            {
                if parent_of(d).is_some_and(|p| under.contains(&p)) {
                    under.insert(d.name.clone());
                }
            }
            if under.len() == before {
                break;
            }
        }
        let mut out = IndexMap::new();
        for (i, d) in def.resources.iter().enumerate() {
            if d.kind.name != "account" || !parent_of(d).is_some_and(|p| under.contains(&p)) {
                continue;
            }
            match frame.resources.get(&i) {
                Some(Expansion::Single(id)) => {
                    out.insert(d.name.clone(), Value::Resource(*id));
                }
                Some(exp @ (Expansion::Count(_) | Expansion::Keys(_))) => {
                    let keyed: Vec<(String, InstanceId)> = match exp {
                        Expansion::Count(ids) => ids
                            .iter()
                            .enumerate()
                            .map(|(k, id)| (format!("{}-{k}", d.name), *id))
                            .collect(),
                        Expansion::Keys(ids) => ids
                            .iter()
                            .map(|(k, id)| (format!("{}-{k}", d.name), *id))
                            .collect(),
                        Expansion::Single(_) => unreachable!("matched above"),
                    };
                    out.extend(keyed.into_iter().map(|(k, id)| (k, Value::Resource(id))));
                }
                None => {}
            }
        }
        Ok(Value::map(out))
    }

    fn read_file(&mut self, path: &str, call: Span) -> Result<String, Diagnostic> {
        let base = self
            .r
            .sources
            .get(call.file)
            .path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        let full = crate::source::clean(&base.join(path));
        if let Some(id) = self.r.sources.find(&full) {
            return Ok(self.r.sources.get(id).text.clone());
        }
        match std::fs::read_to_string(&full) {
            Ok(text) => {
                let display = full
                    .strip_prefix(&self.r.project.root)
                    .unwrap_or(&full)
                    .display()
                    .to_string();
                self.r.sources.add(&full, display, text.clone());
                Ok(text)
            }
            Err(e) => Err(Diagnostic::error(format!(
                "file({path:?}): cannot read {}: {e}",
                full.display()
            ))
            .at(call, "here")
            .help("paths are relative to the file that calls file()")),
        }
    }
}

/// The scope of environment variables: literals and functions only.
pub(super) struct Literal;

impl Scope for Literal {
    fn lookup(
        &mut self,
        root: &str,
        root_span: Span,
        _: &[EvalStep],
    ) -> Result<(Value, usize), Diagnostic> {
        Err(Diagnostic::error(format!(
            "variables cannot reference other values (`{root}`)"
        ))
        .at(root_span, "not allowed in [vars]")
        .help("compute it in the stack, e.g. in [locals]"))
    }
    fn resource_attr(&mut self, _: InstanceId, _: &str, span: Span) -> Result<Value, Diagnostic> {
        Err(Diagnostic::error("no resources here").at(span, "not allowed in [vars]"))
    }
    fn accounts_in(&mut self, arg: &Expr) -> Result<Value, Diagnostic> {
        Err(Diagnostic::error("accounts_in is not available in [vars]")
            .at(arg.span, "use it in a stack"))
    }
    fn read_file(&mut self, _: &str, call: Span) -> Result<String, Diagnostic> {
        Err(Diagnostic::error("file() is not available in [vars]").at(call, "use it in a stack"))
    }
}
