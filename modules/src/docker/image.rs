//! `docker_image` (community.docker's): build, load, pull or require an image; optionally archive
//! it (`docker save`), tag it as `repository` and push it; or remove it.
//!
//! Idempotence follows community.docker: an image that exists is not built, loaded or pulled
//! again unless `force_source` (a build is not compared with its context); an archive is written
//! only when it does not already hold that image ID under that name; a tag is set only when the
//! target name is missing (or `force_tag`); a push happens only when the registry does not
//! already hold the image (see [`super::image_common`]). Check mode predicts each step; a forced
//! build, pull or load that yields the same image ID reports no change after the fact, as
//! community.docker; check mode predicts that for pulls (the registry's manifest) and loads (the
//! archive's manifest), not for builds (it would have to build).

use async_trait::async_trait;
use drover_core::connection::shell_quote;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::Value;

use super::api::{finish, DockerApi, DockerCli, DockerError};
use super::image_build::{BuildOptions, PullOptions};
use super::image_common::{
    find_image, image_id, is_image_id, or_empty, parse_repository_tag, push_if_needed,
    registry_has, registry_of, ImageRef,
};
use crate::params::{de_bool, de_opt_string, de_string};

/// `source` of `docker_image`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum ImageSource {
    /// `docker build` from `build.path`.
    Build,
    /// `docker load` from `load_path`.
    Load,
    /// `docker pull`.
    Pull,
    /// The image must already exist.
    Local,
}

/// `state` of the image modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum ImageState {
    /// The image exists.
    #[default]
    Present,
    /// The image does not exist.
    Absent,
}

fn latest() -> String {
    "latest".into()
}

/// Parameters of `docker_image`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct ImageParams {
    /// Image name (`name`, `repo/name`, `registry:port/name`), optionally with `:tag`; an image
    /// ID only for `state=absent`, `source=load` and `source=local`.
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// Tag (a tag in `name` wins).
    #[serde(default = "latest", deserialize_with = "de_string")]
    #[param(default = "latest")]
    pub tag: String,
    /// Where the image comes from when missing; required with `state=present`.
    #[serde(default)]
    pub source: Option<ImageSource>,
    /// Build options (`path` required) for `source=build`.
    #[serde(default)]
    pub build: Option<BuildOptions>,
    /// Pull options (`platform`) for `source=pull`.
    #[serde(default)]
    pub pull: Option<PullOptions>,
    /// An image archive on the target to load (`source=load`).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub load_path: Option<String>,
    /// Write the image to this `.tar` file on the target (`docker save`).
    #[serde(default, deserialize_with = "de_opt_string")]
    #[param(kind = "path")]
    pub archive_path: Option<String>,
    /// Tag the image as this `repository[:tag]` (and push that name with `push`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub repository: Option<String>,
    /// Push the image (`repository`, else `name`) to its registry.
    #[serde(default, deserialize_with = "de_bool")]
    pub push: bool,
    /// Build, load or pull even when the image exists.
    #[serde(default, deserialize_with = "de_bool")]
    pub force_source: bool,
    /// Remove the image even when other tags or containers use it (`state=absent`).
    #[serde(default, deserialize_with = "de_bool")]
    pub force_absent: bool,
    /// Tag as `repository` even when that name exists.
    #[serde(default, deserialize_with = "de_bool")]
    pub force_tag: bool,
    /// Whether the image should exist.
    #[serde(default)]
    pub state: ImageState,
    /// How to reach the engine.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_image` module.
pub struct DockerImage;

#[async_trait]
impl TypedModule for DockerImage {
    const NAME: &'static str = "docker_image";
    type Params = ImageParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ImageParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// What one run did (or would do).
struct Outcome {
    changed: bool,
    actions: Vec<String>,
    image: Value,
    stdout: Option<String>,
}

async fn run(ctx: &ModuleContext<'_>, p: ImageParams) -> Result<ModuleResult, DockerError> {
    let cli = DockerCli::new(&p.api)?;
    let image = ImageRef::new(&p.name, &p.tag);
    image.check_tag()?;
    if let Some(repo) = &p.repository {
        if is_image_id(repo) {
            return Err(DockerError::failed(format!(
                "`repository` must not be an image ID; got: {repo}"
            )));
        }
    }
    if p.repository.is_none() && p.push && image.is_id() {
        return Err(DockerError::failed(format!(
            "Cannot push an image by ID; specify `repository` to tag and push the image with ID {} instead",
            image.name
        )));
    }
    let mut out = Outcome {
        changed: false,
        actions: Vec::new(),
        image: or_empty(None),
        stdout: None,
    };
    match p.state {
        ImageState::Absent => absent(ctx, &cli, &p, &image, &mut out).await?,
        ImageState::Present => present(ctx, &cli, &p, &image, &mut out).await?,
    }
    let mut result = ModuleResult::changed(out.changed)
        .with("actions", out.actions)
        .with("image", out.image);
    if let Some(stdout) = out.stdout {
        result = result.with("stdout", stdout);
    }
    Ok(result)
}

async fn absent(
    ctx: &ModuleContext<'_>,
    cli: &DockerCli,
    p: &ImageParams,
    image: &ImageRef,
    out: &mut Outcome,
) -> Result<(), DockerError> {
    if find_image(cli, ctx.conn, image).await?.is_none() {
        return Ok(());
    }
    let name = image.full();
    if !ctx.check_mode {
        let mut args = vec!["image", "rm"];
        if p.force_absent {
            args.push("--force");
        }
        args.push(&name);
        let res = cli.run(ctx.conn, &args).await?;
        let err = res.stderr_str();
        if !res.success() && !err.contains("No such image") {
            return Err(DockerError::failed(format!(
                "Error removing image {name} - {}",
                err.trim()
                    .trim_start_matches("Error response from daemon: ")
                    .trim()
            )));
        }
    }
    out.changed = true;
    out.actions.push(format!("Removed image {name}"));
    out.image = serde_json::json!({"state": "Deleted"});
    Ok(())
}

async fn present(
    ctx: &ModuleContext<'_>,
    cli: &DockerCli,
    p: &ImageParams,
    image: &ImageRef,
    out: &mut Outcome,
) -> Result<(), DockerError> {
    let Some(source) = p.source else {
        return Err(DockerError::failed(
            "state is present but all of the following are missing: source",
        ));
    };
    let current = find_image(cli, ctx.conn, image).await?;
    let full = image.full();
    if current.is_none() || p.force_source {
        match source {
            ImageSource::Build => {
                let Some(build) = p.build.as_ref() else {
                    return Err(DockerError::failed(
                        "If \"source\" is set to \"build\", the \"build.path\" option must be specified.",
                    ));
                };
                if image.is_id() {
                    return Err(DockerError::failed(format!(
                        "Image name must not be an image ID for source=build; got: {}",
                        image.name
                    )));
                }
                let args = build.cli_args(&full).map_err(DockerError::Failed)?;
                let test = ctx
                    .conn
                    .run(format!("test -d {}", shell_quote(&build.path)))
                    .await?;
                if !test.success() {
                    return Err(DockerError::failed(format!(
                        "Requested build path {} could not be found or you do not have access.",
                        build.path
                    )));
                }
                out.actions
                    .push(format!("Built image {full} from {}", build.path));
                out.changed = true;
                if !ctx.check_mode {
                    let stdout = cli.run_long(ctx.conn, &args).await.map_err(|e| match e {
                        DockerError::Failed(msg) => {
                            DockerError::failed(format!("Error building {full} - {msg}"))
                        }
                        other => other,
                    })?;
                    out.stdout = Some(stdout.trim_end().to_string());
                    out.image = or_empty(find_image(cli, ctx.conn, image).await?);
                }
            }
            ImageSource::Load => {
                let Some(path) = p.load_path.as_deref() else {
                    return Err(DockerError::failed(
                        "source is load but all of the following are missing: load_path",
                    ));
                };
                let test = ctx
                    .conn
                    .run(format!("test -f {}", shell_quote(path)))
                    .await?;
                if !test.success() {
                    return Err(DockerError::failed(format!(
                        "Error loading image {}. Specified path {path} does not exist.",
                        image.name
                    )));
                }
                out.actions.push(format!("Loaded image {full} from {path}"));
                out.changed = true;
                if !ctx.check_mode {
                    let text = cli.run_long(ctx.conn, &["load", "-i", path]).await?;
                    check_loaded(image, &text)?;
                    out.image = or_empty(find_image(cli, ctx.conn, image).await?);
                }
            }
            ImageSource::Pull => {
                if image.is_id() {
                    return Err(DockerError::failed(format!(
                        "Image name must not be an image ID for source=pull; got: {}",
                        image.name
                    )));
                }
                out.actions
                    .push(format!("Pulled image {}:{}", image.name, image.tag));
                out.changed = true;
                if !ctx.check_mode {
                    let mut args = vec!["pull".to_string()];
                    if let Some(platform) = p.pull.as_ref().and_then(|o| o.platform.clone()) {
                        args.push("--platform".into());
                        args.push(platform);
                    }
                    args.push(full.clone());
                    cli.run_long(ctx.conn, &args).await?;
                    out.image = or_empty(find_image(cli, ctx.conn, image).await?);
                }
            }
            ImageSource::Local => {
                if current.is_none() {
                    return Err(DockerError::failed(format!(
                        "Cannot find the image {full} locally."
                    )));
                }
            }
        }
        if let Some(cur) = &current {
            if !ctx.check_mode && image_id(cur) == image_id(&out.image) {
                out.changed = false;
            }
            if ctx.check_mode && predict_same(ctx, cli, p, source, image, cur).await? {
                out.changed = false;
            }
        }
        if ctx.check_mode || source == ImageSource::Local {
            out.image = or_empty(current.clone());
        }
    } else {
        out.image = or_empty(current.clone());
    }
    // The image as it now is (in check mode: as it is before the run).
    let now = if ctx.check_mode {
        current
    } else {
        Some(out.image.clone()).filter(|i| !image_id(i).is_empty())
    };
    if let Some(path) = &p.archive_path {
        super::image_archive::archive(ctx, cli, image, now.as_ref(), path, out_parts(out)).await?;
    }
    if let Some(repository) = &p.repository {
        tag_image(ctx, cli, p, image, now.as_ref(), repository, out).await?;
    } else if p.push {
        push(ctx, cli, image, now.as_ref(), &image.name, &image.tag, out).await?;
    }
    Ok(())
}

/// Check mode with `force_source` on an existing image: whether the forced pull or load would
/// end with the same image ID (so the apply would report no change). A pull is judged by the
/// registry's manifest for the tag, a load by the archive's `manifest.json`; a build cannot be
/// judged without building.
async fn predict_same(
    ctx: &ModuleContext<'_>,
    cli: &DockerCli,
    p: &ImageParams,
    source: ImageSource,
    image: &ImageRef,
    current: &Value,
) -> Result<bool, DockerError> {
    match (source, p.load_path.as_deref()) {
        (ImageSource::Pull, _) => {
            registry_has(cli, ctx.conn, current, &image.name, &image.tag).await
        }
        (ImageSource::Load, Some(path)) => Ok(matches!(
            super::image_archive::archived(ctx, path).await?,
            Some(Ok((id, _))) if id == image_id(current)
        )),
        _ => Ok(false),
    }
}

/// The outcome's `changed` and `actions`, for helpers in other files.
fn out_parts(out: &mut Outcome) -> (&mut bool, &mut Vec<String>) {
    (&mut out.changed, &mut out.actions)
}

/// Fails unless `docker load` reported the expected image.
fn check_loaded(image: &ImageRef, text: &str) -> Result<(), DockerError> {
    let mut names = Vec::new();
    let mut ids = Vec::new();
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("Loaded image:") {
            names.push(n.trim().to_string());
        } else if let Some(i) = line.strip_prefix("Loaded image ID:") {
            ids.push(i.trim().to_ascii_lowercase());
        }
    }
    if names.is_empty() && ids.is_empty() {
        return Err(DockerError::failed(
            "Detected no loaded images. Archive potentially corrupt?",
        ));
    }
    let expected = if image.is_id() {
        image.name.to_ascii_lowercase()
    } else {
        image.full()
    };
    if !names.contains(&expected) && !ids.contains(&expected) {
        let mut found: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
        found.extend(ids);
        found.sort();
        return Err(DockerError::failed(format!(
            "The archive did not contain image '{expected}'. Instead, found {}.",
            found.join(", ")
        )));
    }
    Ok(())
}

async fn tag_image(
    ctx: &ModuleContext<'_>,
    cli: &DockerCli,
    p: &ImageParams,
    image: &ImageRef,
    now: Option<&Value>,
    repository: &str,
    out: &mut Outcome,
) -> Result<(), DockerError> {
    let (repo, repo_tag) = parse_repository_tag(repository);
    let repo_tag = repo_tag
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| image.tag.clone());
    let repo_tag = if repo_tag.is_empty() {
        "latest".to_string()
    } else {
        repo_tag
    };
    let target = ImageRef::new(&repo, &repo_tag);
    let existing = find_image(cli, ctx.conn, &target).await?;
    let same = match (&existing, now) {
        (Some(e), Some(n)) => image_id(e) == image_id(n),
        _ => false,
    };
    if existing.is_none() || (p.force_tag && !same) {
        let source = image.full();
        out.changed = true;
        out.actions.push(format!(
            "Tagged image {source} to {}:{}",
            target.name, target.tag
        ));
        if !ctx.check_mode {
            cli.run_ok(ctx.conn, &["tag", &source, &target.full()])
                .await
                .map_err(|e| match e {
                    DockerError::Failed(m) => {
                        DockerError::failed(format!("Error: failed to tag image - {m}"))
                    }
                    other => other,
                })?;
            out.image = or_empty(find_image(cli, ctx.conn, &target).await?);
        }
    }
    if p.push {
        let tagged = if ctx.check_mode {
            now.cloned()
        } else {
            find_image(cli, ctx.conn, &target).await?
        };
        push(
            ctx,
            cli,
            &target,
            tagged.as_ref(),
            &target.name,
            &target.tag,
            out,
        )
        .await?;
    }
    Ok(())
}

async fn push(
    ctx: &ModuleContext<'_>,
    cli: &DockerCli,
    image: &ImageRef,
    now: Option<&Value>,
    repo: &str,
    tag: &str,
    out: &mut Outcome,
) -> Result<(), DockerError> {
    if image.is_id() {
        return Err(DockerError::failed(format!(
            "Cannot push an image ID: {}",
            image.name
        )));
    }
    let empty = or_empty(None);
    let current = now.unwrap_or(&empty);
    if current.get("Id").is_none() && !ctx.check_mode {
        return Err(DockerError::failed(format!(
            "Cannot find image {repo}:{tag} to push"
        )));
    }
    // As community.docker, the push is listed in `actions` whether or not the registry needed it.
    out.actions.push(format!(
        "Pushed image {} to {}/{}:{tag}",
        image.name,
        registry_of(repo),
        repo.split_once('/')
            .filter(|(r, _)| registry_of(repo) == *r)
            .map_or(repo, |(_, rest)| rest)
    ));
    if push_if_needed(cli, ctx.conn, current, repo, tag, ctx.check_mode).await? {
        out.changed = true;
    }
    if !ctx.check_mode {
        out.image = or_empty(find_image(cli, ctx.conn, &ImageRef::new(repo, tag)).await?);
    }
    Ok(())
}
