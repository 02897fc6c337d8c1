//! What the image and registry modules share: image names (`name:tag`, `name@digest`, image IDs),
//! looking images up, and pushing only what the registry does not already hold.
//!
//! # Push idempotence
//! community.docker reports a push as changed when the engine's push stream mentions a layer
//! being pushed. drover decides *before* pushing, so check mode predicts the same answer: the
//! registry's manifest for `repo:tag` is read with `docker manifest inspect --insecure -v` (the
//! registry is contacted from the target host, with the credentials of the CLI's config), and
//! compared with the local image: its `RepoDigests` for that repository (the engine records the
//! manifest digest there when it pushes or pulls the image) and its ID (a schema 2 manifest's
//! `config.digest` is the image ID). When the registry's tag already names this image, the registry holds exactly this image and nothing is pushed;
//! otherwise (never pushed, tag moved, registry unreachable for reading) the image is pushed and
//! the task reports a change.

use drover_core::connection::HostConnection;
use serde_json::{Map, Value};

use super::api::{DockerCli, DockerError, ObjectKind};

/// True for an image ID given as a name (`sha256:` and 64 hex digits), as community.docker
/// accepts for some operations.
pub fn is_image_id(name: &str) -> bool {
    name.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

/// True for a valid tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`); an empty tag only when `allow_empty`.
pub fn is_valid_tag(tag: &str, allow_empty: bool) -> bool {
    if tag.is_empty() {
        return allow_empty;
    }
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    first_ok
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Splits `repo:tag` / `repo@sha256:…` into repository and tag (or digest); `None` when the
/// name carries neither (a `:` followed by a path is a registry port, not a tag).
pub fn parse_repository_tag(name: &str) -> (String, Option<String>) {
    if let Some((repo, digest)) = name.rsplit_once('@') {
        return (repo.to_string(), Some(digest.to_string()));
    }
    match name.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), Some(tag.to_string())),
        _ => (name.to_string(), None),
    }
}

/// An image reference after community.docker's rules: a tag inside `name` wins over `tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Repository (or image ID).
    pub name: String,
    /// Tag or digest (`sha256:…`); empty for an image ID.
    pub tag: String,
}

impl ImageRef {
    /// The reference for `name` and the `tag` option.
    pub fn new(name: &str, tag: &str) -> Self {
        if is_image_id(name) {
            return Self {
                name: name.to_string(),
                tag: String::new(),
            };
        }
        match parse_repository_tag(name) {
            (repo, Some(t)) => Self { name: repo, tag: t },
            (repo, None) => Self {
                name: repo,
                tag: tag.to_string(),
            },
        }
    }

    /// True when the name is an image ID.
    pub fn is_id(&self) -> bool {
        is_image_id(&self.name)
    }

    /// True when the tag is a digest (`sha256:…`).
    pub fn is_digest(&self) -> bool {
        self.tag.contains(':')
    }

    /// What the CLI is given: `name:tag`, `name@digest`, or the bare ID / name.
    pub fn full(&self) -> String {
        if self.tag.is_empty() || self.is_id() {
            self.name.clone()
        } else if self.is_digest() {
            format!("{}@{}", self.name, self.tag)
        } else {
            format!("{}:{}", self.name, self.tag)
        }
    }

    /// Fails with community.docker's message when the tag is not a valid tag or digest.
    pub fn check_tag(&self) -> Result<(), DockerError> {
        if self.is_digest() || is_valid_tag(&self.tag, true) {
            Ok(())
        } else {
            Err(DockerError::failed(format!(
                "\"{}\" is not a valid docker tag!",
                self.tag
            )))
        }
    }
}

/// The registry host of a repository name (`docker.io` when it names none), as the engine
/// resolves it.
pub fn registry_of(repo: &str) -> String {
    match repo.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            if first == "index.docker.io" {
                "docker.io".into()
            } else {
                first.to_string()
            }
        }
        _ => "docker.io".into(),
    }
}

/// Looks an image up by reference; `None` when missing.
pub async fn find_image(
    cli: &DockerCli,
    conn: &HostConnection,
    image: &ImageRef,
) -> Result<Option<Value>, DockerError> {
    cli.inspect(conn, ObjectKind::Image, &image.full()).await
}

/// An inspect result or `{}` (community.docker's `image` when there is none).
pub fn or_empty(image: Option<Value>) -> Value {
    image.unwrap_or_else(|| Value::Object(Map::new()))
}

/// The image's ID (`sha256:…`), empty when unknown.
pub fn image_id(image: &Value) -> &str {
    image.get("Id").and_then(Value::as_str).unwrap_or_default()
}

/// Whether the registry already holds this local image under `repo:tag` (see the module docs):
/// the registry's manifest digest for the tag is one the engine recorded for this image, or the
/// manifest's config digest is this image's ID.
pub async fn registry_has(
    cli: &DockerCli,
    conn: &HostConnection,
    image: &Value,
    repo: &str,
    tag: &str,
) -> Result<bool, DockerError> {
    let local: Vec<String> = image
        .get("RepoDigests")
        .and_then(Value::as_array)
        .map(|ds| {
            ds.iter()
                .filter_map(Value::as_str)
                .filter_map(|d| d.rsplit_once('@'))
                .filter(|(r, _)| same_repo(r, repo))
                .map(|(_, digest)| digest.to_string())
                .collect()
        })
        .unwrap_or_default();
    let out = cli
        .run(
            conn,
            &[
                "manifest",
                "inspect",
                "--insecure",
                "-v",
                &format!("{repo}:{tag}"),
            ],
        )
        .await?;
    if !out.success() {
        return Ok(false);
    }
    let (manifests, configs) = manifest_digests(&out.stdout_str());
    let id = image_id(image);
    Ok(manifests.iter().any(|d| local.contains(d)) || configs.iter().any(|c| c == id))
}

/// The manifest digests and image config digests (= image IDs) `docker manifest inspect -v`
/// reports (one manifest, or a list's entries).
fn manifest_digests(text: &str) -> (Vec<String>, Vec<String>) {
    let Ok(v) = serde_json::from_str::<Value>(text.trim()) else {
        return (Vec::new(), Vec::new());
    };
    let items = match v {
        Value::Array(items) => items,
        other => vec![other],
    };
    let pick = |ptr: &str| -> Vec<String> {
        items
            .iter()
            .filter_map(|i| i.pointer(ptr).and_then(Value::as_str))
            .map(str::to_string)
            .collect()
    };
    (
        pick("/Descriptor/digest"),
        pick("/SchemaV2Manifest/config/digest"),
    )
}

/// True when two repository names are the same after the engine's normalisation
/// (`docker.io/library/x` = `x`).
fn same_repo(a: &str, b: &str) -> bool {
    normalize_repo(a) == normalize_repo(b)
}

fn normalize_repo(repo: &str) -> String {
    let registry = registry_of(repo);
    if registry != "docker.io" {
        return repo.to_string();
    }
    let rest = repo
        .strip_prefix("docker.io/")
        .or_else(|| repo.strip_prefix("index.docker.io/"))
        .unwrap_or(repo);
    if rest.contains('/') {
        rest.to_string()
    } else {
        format!("library/{rest}")
    }
}

/// Pushes `repo:tag` unless the registry already holds the image (check mode only predicts).
/// Returns whether it pushed (or would push).
pub async fn push_if_needed(
    cli: &DockerCli,
    conn: &HostConnection,
    image: &Value,
    repo: &str,
    tag: &str,
    check_mode: bool,
) -> Result<bool, DockerError> {
    if registry_has(cli, conn, image, repo, tag).await? {
        return Ok(false);
    }
    if !check_mode {
        let target = format!("{repo}:{tag}");
        cli.run_long(conn, &["push", &target])
            .await
            .map_err(|e| match e {
                DockerError::Failed(msg) => {
                    let msg = msg
                        .strip_prefix(&format!("docker push {target}: "))
                        .unwrap_or(&msg);
                    push_failure(repo, tag, msg)
                }
                other => other,
            })?;
    }
    Ok(true)
}

/// community.docker's push failure messages (with a hint for authentication problems).
fn push_failure(repo: &str, tag: &str, msg: &str) -> DockerError {
    let registry = registry_of(repo);
    if msg.contains("unauthorized")
        || msg.contains("authentication required")
        || msg.contains("no basic auth credentials")
    {
        return DockerError::failed(format!(
            "Error pushing image {repo}:{tag} - {msg}. Try logging into {registry} first."
        ));
    }
    DockerError::failed(format!("Error pushing image {repo}:{tag}: {msg}"))
}

/// Stringifies a dict of build args / labels for CLI flags (`true` → `True` as community.docker's
/// `to_native` for args when `python_bools`, else `true`).
pub fn dict_pairs(map: &Map<String, Value>, python_bools: bool) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) if python_bools => if *b { "True" } else { "False" }.to_string(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_as_community_docker() {
        assert_eq!(
            ImageRef::new("localhost:5000/a/b", "v1").full(),
            "localhost:5000/a/b:v1"
        );
        assert_eq!(ImageRef::new("a/b:2", "v1").full(), "a/b:2");
        let d = format!("x@sha256:{}", "a".repeat(64));
        assert_eq!(ImageRef::new(&d, "latest").full(), d);
        let id = format!("sha256:{}", "b".repeat(64));
        assert!(ImageRef::new(&id, "latest").is_id());
        assert!(!is_valid_tag("-x", false));
        assert!(is_valid_tag("v1.2_3", false));
        assert!(ImageRef::new("x", "a b").check_tag().is_err());
    }

    #[test]
    fn registries_and_repositories_normalise() {
        assert_eq!(registry_of("127.0.0.1:5000/x"), "127.0.0.1:5000");
        assert_eq!(registry_of("user/x"), "docker.io");
        assert!(same_repo("docker.io/library/debian", "debian"));
        assert!(!same_repo("127.0.0.1:5000/x", "x"));
        let v = r#"{"Ref":"r","Descriptor":{"digest":"sha256:1"}}"#;
        assert_eq!(manifest_digests(v).0, vec!["sha256:1".to_string()]);
    }
}
