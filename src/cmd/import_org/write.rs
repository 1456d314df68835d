//! Writes the files (undone on failure) and the new stack's state, exactly as apply would have.

use super::*;

/// Files written so far, undone when a later step fails.
#[derive(Default)]
pub(crate) struct Undo {
    pub(crate) created: Vec<PathBuf>,
    pub(crate) dirs: Vec<PathBuf>,
    pub(crate) changed: Vec<(PathBuf, String)>,
}

impl Undo {
    pub(crate) fn mkdirs(&mut self, dir: &Path) -> Result<(), Error> {
        let mut missing: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|d| !d.exists())
            .map(Path::to_path_buf)
            .collect();
        std::fs::create_dir_all(dir)
            .map_err(|e| other(format!("cannot create {}: {e}", dir.display())))?;
        missing.reverse();
        self.dirs.extend(missing);
        Ok(())
    }

    pub(crate) fn create(&mut self, path: &Path, text: &str) -> Result<(), Error> {
        if let Some(dir) = path.parent() {
            self.mkdirs(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| other(format!("cannot create {}: {e}", path.display())))?;
        self.created.push(path.to_path_buf());
        std::io::Write::write_all(&mut file, text.as_bytes())
            .map_err(|e| other(format!("cannot write {}: {e}", path.display())))
    }

    pub(crate) fn change(&mut self, path: &Path, before: String, after: &str) -> Result<(), Error> {
        std::fs::write(path, after)
            .map_err(|e| other(format!("cannot write {}: {e}", path.display())))?;
        self.changed.push((path.to_path_buf(), before));
        Ok(())
    }

    pub(crate) fn undo(self) {
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
pub(crate) enum EnvEdit {
    Create(String),
    Change(String, String),
    None,
}

/// `text` with `stack` added to its top-level `stacks`, or an error saying what to add by hand.
/// `effective` is the environment's stack list (includes merged), when it could be loaded.
pub(crate) fn add_stack(
    text: &str,
    effective: Option<&[String]>,
    stack: &str,
    file: &str,
) -> Result<Option<String>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{file} is not valid TOML: {e}"))?;
    let by_hand = |list: &[String]| {
        let mut list = list.to_vec();
        list.push(stack.to_string());
        format!(
            "environment file {file} does not list stack `{stack}`: add it as\n    stacks = [{}]\nthen run import-org again",
            list.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")
        )
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

pub(crate) fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

pub(crate) fn state_exists(describe: &str, env: &str, stack: &str) -> Error {
    other(format!(
        "state for stack `{stack}` of environment `{env}` already exists ({describe}); import-org only \
         writes new state. Choose another --stack, or remove that state first"
    ))
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_all(
    req: &Request,
    aws: &Arc<Aws>,
    root: &Path,
    has_project: bool,
    env_file: &Path,
    env_edit: EnvEdit,
    stack_file: &Path,
    rendered: &Rendered,
    undo: &mut Undo,
) -> Result<(String, Vec<String>), Error> {
    let (env, stack) = (req.env.as_str(), req.stack.as_str());
    if !has_project {
        let project = sanitize(
            root.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default(),
            "landing_zone",
        )
        .replace('_', "-");
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
    match env_edit {
        EnvEdit::Create(text) => undo.create(env_file, &text)?,
        EnvEdit::Change(before, after) => undo.change(env_file, before, &after)?,
        EnvEdit::None => {}
    }
    for (path, text) in &rendered.policy_files {
        undo.create(&root.join(path), text)?;
    }
    undo.create(stack_file, &rendered.stack_toml)?;

    // Resolve the new configuration with the values AWS has, and record what apply would have.
    let ws = Workspace::open(root, env)?;
    let address = |local: &str| format!("{stack}.{local}");
    let mut known = Known::default();
    let stored = read_states(&ws, &ws.backend(Some(aws.clone()))).await?;
    for s in stored.values() {
        for r in &s.state.resources {
            known.attrs.insert(r.address.clone(), r.attributes.clone());
        }
    }
    for (local, live) in &rendered.live {
        known.attrs.insert(address(local), live.attrs.clone());
    }
    let (_, resolved) = ws.resolve(&known)?;
    let mut state = State::new(env, stack);
    let mut live_by_address: HashMap<String, Option<Live>> = HashMap::new();
    for inst in resolved.instances.iter().filter(|i| i.stack == stack) {
        let local = inst
            .address
            .strip_prefix(&format!("{stack}."))
            .unwrap_or(&inst.address);
        let live = rendered.live.get(local).ok_or_else(|| {
            other(format!(
                "{} is in the configuration but was not imported",
                inst.address
            ))
        })?;
        let mut attributes = desired_json(inst);
        for (k, v) in &live.attrs {
            attributes.insert(k.clone(), v.clone());
        }
        if let Some((k, _)) = attributes
            .iter()
            .find(|(_, v)| v.as_str() == Some("(known after apply)"))
        {
            return Err(other(format!(
                "{}: `{k}` did not resolve; this is a bug in import-org",
                inst.address
            )));
        }
        state.put(ResourceState {
            address: inst.address.clone(),
            kind: inst.kind.name.to_string(),
            id: live.id.clone(),
            account: plan::account_of(inst),
            region: (schema::kind(inst.kind.name).map(|k| k.scope) == Some(Scope::Regional)).then(
                || {
                    inst.region
                        .clone()
                        .unwrap_or_else(|| ws.home_region().into())
                },
            ),
            attributes,
            dependencies: inst
                .deps
                .iter()
                .map(|d| resolved.instances[d.0 as usize].address.clone())
                .collect(),
        });
        live_by_address.insert(inst.address.clone(), Some(live.clone()));
    }

    // What the next plan would show for this stack: nothing, unless the project adds something (such
    // as default tags) that AWS does not have.
    let mut states: IndexMap<String, State> =
        stored.into_iter().map(|(k, v)| (k, v.state)).collect();
    states.insert(stack.to_string(), state.clone());
    let observed = Observed {
        states: &states,
        live: &live_by_address,
        adopted: &HashMap::new(),
        duplicates: &HashMap::new(),
        copies: &HashMap::new(),
    };
    let filter = Filter {
        stacks: vec![stack.to_string()],
        ..Filter::default()
    };
    let mut warnings = Vec::new();
    match plan::diff(&resolved, &observed, &filter) {
        Ok(diffed) => {
            let mut by_attr: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for c in &diffed.changes {
                by_attr
                    .entry(format!("{:?}", c.action).to_lowercase())
                    .or_default()
                    .push(format!("{} ({})", c.address, c.changed.join(", ")));
            }
            for (action, list) in by_attr {
                warnings.push(format!(
                    "the next plan will {action} {}: the project's settings (e.g. [defaults] tags) add \
                     to what AWS has",
                    list.join("; ")
                ));
            }
        }
        Err(refusals) => warnings.extend(refusals.into_iter().map(|r| r.message)),
    }

    // State, under the stack's lock, only if there is none.
    let backend = ws.backend(Some(aws.clone()));
    let who = aws
        .caller()
        .await
        .map(|c| c.arn.clone())
        .unwrap_or_else(|_| "unknown".into());
    let lock = LockInfo::new(&who, "import-org");
    backend.lock(env, stack, &lock, &[]).await?;
    let written: Result<(), Error> = async {
        if backend.read(env, stack).await?.is_some() {
            return Err(state_exists(&backend.describe(env, stack), env, stack));
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
