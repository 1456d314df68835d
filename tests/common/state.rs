//! Local state as landfall reads it, from the files: the document with the journal it names
//! replayed (a running or killed apply's checkpoints). A journal line being appended is skipped until
//! it is complete.

use landfall::state::State;
use std::path::Path;

/// The state of a stack under `d` (local backend, default path); `None` before the first write.
pub fn read(d: &Path, env: &str, stack: &str) -> Option<State> {
    let dir = d.join(".landfall/state").join(env);
    let text = std::fs::read_to_string(dir.join(format!("{stack}.json"))).ok()?;
    let mut state = State::from_json(&text, stack).ok()?;
    if let Some(id) = state.journal.take() {
        let journal = dir.join(format!("{stack}.journal.{id}.jsonl"));
        let lines = std::fs::read_to_string(journal).unwrap_or_default();
        let complete = lines.rfind('\n').map_or("", |end| &lines[..end]);
        state.replay(
            complete
                .lines()
                .map(|line| serde_json::from_str(line).expect("a journal batch"))
                .collect(),
        );
    }
    Some(state)
}

/// The state of a stack as JSON (see [`read`]).
pub fn json(d: &Path, env: &str, stack: &str) -> Option<serde_json::Value> {
    serde_json::to_value(read(d, env, stack)?).ok()
}

/// Whether the state of a stack records a resource yet.
pub fn has_resources(d: &Path, env: &str, stack: &str) -> bool {
    read(d, env, stack).is_some_and(|s| !s.resources.is_empty())
}
