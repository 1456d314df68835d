//! Source files and spans: every configuration value remembers the file and byte range it came from, so
//! diagnostics can print `file:line:col` and the offending line.

use std::path::{Path, PathBuf};

/// An index into [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, range: std::ops::Range<usize>) -> Span {
        Span {
            file,
            start: range.start as u32,
            end: range.end as u32,
        }
    }

    /// A span covering both `self` and `other` (which must be in the same file).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// A sub-range, given as offsets relative to the start of this span.
    pub fn sub(self, start: usize, end: usize) -> Span {
        Span {
            file: self.file,
            start: self.start + start as u32,
            end: self.start + end as u32,
        }
    }
}

/// One loaded file: its path as shown to users (relative to the project root) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// As shown in messages.
    pub display: String,
    /// Where it was read from, for resolving relative paths (`file()`, `include`).
    pub path: PathBuf,
    pub text: String,
    /// Byte offset of the start of each line, for offset -> line:col.
    line_starts: Vec<u32>,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let end = (offset as usize).min(self.text.len());
        let col = self
            .text
            .get(start..end)
            .map_or(end - start, |s| s.chars().count())
            + 1;
        (line + 1, col)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1] as usize;
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&e| e as usize);
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }
}

/// Every file read while loading a project.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, path: &Path, display: String, text: String) -> FileId {
        let path = &clean(path);
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        self.files.push(SourceFile {
            display,
            path: path.to_path_buf(),
            text,
            line_starts,
        });
        FileId(self.files.len() as u32 - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// The file already loaded from `path`, if any.
    pub fn find(&self, path: &Path) -> Option<FileId> {
        let path = clean(path);
        self.files
            .iter()
            .position(|f| f.path == path)
            .map(|i| FileId(i as u32))
    }

    /// A digest of every file's path and text: changes whenever the configuration does.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut files: Vec<&SourceFile> = self.files.iter().collect();
        files.sort_by(|a, b| a.display.cmp(&b.display));
        let mut hash = Sha256::new();
        for f in files {
            hash.update(f.display.as_bytes());
            hash.update([0]);
            hash.update((f.text.len() as u64).to_le_bytes());
            hash.update(f.text.as_bytes());
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// `file:line:col` of the start of a span.
    pub fn location(&self, span: Span) -> String {
        let file = self.get(span.file);
        let (line, col) = file.line_col(span.start);
        format!("{}:{line}:{col}", file.display)
    }

    /// The source text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        let text = &self.get(span.file).text;
        text.get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

/// Removes `.` and `name/..` from a path without touching the file system, so `environments/dev/../common.toml`
/// is shown and found as `environments/common.toml`.
pub fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_removes_parent_steps() {
        assert_eq!(
            clean(Path::new("/p/environments/dev/../common.toml")),
            Path::new("/p/environments/common.toml")
        );
        assert_eq!(
            clean(Path::new("stacks/./../policies/x.json")),
            Path::new("policies/x.json")
        );
    }

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let mut sources = Sources::default();
        let id = sources.add(
            Path::new("a.toml"),
            "a.toml".into(),
            "x = 1\nnamé = \"v\"\n".into(),
        );
        let file = sources.get(id);
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(6), (2, 1));
        // "namé = " is 8 bytes but 7 characters: the quote is the 8th character.
        assert_eq!(file.line_col(14), (2, 8));
        assert_eq!(file.line(2), "namé = \"v\"");
        assert_eq!(sources.location(Span::new(id, 6..7)), "a.toml:2:1");
    }
}
