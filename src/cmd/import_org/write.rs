//! Writes what was rendered: the stack file, policy documents and, when missing, `landfall.toml` and
//! the environment file (every file undone when a later step fails); then the new stack's state,
//! exactly as apply would have written it, under the stack's lock and only if there is none.

use super::render::{Rendered, quote, sanitize};
use super::{Error, Request};
use crate::aws::Aws;
use crate::cmd::Result;
use crate::cmd::import::recorded;
use crate::engine::{Workspace, read_states};
use crate::plan::{self, Filter, Observed};
use crate::provider::Live;
use crate::resolve::{Known, Resolved};
use crate::state::{Backend, LockInfo, State};
use indexmap::IndexMap;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the new stack goes, checked before AWS is read.
pub(crate) struct Target {
    pub(crate) root: PathBuf,
    /// Whether `landfall.toml` exists (else it is written).
    has_project: bool,
    env: String,
    stack: String,
    env_file: PathBuf,
    env_edit: EnvEdit,
    stack_file: PathBuf,
}

/// What [`write`] did.
pub(crate) struct Written {
    /// Files created or changed, relative to the root.
    pub(crate) files: Vec<String>,
    /// Where the state was written.
    pub(crate) state: String,
    pub(crate) warnings: Vec<String>,
}

impl Target {
    /// Checks the names, that neither the stack file nor its state exist, and how the environment file
    /// must change; nothing is written yet.
    pub(crate) async fn prepare(req: &Request, aws: &Arc<Aws>) -> Result<Target> {
        for (what, name) in [("environment", &req.env), ("stack", &req.stack)] {
            if !crate::load::is_plain_name(name) {
                let name = name.clone();
                return Err(Error::InvalidName { what, name }.into());
            }
        }
        let (root, has_project) = match crate::load::find_root(&req.dir) {
            Ok(root) => (root, true),
            Err(_) => (req.dir.clone(), false),
        };
        let (env, stack) = (req.env.as_str(), req.stack.as_str());
        let stack_file = root.join("stacks").join(format!("{stack}.toml"));
        for path in [&stack_file, &root.join("stacks").join(stack)] {
            if path.exists() {
                return Err(Error::StackExists { path: path.clone() }.into());
            }
        }
        let env_file = root.join("environments").join(env).join("env.toml");
        let env_text = if env_file.is_file() {
            Some(std::fs::read_to_string(&env_file).map_err(io("read", &env_file))?)
        } else {
            None
        };
        // What the environment deploys now, and whether the stack has state already.
        let mut effective = None;
        if has_project
            && env_text.is_some()
            && let Ok(ws) = Workspace::open(&root, env)
        {
            let backend = ws.backend(Some(aws.clone()));
            if backend.read(env, stack).await?.is_some() {
                return Err(state_exists(&backend, env, stack));
            }
            effective = Some(ws.stacks());
        }
        let env_edit = match &env_text {
            None => EnvEdit::Create(format!(
                "# Environment `{env}`, created by `landfall import-org`.\nstacks = [{}]\n",
                quote(stack)
            )),
            Some(text) => {
                match add_stack(text, effective.as_deref(), stack, &rel(&root, &env_file))? {
                    Some(new) => EnvEdit::Change(text.clone(), new),
                    None => EnvEdit::None,
                }
            }
        };
        Ok(Target {
            root,
            has_project,
            env: env.to_string(),
            stack: stack.to_string(),
            env_file,
            env_edit,
            stack_file,
        })
    }
}

/// Writes the files, then the state; when anything fails, the files written are removed or restored.
pub(crate) async fn write(target: &Target, rendered: &Rendered, aws: &Arc<Aws>) -> Result<Written> {
    let mut undo = Undo::default();
    let result = async {
        write_files(target, rendered, aws, &mut undo)?;
        save_state(target, rendered, aws).await
    }
    .await;
    match result {
        Ok((state, warnings)) => {
            let mut files: Vec<String> =
                undo.created.iter().map(|p| rel(&target.root, p)).collect();
            files.extend(undo.changed.iter().map(|(p, _)| rel(&target.root, p)));
            Ok(Written {
                files,
                state,
                warnings,
            })
        }
        Err(e) => {
            undo.undo();
            Err(e)
        }
    }
}

/// The project file (when missing), the environment file's change, policy documents, the stack file.
fn write_files(target: &Target, rendered: &Rendered, aws: &Aws, undo: &mut Undo) -> Result<()> {
    let root = &target.root;
    if !target.has_project {
        let folder = root
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let project = sanitize(folder, "landing_zone").replace('_', "-");
        undo.create(
            &root.join("landfall.toml"),
            &format!(
                "# Created by `landfall import-org`. See docs/configuration.md for every setting.\n\n\
                 [project]\nname = {}\nhome_region = {}\n\n[backend]\n# State on the local disk, under .landfall/state/.\nkind = \"local\"\n",
                quote(&project),
                quote(&aws.default_region()),
            ),
        )?;
    }
    match &target.env_edit {
        EnvEdit::Create(text) => undo.create(&target.env_file, text)?,
        EnvEdit::Change(before, after) => undo.change(&target.env_file, before.clone(), after)?,
        EnvEdit::None => {}
    }
    for (path, text) in &rendered.policy_files {
        undo.create(&root.join(path), text)?;
    }
    undo.create(&target.stack_file, &rendered.stack_toml)
}

/// Resolves the new configuration with the values AWS has, records what apply would have, and writes
/// it as the stack's first state. Returns where, and what the next plan would still show.
async fn save_state(
    target: &Target,
    rendered: &Rendered,
    aws: &Arc<Aws>,
) -> Result<(String, Vec<String>)> {
    let (env, stack) = (target.env.as_str(), target.stack.as_str());
    let ws = Workspace::open(&target.root, env)?;
    let backend = ws.backend(Some(aws.clone()));
    let stored = read_states(&ws, &backend).await?;
    let mut known = Known::default();
    for s in stored.values() {
        for r in &s.state.resources {
            known.attrs.insert(r.address.clone(), r.attributes.clone());
        }
    }
    for (local, live) in &rendered.live {
        known
            .attrs
            .insert(format!("{stack}.{local}"), live.attrs.clone());
    }
    let (_, resolved) = ws.resolve(&known)?;
    let (mut state, live) = record(&resolved, rendered, env, stack, ws.home_region())?;
    let mut states: IndexMap<String, State> =
        stored.into_iter().map(|(k, v)| (k, v.state)).collect();
    states.insert(stack.to_string(), state.clone());
    let warnings = next_plan(&resolved, &states, &live, stack);

    // State, under the stack's lock, only if there is none.
    let who = aws
        .caller()
        .await
        .map(|c| c.arn.clone())
        .unwrap_or_else(|_| "unknown".into());
    let lock = LockInfo::new(&who, "import-org");
    backend.lock(env, stack, &lock, &[]).await?;
    let written: Result<()> = async {
        if backend.read(env, stack).await?.is_some() {
            return Err(state_exists(&backend, env, stack));
        }
        state.serial = 1;
        backend.write(&state, None).await?;
        Ok(())
    }
    .await;
    let unlocked = backend.unlock(env, stack, &lock.id).await;
    written?;
    unlocked?;
    Ok((backend.describe(env, stack), warnings))
}

/// The stack's state: each configured instance with the live resource rendered for it.
fn record(
    resolved: &Resolved,
    rendered: &Rendered,
    env: &str,
    stack: &str,
    home_region: &str,
) -> Result<(State, HashMap<String, Option<Live>>)> {
    let mut state = State::new(env, stack);
    let mut live_by_address = HashMap::new();
    for inst in resolved.instances.iter().filter(|i| i.stack == stack) {
        let local = inst
            .address
            .strip_prefix(&format!("{stack}."))
            .unwrap_or(&inst.address);
        let live = rendered.live.get(local).ok_or_else(|| Error::NotImported {
            address: inst.address.clone(),
        })?;
        let unresolved = inst
            .attrs
            .iter()
            .find(|(k, v)| v.has_unknown() && !live.attrs.contains_key(**k));
        if let Some((attr, _)) = unresolved {
            let (address, attr) = (inst.address.clone(), attr.to_string());
            return Err(Error::Unresolved { address, attr }.into());
        }
        state.put(recorded(resolved, inst, live, home_region));
        live_by_address.insert(inst.address.clone(), Some(live.clone()));
    }
    Ok((state, live_by_address))
}

/// What the next plan would show for the stack: nothing, unless the project adds something (such as
/// default tags) that AWS does not have. One warning per action.
fn next_plan(
    resolved: &Resolved,
    states: &IndexMap<String, State>,
    live: &HashMap<String, Option<Live>>,
    stack: &str,
) -> Vec<String> {
    let observed = Observed {
        states,
        live,
        adopted: &HashMap::new(),
        duplicates: &HashMap::new(),
        copies: &HashMap::new(),
    };
    let filter = Filter {
        stacks: vec![stack.to_string()],
        ..Filter::default()
    };
    let diffed = match plan::diff(resolved, &observed, &filter) {
        Ok(diffed) => diffed,
        Err(refusals) => return refusals.into_iter().map(|r| r.message).collect(),
    };
    let mut by_action: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &diffed.changes {
        by_action
            .entry(format!("{:?}", c.action).to_lowercase())
            .or_default()
            .push(format!("{} ({})", c.address, c.changed.join(", ")));
    }
    by_action
        .into_iter()
        .map(|(action, list)| {
            format!(
                "the next plan will {action} {}: the project's settings (e.g. [defaults] tags) add \
                 to what AWS has",
                list.join("; ")
            )
        })
        .collect()
}

fn state_exists(backend: &Backend, env: &str, stack: &str) -> crate::cmd::Error {
    Error::StateExists {
        env: env.to_string(),
        stack: stack.to_string(),
        place: backend.describe(env, stack),
    }
    .into()
}

/// An I/O error about `path`, for `map_err`.
fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |error| Error::Io {
        action,
        path,
        error,
    }
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Files written so far, undone when a later step fails.
#[derive(Default)]
struct Undo {
    created: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    changed: Vec<(PathBuf, String)>,
}

impl Undo {
    fn mkdirs(&mut self, dir: &Path) -> Result<()> {
        let mut missing: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|d| !d.exists())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        missing.reverse();
        self.dirs.extend(missing);
        Ok(())
    }

    fn create(&mut self, path: &Path, text: &str) -> Result<()> {
        if let Some(dir) = path.parent() {
            self.mkdirs(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io("create", path))?;
        self.created.push(path.to_path_buf());
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io("write", path))?;
        Ok(())
    }

    fn change(&mut self, path: &Path, before: String, after: &str) -> Result<()> {
        std::fs::write(path, after).map_err(io("write", path))?;
        self.changed.push((path.to_path_buf(), before));
        Ok(())
    }

    fn undo(self) {
        for path in self.created.iter().rev() {
            let _ = std::fs::remove_file(path);
        }
        for (path, text) in self.changed {
            let _ = std::fs::write(path, text);
        }
        for dir in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// How the environment file must change so the environment deploys `stack`.
enum EnvEdit {
    Create(String),
    Change(String, String),
    None,
}

/// `text` with `stack` added to its top-level `stacks`, or an error saying what to add by hand.
/// `effective` is the environment's stack list (includes merged), when it could be loaded.
fn add_stack(
    text: &str,
    effective: Option<&[String]>,
    stack: &str,
    file: &str,
) -> std::result::Result<Option<String>, Error> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| Error::EnvFileInvalid {
            file: file.to_string(),
            reason: e.to_string(),
        })?;
    let by_hand = |list: &[String]| {
        let mut list = list.to_vec();
        list.push(stack.to_string());
        Error::EnvFileByHand {
            file: file.to_string(),
            stack: stack.to_string(),
            line: format!(
                "stacks = [{}]",
                list.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")
            ),
        }
    };
    let header = text
        .lines()
        .position(|l| l.trim_start().starts_with('['))
        .unwrap_or(usize::MAX);
    let lines: Vec<&str> = text.lines().collect();
    let render_line = |list: &[String]| {
        let mut all: Vec<String> = list.iter().map(|s| quote(s)).collect();
        all.push(quote(stack));
        format!("stacks = [{}]", all.join(", "))
    };
    match table.get("stacks") {
        Some(toml::Value::Array(items)) => {
            let listed: Vec<String> = items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            if listed.iter().any(|s| s == stack) {
                return Ok(None);
            }
            // A single-line `stacks = [...]` before the first table is replaced; anything else is
            // left to the user.
            let at = lines.iter().take(header).position(|l| {
                let t = l.trim_start();
                t.strip_prefix("stacks")
                    .is_some_and(|r| r.trim_start().starts_with('='))
            });
            let Some(at) = at else {
                return Err(by_hand(&listed));
            };
            let line = lines[at];
            let (value, comment) = match line.find(']') {
                Some(end) => line.split_at(end + 1),
                None => return Err(by_hand(&listed)),
            };
            if !value.contains('[') || listed.len() != items.len() {
                return Err(by_hand(&listed));
            }
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            out[at] = format!("{}{comment}", render_line(&listed));
            Ok(Some(out.join("\n") + "\n"))
        }
        Some(_) => Err(by_hand(&[])),
        None => {
            let Some(effective) = effective else {
                return Err(by_hand(&[]));
            };
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let at = header.min(out.len());
            out.insert(at, render_line(effective));
            if at < lines.len() {
                out.insert(at + 1, String::new());
            }
            Ok(Some(out.join("\n") + "\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_is_added_to_the_environment() {
        let text = "include = [\"../common.toml\"]\nstacks = [\"a\"] # ours\n\n[vars]\nx = 1\n";
        let new = add_stack(text, None, "org", "env.toml").unwrap().unwrap();
        assert!(new.contains("stacks = [\"a\", \"org\"] # ours\n"), "{new}");
        assert_eq!(add_stack(&new, None, "org", "env.toml").unwrap(), None);

        let inherited = "include = [\"../common.toml\"]\n\n[vars]\nx = 1\n";
        let effective = vec!["base".to_string()];
        let new = add_stack(inherited, Some(&effective), "org", "env.toml")
            .unwrap()
            .unwrap();
        let parsed: toml::Table = new.parse().unwrap();
        assert_eq!(parsed["stacks"].as_array().unwrap().len(), 2, "{new}");
        assert!(parsed["vars"].get("x").is_some());

        let multiline = "stacks = [\n  \"a\",\n]\n";
        let err = add_stack(multiline, None, "org", "env.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("stacks = [\"a\", \"org\"]"), "{err}");
    }
}
