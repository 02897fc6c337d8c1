//! `requirements.yml` and command-line role specs: what to install and from where.

use std::path::{Path, PathBuf};

use drover_core::yaml::{parse_file, Node};

/// Roles or collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A role, installed as `<roles_path>/<name>`.
    Role,
    /// A collection, installed as `<collections_path>/ansible_collections/<ns>/<name>`.
    Collection,
}

/// Where a requirement comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A git repository (any URL git understands; `subdir` for a collection inside it).
    Git {
        /// The URL, without `git+` and `#subdir`.
        url: String,
        /// The directory inside the repository holding the collection.
        subdir: Option<String>,
    },
    /// A tarball on this machine.
    Tarball(PathBuf),
    /// A directory on this machine.
    Dir(PathBuf),
    /// A name only Ansible Galaxy's server can resolve (or a URL drover cannot fetch).
    Unsupported(String),
}

/// One role or collection to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Role or collection.
    pub kind: Kind,
    /// Where it comes from.
    pub source: Source,
    /// The role's name (collections take theirs from `galaxy.yml`/`MANIFEST.json`).
    pub name: Option<String>,
    /// A git ref (tag, branch, commit) or a collection's version.
    pub version: Option<String>,
    /// Where the requirement was written (`requirements.yml:3:5` or `command line`).
    pub origin: String,
}

/// Reads a requirements file: a list of roles, or a map with `roles:` and `collections:`.
/// Relative paths are relative to the file's directory.
pub fn read_file(path: &Path) -> Result<Vec<Requirement>, String> {
    let doc = parse_file(path).map_err(|e| e.to_string())?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    if let Some(items) = doc.as_seq() {
        for item in items {
            out.push(from_node(Kind::Role, item, base)?);
        }
        return Ok(out);
    }
    if doc.as_map().is_none() {
        return Err(format!(
            "{}: expected a list of roles or a map with `roles:` and `collections:`",
            where_(&doc)
        ));
    }
    for (key, kind) in [("roles", Kind::Role), ("collections", Kind::Collection)] {
        if let Some(list) = doc.get(key) {
            let items = list
                .as_seq()
                .ok_or_else(|| format!("{}: `{key}` must be a list", where_(list)))?;
            for item in items {
                out.push(from_node(kind, item, base)?);
            }
        }
    }
    Ok(out)
}

fn where_(node: &Node) -> String {
    format!("{}:{}:{}", node.loc.file, node.loc.line, node.loc.col)
}

fn from_node(kind: Kind, node: &Node, base: &Path) -> Result<Requirement, String> {
    let origin = where_(node);
    if let Some(s) = node.as_str() {
        return Ok(from_spec(kind, s, base, origin));
    }
    if node.as_map().is_none() {
        return Err(format!("{origin}: expected a name, a URL or a map"));
    }
    let text = |k: &str| -> Result<Option<String>, String> {
        match node.get(k) {
            None => Ok(None),
            Some(v) => match v.to_value() {
                serde_json::Value::Null => Ok(None),
                serde_json::Value::String(s) => Ok(Some(s)),
                serde_json::Value::Number(n) => Ok(Some(n.to_string())),
                _ => Err(format!("{}: `{k}` must be text", where_(v))),
            },
        }
    };
    let (spec, name) = match kind {
        Kind::Role => (
            text("src")?.or(text("role")?).or(text("name")?),
            text("name")?,
        ),
        Kind::Collection => (text("source")?.or(text("name")?), None),
    };
    let spec = spec.ok_or_else(|| format!("{origin}: no `src` or `name`"))?;
    let scm = text("scm")?.or(text("type")?);
    let mut r = from_spec(kind, &spec, base, origin.clone());
    if let Some(name) = name.filter(|n| Some(n) != Some(&spec)) {
        r.name = Some(name);
    }
    if let Some(v) = text("version")? {
        r.version = Some(v);
    }
    match scm.as_deref() {
        Some("git") => {
            if !matches!(r.source, Source::Git { .. }) {
                let (url, subdir) = split_subdir(spec.trim_start_matches("git+"));
                r.source = Source::Git { url, subdir };
            }
        }
        Some("file") | Some("dir") | Some("galaxy") | Some("subdirs") | Some("url") | None => {}
        Some(other) => {
            return Err(format!(
                "{origin}: source type `{other}` is not supported (git, file, dir)"
            ))
        }
    }
    if scm.as_deref() == Some("galaxy") {
        r.source = Source::Unsupported(spec);
    }
    Ok(r)
}

fn split_subdir(url: &str) -> (String, Option<String>) {
    match url.split_once('#') {
        Some((u, sub)) if !sub.is_empty() => {
            (u.to_string(), Some(sub.trim_matches('/').to_string()))
        }
        _ => (url.trim_end_matches('#').to_string(), None),
    }
}

/// Reads one spec: `git+URL[,version[,name]]`, a `.git` URL, a tarball or directory path
/// (or `file://` URL), or a Galaxy name.
pub fn from_spec(kind: Kind, spec: &str, base: &Path, origin: String) -> Requirement {
    let mut parts = spec.split(',').map(str::trim);
    let head = parts.next().unwrap_or_default().to_string();
    let version = parts.next().filter(|v| !v.is_empty()).map(str::to_string);
    let name = parts.next().filter(|n| !n.is_empty()).map(str::to_string);
    let source = classify(&head, base);
    let name = name.or_else(|| match (&source, kind) {
        (Source::Unsupported(_), _) | (_, Kind::Collection) => None,
        _ => Some(role_name_from(&head)),
    });
    Requirement {
        kind,
        source,
        name,
        version,
        origin,
    }
}

fn classify(head: &str, base: &Path) -> Source {
    // A repository on this machine given by a relative path is relative to the file.
    let git = |url: String, subdir| {
        let url = if !url.contains("://") && !url.contains('@') && base.join(&url).exists() {
            base.join(&url).display().to_string()
        } else {
            url
        };
        Source::Git { url, subdir }
    };
    if let Some(rest) = head.strip_prefix("git+") {
        let (url, subdir) = split_subdir(rest);
        return git(url, subdir);
    }
    let (no_frag, _) = split_subdir(head);
    if no_frag.ends_with(".git") || head.starts_with("git@") || head.starts_with("ssh://") {
        let (url, subdir) = split_subdir(head);
        return git(url, subdir);
    }
    let local = head.strip_prefix("file://").unwrap_or(head);
    let looks_like_path = head.starts_with("file://")
        || local.starts_with('/')
        || local.starts_with("./")
        || local.starts_with("../")
        || local.starts_with('~');
    let path = if let Some(rest) = local.strip_prefix("~/") {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(rest)
    } else {
        base.join(local)
    };
    if path.is_dir() {
        return Source::Dir(path);
    }
    if path.is_file() || (looks_like_path && is_tarball_name(local)) {
        return Source::Tarball(path);
    }
    if looks_like_path {
        return Source::Dir(path);
    }
    Source::Unsupported(head.to_string())
}

fn is_tarball_name(p: &str) -> bool {
    [".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz"]
        .iter()
        .any(|s| p.ends_with(s))
}

/// ansible-galaxy's `repo_url_to_role_name`: the last path component without `.git`/`.tar.gz`.
pub fn role_name_from(src: &str) -> String {
    let trimmed = src.trim_end_matches('/');
    let last = trimmed.rsplit(['/', ':']).next().unwrap_or(trimmed);
    let last = last.split('#').next().unwrap_or(last);
    for suffix in [".git", ".tar.gz", ".tgz", ".tar"] {
        if let Some(stem) = last.strip_suffix(suffix) {
            return stem.to_string();
        }
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> Requirement {
        from_spec(Kind::Role, s, Path::new("/nonexistent"), "test".into())
    }

    #[test]
    fn git_specs_with_version_and_name() {
        let r = spec("git+file:///srv/repos/web.git,v1.2,webserver");
        assert_eq!(
            r.source,
            Source::Git {
                url: "file:///srv/repos/web.git".into(),
                subdir: None
            }
        );
        assert_eq!(r.version.as_deref(), Some("v1.2"));
        assert_eq!(r.name.as_deref(), Some("webserver"));
        let r = spec("https://example.invalid/x/nginx-role.git");
        assert_eq!(r.name.as_deref(), Some("nginx-role"));
        assert!(matches!(r.source, Source::Git { .. }));
    }

    #[test]
    fn paths_tarballs_and_galaxy_names() {
        assert!(matches!(
            spec("/srv/role.tar.gz").source,
            Source::Tarball(_)
        ));
        assert_eq!(spec("/srv/role.tar.gz").name.as_deref(), Some("role"));
        assert!(matches!(spec("./roles/x").source, Source::Dir(_)));
        assert_eq!(
            spec("geerlingguy.nginx").source,
            Source::Unsupported("geerlingguy.nginx".into())
        );
        assert_eq!(spec("geerlingguy.nginx").name, None);
    }
}
