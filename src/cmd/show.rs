//! `landfall show PLANFILE`: a saved plan rendered again, as text, Markdown or JSON — what the apply
//! job shows before applying it, or the merge-request comment made from the plan artifact. Reads the
//! file only: no project, credentials or AWS needed.

use super::apply::load_plan;
use super::plan::PlanFormat;
use super::{Error, Exit, Result};
use crate::plan::render;
use std::path::{Path, PathBuf};

/// `show PLANFILE [--format F] [--parts-dir DIR]`.
pub struct ShowArgs {
    pub plan_file: PathBuf,
    pub format: PlanFormat,
    /// Markdown only: write each comment-sized part to `DIR/plan-N.md` instead of printing.
    pub parts_dir: Option<PathBuf>,
    /// Colour the text form (stdout is a terminal and colour is not turned off).
    pub color: bool,
}

pub fn show(args: ShowArgs) -> Result {
    let plan = load_plan(&args.plan_file)?;
    match (args.format, &args.parts_dir) {
        (PlanFormat::Markdown, Some(dir)) => write_parts(dir, &render::markdown_parts(&plan))?,
        (_, Some(_)) => {
            return Err(Error::usage(
                "--parts-dir writes Markdown comments",
                "add --format markdown",
            ));
        }
        (format, None) => super::plan::print_plan(&plan, format, args.color)?,
    }
    Ok(Exit::Success)
}

/// `DIR/plan-1.md`, `DIR/plan-2.md`, ...: one merge-request comment each, the first with the summary.
fn write_parts(dir: &Path, parts: &[String]) -> Result<()> {
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|error| Error::WritePlan { path, error })
    };
    std::fs::create_dir_all(dir).map_err(|error| Error::WritePlan {
        path: dir.to_path_buf(),
        error,
    })?;
    for (i, part) in parts.iter().enumerate() {
        write(dir.join(format!("plan-{}.md", i + 1)), part)?;
    }
    eprintln!(
        "Wrote {} Markdown part{} to {} (plan-1.md first).",
        parts.len(),
        if parts.len() == 1 { "" } else { "s" },
        dir.display()
    );
    Ok(())
}
