//! `landfall affected --base REF`: which environments × stacks a change touches, for pipelines that
//! plan only those.
//!
//! Both sides are resolved offline — the configuration as committed at REF (read with `git archive`
//! into a temporary folder) and the working tree — and compared as desired resources (address, kind,
//! attribute values, account, region, dependencies, lifecycle), with the stack's outputs, stack
//! dependencies and `[[moved]]` entries. Files are never compared: a module edit, a shared variable or
//! a policy read by `file()` counts in every stack it lands in, a comment or a reformat counts nowhere.
//! No AWS call and no state read is made: values AWS assigns compare by the resource they come from,
//! and other environments' outputs (`remote.`) compare as unknown.

use super::validate::Checked;
use super::{Ctx, Error, Exit, Result};
use crate::expr::Value;
use crate::resolve::{Instance, Resolved};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How `affected` prints its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AffectedFormat {
    /// One `ENV STACK  reason` line each, or a sentence saying nothing is affected.
    Text,
    /// `[{"environment", "stack", "reason"}]`, for pipelines.
    Json,
}

/// One environment × stack whose desired resources differ between the two sides.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Affected {
    pub environment: String,
    pub stack: String,
    /// What differs, in a few words (`stack added`, `changed: ADDR, ...`).
    pub reason: String,
}

/// `landfall affected --base REF`: prints the affected environments × stacks; exits 0 whether or not
/// any is affected.
pub fn affected(ctx: &Ctx, base: &str, format: AffectedFormat) -> Result {
    let list = compare(ctx, base)?;
    match format {
        AffectedFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        ),
        AffectedFormat::Text if list.is_empty() => {
            println!("No environment or stack is affected by the changes since {base}.")
        }
        AffectedFormat::Text => {
            let width = list
                .iter()
                .map(|a| a.environment.len() + a.stack.len() + 1)
                .max()
                .unwrap_or(0);
            for a in &list {
                let name = format!("{} {}", a.environment, a.stack);
                println!("{name:width$}  {}", a.reason);
            }
        }
    }
    Ok(Exit::Success)
}

/// The affected environments × stacks between the configuration at `base` and the working tree, by
/// environment and then stack name.
pub fn compare(ctx: &Ctx, base: &str) -> Result<Vec<Affected>> {
    let checkout = Checkout::at(&ctx.root, base)?;
    let base_ctx = Ctx {
        root: checkout.root.clone(),
        ..ctx.clone()
    };
    let (before, after) = (Side::Base(base), Side::WorkingTree);
    let envs: BTreeSet<String> = crate::load::environment_names(&checkout.root)
        .into_iter()
        .chain(crate::load::environment_names(&ctx.root))
        .collect();
    let mut out = Vec::new();
    for env in envs {
        let old = desired(&base_ctx, &env, before)?;
        let new = desired(ctx, &env, after)?;
        out.extend(diff_env(&env, old.as_ref(), new.as_ref()));
    }
    Ok(out)
}

/// Which side of the comparison a configuration comes from, for errors.
#[derive(Debug, Clone, Copy)]
enum Side<'a> {
    Base(&'a str),
    WorkingTree,
}

impl std::fmt::Display for Side<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Side::Base(r) => write!(f, "at {r}"),
            Side::WorkingTree => write!(f, "in the working tree"),
        }
    }
}

/// An environment's desired resources by stack, in a form that compares by meaning; `None` when the
/// environment does not exist on that side.
fn desired(ctx: &Ctx, env: &str, side: Side) -> Result<Option<BTreeMap<String, StackForm>>> {
    if !ctx
        .root
        .join("environments")
        .join(env)
        .join("env.toml")
        .is_file()
    {
        return Ok(None);
    }
    let checked: Checked = super::validate::check(ctx, env).map_err(|e| invalid(env, side, e))?;
    match checked {
        (_, Ok(resolved)) => Ok(Some(stack_forms(&resolved))),
        (sources, Err(diags)) => {
            let e: Error = crate::engine::Error::Config(Box::new(sources), diags).into();
            Err(invalid(env, side, e))
        }
    }
}

/// Says which side's configuration could not be resolved; its problems follow (printed with the error).
fn invalid(env: &str, side: Side, e: Error) -> Error {
    eprintln!("error: cannot compare environment `{env}`: its configuration {side} is not valid");
    e
}

/// What a stack contributes to a plan, comparable across the two sides: every resource by address,
/// and the stack-level settings.
#[derive(Debug, Default, PartialEq)]
struct StackForm {
    resources: BTreeMap<String, Json>,
    /// Outputs, stack dependencies and `[[moved]]` entries.
    settings: Json,
}

fn stack_forms(r: &Resolved) -> BTreeMap<String, StackForm> {
    let address = |id: crate::expr::InstanceId| r.instances[id.0 as usize].address.clone();
    let mut forms: BTreeMap<String, StackForm> = r
        .stacks
        .iter()
        .map(|s| (s.clone(), StackForm::default()))
        .collect();
    for i in &r.instances {
        let form = forms.entry(i.stack.clone()).or_default();
        form.resources
            .insert(i.address.clone(), resource_form(i, &address));
    }
    for (stack, form) in forms.iter_mut() {
        let prefix = format!("{stack}.");
        form.settings = json!({
            "outputs": r.outputs.get(stack).map(|o| {
                o.iter().map(|(k, v)| (k.clone(), value_form(v, &address))).collect::<serde_json::Map<_, _>>()
            }),
            "depends_on": r.stack_deps.iter().filter(|(s, _)| s == stack).map(|(_, d)| d).collect::<Vec<_>>(),
            "moved": r.moves.iter().filter(|m| m.from.starts_with(&prefix)).map(|m| [&m.from, &m.to]).collect::<Vec<_>>(),
        });
    }
    forms
}

/// One resource as the plan would want it.
fn resource_form(i: &Instance, address: &impl Fn(crate::expr::InstanceId) -> String) -> Json {
    let deps: BTreeSet<String> = i.deps.iter().map(|d| address(*d)).collect();
    json!({
        "kind": i.kind.name,
        "attrs": i.attrs.iter().map(|(k, v)| (k.to_string(), attr_form(i, k, v, address))).collect::<serde_json::Map<_, _>>(),
        "account": value_form(&i.account, address),
        "region": i.region,
        "deps": deps,
        "prevent_destroy": i.prevent_destroy,
        "ignore_changes": i.ignore_changes,
    })
}

/// An attribute's value; a JSON document written as a string (a policy read with `file()`) compares
/// as the document it holds, so reformatting the file changes nothing.
fn attr_form(
    i: &Instance,
    name: &str,
    v: &Value,
    address: &impl Fn(crate::expr::InstanceId) -> String,
) -> Json {
    let document = i
        .kind
        .attr(name)
        .is_some_and(|a| a.ty == crate::schema::AttrType::Json);
    match v {
        Value::String(text) if document => {
            serde_json::from_str(text).unwrap_or_else(|_| json!(text))
        }
        _ => value_form(v, address),
    }
}

/// A value as JSON, with what is unknown until apply named by the resource it comes from (instance ids
/// are positions, which differ between the two sides).
fn value_form(v: &Value, address: &impl Fn(crate::expr::InstanceId) -> String) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Number(n) => json!(n),
        Value::String(s) => json!(s),
        Value::List(items) => Json::Array(items.iter().map(|i| value_form(i, address)).collect()),
        Value::Map(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), value_form(v, address)))
                .collect(),
        ),
        Value::Unknown(Some(id)) => json!({ "$unknown": address(*id) }),
        Value::Unknown(None) => json!({ "$unknown": true }),
        Value::Resource(id) => json!({ "$resource": address(*id) }),
    }
}

/// The affected stacks of one environment.
fn diff_env(
    env: &str,
    old: Option<&BTreeMap<String, StackForm>>,
    new: Option<&BTreeMap<String, StackForm>>,
) -> Vec<Affected> {
    let empty = BTreeMap::new();
    let (o, n) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    let stacks: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    stacks
        .into_iter()
        .filter_map(|stack| {
            let reason = match (o.get(stack), n.get(stack)) {
                _ if old.is_none() => "environment added".to_string(),
                _ if new.is_none() => "environment removed".to_string(),
                (None, _) => "stack added".to_string(),
                (_, None) => "stack removed".to_string(),
                (Some(a), Some(b)) => diff_stack(a, b)?,
            };
            Some(Affected {
                environment: env.to_string(),
                stack: stack.clone(),
                reason,
            })
        })
        .collect()
}

/// What differs in one stack, or `None` when nothing does.
fn diff_stack(a: &StackForm, b: &StackForm) -> Option<String> {
    let mut parts = Vec::new();
    let mut list = |what: &str, addrs: Vec<&String>| {
        if !addrs.is_empty() {
            parts.push(format!("{what}: {}", preview(&addrs)));
        }
    };
    list(
        "added",
        b.resources
            .keys()
            .filter(|k| !a.resources.contains_key(*k))
            .collect(),
    );
    list(
        "changed",
        b.resources
            .iter()
            .filter(|(k, v)| a.resources.get(*k).is_some_and(|old| old != *v))
            .map(|(k, _)| k)
            .collect(),
    );
    list(
        "removed",
        a.resources
            .keys()
            .filter(|k| !b.resources.contains_key(*k))
            .collect(),
    );
    if a.settings != b.settings {
        parts.push("outputs, depends_on or moved entries changed".into());
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Up to three addresses, then how many more.
fn preview(addrs: &[&String]) -> String {
    let shown: Vec<&str> = addrs.iter().take(3).map(|s| s.as_str()).collect();
    match addrs.len() {
        n if n > 3 => format!("{} and {} more", shown.join(", "), n - 3),
        _ => shown.join(", "),
    }
}

/// The repository's tree at a commit, extracted into a temporary folder (removed on drop), and where
/// the project sits inside it.
struct Checkout {
    dir: PathBuf,
    root: PathBuf,
}

impl Checkout {
    fn at(project: &Path, rev: &str) -> Result<Checkout> {
        let prefix =
            git(project, &["rev-parse", "--show-prefix"]).map_err(|message| Error::Git {
                message: format!("`landfall affected` needs a git repository: {message}"),
                help: "run it in a clone of the repository that holds landfall.toml".into(),
            })?;
        let commit = git(
            project,
            &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")],
        )
        .map_err(|_| {
            Error::Git {
                message: format!("`{rev}` is not a commit of this repository"),
                help: "pass a branch, tag or commit that exists here (in CI, fetch it first: `git fetch origin main`)".into(),
            }
        })?;
        let dir = std::env::temp_dir().join(format!(
            "landfall-affected-{}-{}",
            std::process::id(),
            &commit[..12.min(commit.len())]
        ));
        let checkout = Checkout {
            root: dir.join(&prefix),
            dir,
        };
        checkout.extract(project, &commit)?;
        Ok(checkout)
    }

    /// `git archive COMMIT | tar -x -C DIR` (from the repository's top level, so files the project
    /// reads from outside its folder are there too).
    fn extract(&self, project: &Path, commit: &str) -> Result<()> {
        let failed = |message: String| Error::Git {
            message,
            help: "check that git and tar are installed and the disk is not full".into(),
        };
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| failed(format!("cannot create {}: {e}", self.dir.display())))?;
        let mut archive = Command::new("git")
            .arg("-C")
            .arg(project)
            .args(["archive", "--format=tar", commit])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(format!("cannot run git: {e}")))?;
        let stdout = archive.stdout.take().expect("piped stdout");
        let tar = Command::new("tar")
            .arg("-x")
            .arg("-C")
            .arg(&self.dir)
            .stdin(stdout)
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| failed(format!("cannot run tar: {e}")))?;
        let archived = archive
            .wait_with_output()
            .map_err(|e| failed(format!("git archive: {e}")))?;
        if !archived.status.success() || !tar.status.success() {
            return Err(failed(format!(
                "cannot read the tree of {commit}: {}{}",
                String::from_utf8_lossy(&archived.stderr).trim(),
                String::from_utf8_lossy(&tar.stderr).trim()
            )));
        }
        Ok(())
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs git in `dir`; its trimmed stdout, or its stderr as the error.
fn git(dir: &Path, args: &[&str]) -> std::result::Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}
