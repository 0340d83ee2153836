//! Per-test temporary directories.

use std::path::{Path, PathBuf};

use crate::{Result, lab_err, short_tag, unique_id};

/// A per-test directory `/tmp/causeway-lab-<tag>-<pid36>-<n36>`, removed with
/// its contents on drop unless the environment variable `CAUSEWAY_KEEP_LAB=1`
/// (then its path is printed to stderr so it can be inspected).
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory tagged with (up to 16 alphanumerics of) `tag`.
    pub fn new(tag: &str) -> Result<TempDir> {
        let tag = short_tag(tag, 16);
        for _ in 0..16 {
            let path = PathBuf::from(format!("/tmp/causeway-lab-{tag}-{}", unique_id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(lab_err!("cannot create {}: {e}", path.display())),
            }
        }
        Err(lab_err!(
            "could not find a free temp dir name for tag {tag}"
        ))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `path()/rel`.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }

    /// Whether lab directories are kept (`CAUSEWAY_KEEP_LAB=1`).
    pub fn keep() -> bool {
        std::env::var("CAUSEWAY_KEEP_LAB").is_ok_and(|v| v == "1")
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if Self::keep() {
            eprintln!("lab: kept {}", self.path.display());
        } else if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!("lab: cannot remove {}: {e}", self.path.display());
        }
    }
}
