//! Shell completion scripts: clap's static completion of subcommands and flags, plus environment and
//! stack names read from the project at completion time (the script calls `landfall __complete
//! environments|stacks`, which prints them one a line).

use clap::Command;
use clap_complete::Shell;
use std::path::Path;

/// What `landfall __complete` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Names {
    Environments,
    Stacks,
}

/// The names of the project found from `dir`, one a line; nothing outside a project (completion must
/// never print an error into the user's command line).
pub fn names(dir: &Path, what: Names) -> String {
    let Ok(root) = crate::load::find_root(dir) else {
        return String::new();
    };
    let names = match what {
        Names::Environments => crate::load::environment_names(&root),
        Names::Stacks => crate::load::stack_names(&root),
    };
    names.into_iter().map(|n| n + "\n").collect()
}

/// The completion script for `shell`, for the command line `cmd` installed as `bin`.
pub fn script(shell: Shell, cmd: &mut Command, bin: &str) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, cmd, bin, &mut out);
    let generated = String::from_utf8_lossy(&out).into_owned();
    match shell {
        Shell::Bash => format!("{generated}{}", BASH.replace("BIN", bin)),
        Shell::Fish => format!("{generated}{}", FISH.replace("BIN", bin)),
        // clap writes `:ENV:_default` for a value it cannot complete: ask landfall instead.
        Shell::Zsh => format!(
            "{}{}",
            generated
                .replace(":ENV:_default", ":ENV:_BIN_environments")
                .replace(":STACK:_default", ":STACK:_BIN_stacks")
                .replace("_BIN_", &format!("_{bin}_")),
            ZSH.replace("BIN", bin)
        ),
        _ => generated,
    }
}

/// Wraps clap's function: after `--env`/`-e` and `--stack`, the project's names.
const BASH: &str = r#"
_BIN_names() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" what=""
    case "$prev" in
        -e|--env) what=environments ;;
        --stack) what=stacks ;;
    esac
    if [[ -n "$what" ]]; then
        local IFS=$'\n'
        COMPREPLY=( $(compgen -W "$(BIN __complete "$what" 2>/dev/null)" -- "$cur") )
        return 0
    fi
    _BIN "$@"
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _BIN_names -o nosort -o bashdefault -o default BIN
else
    complete -F _BIN_names -o bashdefault -o default BIN
fi
"#;

const FISH: &str = r#"
complete -c BIN -s e -l env -f -a '(BIN __complete environments 2>/dev/null)'
complete -c BIN -l stack -f -a '(BIN __complete stacks 2>/dev/null)'
"#;

const ZSH: &str = r#"
_BIN_environments() {
    local -a names
    names=(${(f)"$(BIN __complete environments 2>/dev/null)"})
    _describe 'environment' names
}
_BIN_stacks() {
    local -a names
    names=(${(f)"$(BIN __complete stacks 2>/dev/null)"})
    _describe 'stack' names
}
"#;
