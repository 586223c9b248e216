//! `service.yaml`: which service model a folder of recordings answers for. The nearest one in
//! the folders above a recording (up to the recordings root) applies:
//!
//! ```yaml
//! model: ../../cases/inspector/model/inspector-2016-02-16.json   # relative to this file
//! ```
//!
//! It is the recordings' counterpart of a suite.yaml's `model:` key: one line of data, so that
//! `conform serve` and `conform compare` validate recordings without knowing any service.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file name the recording loader leaves alone.
pub const SERVICE_FILE: &str = "service.yaml";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceFile {
    /// The service.yaml itself.
    pub file: PathBuf,
    /// The model, resolved against the service.yaml's folder.
    pub model: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServiceFile {
    model: PathBuf,
}

/// The nearest `service.yaml` above `file` (its own folder first), not looking above `root`.
pub fn find_service_file(root: &Path, file: &Path) -> Option<PathBuf> {
    let mut dir = file.parent();
    while let Some(d) = dir {
        let candidate = d.join(SERVICE_FILE);
        if candidate.is_file() {
            return Some(candidate);
        }
        if d == root || d.as_os_str().is_empty() {
            return None;
        }
        dir = d.parent();
    }
    None
}

/// Reads a service.yaml; the error is the located YAML message (`path:line:col`).
pub fn read_service_file(path: &Path) -> Result<ServiceFile, String> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let raw: RawServiceFile =
        crate::yaml::parse(path, &source, "service file").map_err(|e| e.to_string())?;
    Ok(ServiceFile {
        file: path.to_owned(),
        model: path.parent().unwrap_or(Path::new("")).join(raw.model),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_service_file_applies() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let deep = root.join("svc/Op");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(root.join("svc").join(SERVICE_FILE), "model: ../m.json\n").unwrap();
        let found = find_service_file(root, &deep.join("r.yaml")).unwrap();
        assert_eq!(found, root.join("svc").join(SERVICE_FILE));
        let s = read_service_file(&found).unwrap();
        assert_eq!(s.model, root.join("svc/../m.json"));
        assert_eq!(
            find_service_file(&root.join("svc/Op"), &deep.join("r.yaml")),
            None
        );
        std::fs::write(root.join("svc").join(SERVICE_FILE), "modle: m.json\n").unwrap();
        let e = read_service_file(&found).unwrap_err();
        assert!(e.contains("service.yaml:1:"), "{e}");
    }
}
