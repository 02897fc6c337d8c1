//! Installing roles and collections from git repositories, directories and tarballs.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::requirements::{Kind, Requirement, Source};

/// Where things go and whether to replace what is there.
pub struct Target {
    /// Roles are installed as `<roles_dir>/<name>`.
    pub roles_dir: PathBuf,
    /// Collections are installed as `<collections_dir>/ansible_collections/<ns>/<name>`.
    pub collections_dir: PathBuf,
    /// Reinstall what is already installed.
    pub force: bool,
}

/// What installing one requirement did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Installed (or reinstalled) at this path.
    Installed(PathBuf),
    /// Already there with the wanted version.
    Skipped(PathBuf),
}

/// Installs one requirement, printing ansible-galaxy's progress lines.
pub fn install(req: &Requirement, target: &Target) -> Result<Outcome, String> {
    match req.kind {
        Kind::Role => install_role(req, target),
        Kind::Collection => install_collection(req, target),
    }
}

fn version_label(v: Option<&str>) -> String {
    v.filter(|v| !v.is_empty())
        .unwrap_or("unknown version")
        .to_string()
}

fn install_role(req: &Requirement, target: &Target) -> Result<Outcome, String> {
    let name = req
        .name
        .clone()
        .ok_or_else(|| format!("{}: the role needs a name", req.origin))?;
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(format!("{}: `{name}` is not a role name", req.origin));
    }
    let dest = target.roles_dir.join(&name);
    let info = dest.join("meta/.galaxy_install_info");
    if dest.exists() && !target.force {
        let installed = std::fs::read_to_string(&info).ok().and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("version:"))
                .map(|v| v.trim().trim_matches(['\'', '"']).to_string())
        });
        match (&req.version, installed) {
            (Some(want), Some(have)) if *want != have => {
                eprintln!(
                    "[WARNING]: - {name} ({have}) is already installed - use --force to change version to {want}"
                );
            }
            _ => println!("- {name} is already installed, skipping."),
        }
        return Ok(Outcome::Skipped(dest));
    }
    std::fs::create_dir_all(&target.roles_dir)
        .map_err(|e| format!("cannot create {}: {e}", target.roles_dir.display()))?;
    let stage = tempfile::Builder::new()
        .prefix(".drover-galaxy-")
        .tempdir_in(&target.roles_dir)
        .map_err(|e| {
            format!(
                "cannot create a directory in {}: {e}",
                target.roles_dir.display()
            )
        })?;
    let root = fetch(req, stage.path())?;
    let root = role_root(&root);
    if !root.join("tasks").is_dir() && !root.join("meta").is_dir() {
        return Err(format!(
            "{}: {} holds no role (no tasks/ or meta/ directory)",
            req.origin,
            describe(&req.source)
        ));
    }
    println!("- extracting {name} to {}", dest.display());
    std::fs::create_dir_all(root.join("meta")).map_err(|e| e.to_string())?;
    let version = req.version.clone().unwrap_or_default();
    std::fs::write(
        root.join("meta/.galaxy_install_info"),
        format!("install_date: {}\nversion: {version}\n", now()),
    )
    .map_err(|e| e.to_string())?;
    replace_dir(&root, &dest)?;
    println!(
        "- {name} ({}) was installed successfully",
        version_label(Some(&version))
    );
    Ok(Outcome::Installed(dest))
}

fn install_collection(req: &Requirement, target: &Target) -> Result<Outcome, String> {
    let base = target.collections_dir.join("ansible_collections");
    std::fs::create_dir_all(&base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
    let stage = tempfile::Builder::new()
        .prefix(".drover-galaxy-")
        .tempdir_in(&base)
        .map_err(|e| format!("cannot create a directory in {}: {e}", base.display()))?;
    let root = fetch(req, stage.path())?;
    let root = collection_root(&root);
    let (ns, coll, version) = collection_identity(&root).ok_or_else(|| {
        format!(
            "{}: {} holds no collection (no galaxy.yml or MANIFEST.json with a namespace and name)",
            req.origin,
            describe(&req.source)
        )
    })?;
    let dest = base.join(&ns).join(&coll);
    let fqcn = format!("{ns}.{coll}:{version}");
    if !target.force {
        if let Some((_, _, have)) = collection_identity(&dest) {
            if have == version {
                println!("'{fqcn}' is already installed, skipping.");
                return Ok(Outcome::Skipped(dest));
            }
        }
    }
    println!("Installing '{fqcn}' to '{}'", dest.display());
    if !root.join("MANIFEST.json").is_file() {
        let manifest = json!({
            "collection_info": {"namespace": ns, "name": coll, "version": version},
            "format": 1,
        });
        std::fs::write(root.join("MANIFEST.json"), format!("{manifest:#}\n"))
            .map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(base.join(&ns)).map_err(|e| e.to_string())?;
    replace_dir(&root, &dest)?;
    println!("{fqcn} was installed successfully");
    Ok(Outcome::Installed(dest))
}

fn describe(source: &Source) -> String {
    match source {
        Source::Git { url, .. } => url.clone(),
        Source::Tarball(p) | Source::Dir(p) => p.display().to_string(),
        Source::Unsupported(s) => s.clone(),
    }
}

/// Puts the requirement's files under `stage` and returns the directory holding them.
fn fetch(req: &Requirement, stage: &Path) -> Result<PathBuf, String> {
    match &req.source {
        Source::Git { url, subdir } => {
            let clone = stage.join("clone");
            run(Command::new("git")
                .args(["clone", "--quiet", "--no-checkout", "--", url])
                .arg(&clone))?;
            let tar = stage.join("archive.tar");
            let version = req
                .version
                .as_deref()
                .filter(|v| !v.is_empty())
                .unwrap_or("HEAD");
            // `origin/<branch>` for branches that are not the checked-out default.
            let rev = if run(Command::new("git")
                .arg("-C")
                .arg(&clone)
                .args(["rev-parse", "--verify", "--quiet"])
                .arg(format!("{version}^{{commit}}")))
            .is_ok()
            {
                version.to_string()
            } else {
                format!("origin/{version}")
            };
            run(Command::new("git")
                .arg("-C")
                .arg(&clone)
                .args(["archive", "--format=tar", "-o"])
                .arg(&tar)
                .arg(&rev))
            .map_err(|_| {
                format!(
                    "{}: {url} has no tag, branch or commit `{version}`",
                    req.origin
                )
            })?;
            let out = stage.join("tree");
            extract(&tar, &out)?;
            Ok(match subdir {
                Some(s) => out.join(s),
                None => out,
            })
        }
        Source::Tarball(path) => {
            if !path.is_file() {
                return Err(format!("{}: {} does not exist", req.origin, path.display()));
            }
            let out = stage.join("tree");
            extract(path, &out)?;
            Ok(out)
        }
        Source::Dir(path) => {
            if !path.is_dir() {
                return Err(format!("{}: {} does not exist", req.origin, path.display()));
            }
            let out = stage.join("tree");
            copy_dir(path, &out)?;
            Ok(out)
        }
        Source::Unsupported(name) => Err(unsupported(req, name)),
    }
}

/// The message for a requirement only Ansible Galaxy's server could provide.
pub fn unsupported(req: &Requirement, name: &str) -> String {
    let what = match req.kind {
        Kind::Role => "role",
        Kind::Collection => "collection",
    };
    if name.contains("://") {
        format!(
            "{}: {what} `{name}`: drover fetches only git repositories (git+URL, or a URL ending in .git) and local paths or tarballs; download the file first or give its git repository",
            req.origin
        )
    } else {
        format!(
            "{}: {what} `{name}` would come from Ansible Galaxy's server, which drover does not support (and cannot reach here); give its git repository (src: git+https://…/{name}.git) or a local directory or tarball",
            req.origin
        )
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn extract(tar: &Path, into: &Path) -> Result<(), String> {
    std::fs::create_dir_all(into).map_err(|e| e.to_string())?;
    run(Command::new("tar")
        .arg("-xf")
        .arg(tar)
        .arg("-C")
        .arg(into)
        .arg("--no-same-owner"))
    .map_err(|e| format!("cannot extract {}: {e}", tar.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let ft = entry.file_type().map_err(|e| e.to_string())?;
        if ft.is_dir() {
            copy_dir(&src, &dst)?;
        } else if ft.is_symlink() {
            let link = std::fs::read_link(&src).map_err(|e| e.to_string())?;
            std::os::unix::fs::symlink(link, &dst).map_err(|e| e.to_string())?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

/// A tarball or repository whose only entry is a directory: that directory.
fn single_child(dir: &Path) -> Option<PathBuf> {
    let entries: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().collect();
    match entries.as_slice() {
        [only] if only.path().is_dir() => Some(only.path()),
        _ => None,
    }
}

fn role_root(dir: &Path) -> PathBuf {
    if dir.join("tasks").is_dir() || dir.join("meta").is_dir() {
        return dir.to_path_buf();
    }
    single_child(dir).unwrap_or_else(|| dir.to_path_buf())
}

fn collection_root(dir: &Path) -> PathBuf {
    if collection_identity(dir).is_some() {
        return dir.to_path_buf();
    }
    single_child(dir).unwrap_or_else(|| dir.to_path_buf())
}

/// `(namespace, name, version)` from `MANIFEST.json` or `galaxy.yml`.
fn collection_identity(dir: &Path) -> Option<(String, String, String)> {
    let info: Value = if let Ok(text) = std::fs::read_to_string(dir.join("MANIFEST.json")) {
        serde_json::from_str::<Value>(&text).ok()?["collection_info"].clone()
    } else {
        drover_core::yaml::parse_file(&dir.join("galaxy.yml"))
            .ok()?
            .to_value()
    };
    let field = |k: &str| match &info[k] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    Some((
        field("namespace")?,
        field("name")?,
        field("version").unwrap_or_else(|| "*".into()),
    ))
}

/// Moves `from` to `to`, replacing what is there.
fn replace_dir(from: &Path, to: &Path) -> Result<(), String> {
    if to.exists() {
        std::fs::remove_dir_all(to).map_err(|e| format!("cannot remove {}: {e}", to.display()))?;
    }
    std::fs::rename(from, to).map_err(|e| format!("cannot move the files to {}: {e}", to.display()))
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("'@{secs}'")
}
