//! `docker_image_tag` (community.docker's): gives an image more names; a name that already
//! points at the image is left alone, one that points elsewhere is overwritten or kept
//! (`existing_images`).

use async_trait::async_trait;
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{finish, DockerApi, DockerCli, DockerError, ObjectKind};
use super::image_common::{image_id, is_image_id, is_valid_tag, parse_repository_tag, ImageRef};
use crate::params::{de_string, de_string_list};

/// What to do with a target name that points at another image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ParamChoices)]
#[serde(rename_all = "lowercase")]
pub enum ExistingImages {
    /// Keep it.
    Keep,
    /// Point the name at this image.
    #[default]
    Overwrite,
}

fn latest() -> String {
    "latest".into()
}

/// Parameters of `docker_image_tag`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct ImageTagParams {
    /// The image to tag: a name (optionally with `:tag`) or an ID.
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// Tag of `name` (a tag in `name` wins); also the tag of `repository` entries without one.
    #[serde(default = "latest", deserialize_with = "de_string")]
    #[param(default = "latest")]
    pub tag: String,
    /// New names (`repository[:tag]`).
    #[serde(deserialize_with = "de_string_list")]
    pub repository: Vec<String>,
    /// What to do when a new name already names another image.
    #[serde(default)]
    #[param(default = "overwrite")]
    pub existing_images: ExistingImages,
    /// How to reach the engine.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_image_tag` module.
pub struct DockerImageTag;

#[async_trait]
impl TypedModule for DockerImageTag {
    const NAME: &'static str = "docker_image_tag";
    type Params = ImageTagParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ImageTagParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

fn info(name: &str, tag: &str, image: Option<&Value>) -> Value {
    match image {
        Some(i) => json!({"name": format!("{name}:{tag}"), "id": image_id(i), "exists": true}),
        None => json!({"name": format!("{name}:{tag}"), "exists": false}),
    }
}

async fn run(ctx: &ModuleContext<'_>, p: ImageTagParams) -> Result<ModuleResult, DockerError> {
    let cli = DockerCli::new(&p.api)?;
    let image = ImageRef::new(&p.name, &p.tag);
    if !is_valid_tag(&p.tag, true) {
        return Err(DockerError::failed(format!(
            "\"{}\" is not a valid docker tag",
            p.tag
        )));
    }
    let mut targets = Vec::new();
    for (i, repository) in p.repository.iter().enumerate() {
        if is_image_id(repository) {
            return Err(DockerError::failed(format!(
                "repository[{}] must not be an image ID; got: {repository}",
                i + 1
            )));
        }
        let (repo, tag) = parse_repository_tag(repository);
        let tag = match tag {
            None => p.tag.clone(),
            Some(t) if is_valid_tag(&t, false) => t,
            Some(_) => {
                return Err(DockerError::failed(format!(
                    "repository[{}] must not have a digest; got: {repository}",
                    i + 1
                )))
            }
        };
        targets.push((repo, tag));
    }
    let mut objects = vec![(ObjectKind::Image, image.full())];
    objects.extend(
        targets
            .iter()
            .map(|(r, t)| (ObjectKind::Image, format!("{r}:{t}"))),
    );
    let refs: Vec<(ObjectKind, &str)> = objects.iter().map(|(k, n)| (*k, n.as_str())).collect();
    let mut found = cli.inspect_many(ctx.conn, &refs).await?.into_iter();
    let Some(source) = found.next().flatten() else {
        return Err(DockerError::failed(if image.is_id() {
            format!("Cannot find image {}", image.name)
        } else {
            format!("Cannot find image {}:{}", image.name, image.tag)
        }));
    };
    let id = image_id(&source).to_string();
    let (mut changed, mut actions, mut tagged) = (false, Vec::new(), Vec::<String>::new());
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for ((repo, tag), existing) in targets.iter().zip(found) {
        let (do_tag, msg) = match &existing {
            Some(e) if image_id(e) == id => (
                false,
                format!(
                    "target image already exists ({}) and is as expected",
                    image_id(e)
                ),
            ),
            Some(e) if p.existing_images == ExistingImages::Keep => (
                false,
                format!(
                    "target image already exists ({}) and is not as expected, but kept",
                    image_id(e)
                ),
            ),
            Some(e) => (
                true,
                format!(
                    "target image existed ({}) and was not as expected",
                    image_id(e)
                ),
            ),
            None => (true, "target image did not exist".to_string()),
        };
        before.push(info(repo, tag, existing.as_ref()));
        after.push(info(
            repo,
            tag,
            if do_tag {
                Some(&source)
            } else {
                existing.as_ref()
            },
        ));
        if do_tag {
            if !ctx.check_mode {
                cli.run_ok(ctx.conn, &["tag", &id, &format!("{repo}:{tag}")])
                    .await
                    .map_err(|e| match e {
                        DockerError::Failed(m) => DockerError::failed(format!(
                            "Error: failed to tag image as {repo}:{tag} - {m}"
                        )),
                        other => other,
                    })?;
            }
            changed = true;
            actions.push(format!("Tagged image {id} as {repo}:{tag}: {msg}"));
            tagged.push(format!("{repo}:{tag}"));
        } else {
            actions.push(format!("Not tagged image {id} as {repo}:{tag}: {msg}"));
        }
    }
    let mut result = ModuleResult::changed(changed)
        .with("actions", actions)
        .with("image", source)
        .with("tagged_images", tagged);
    if ctx.diff && changed {
        result = result.with_diff(Diff {
            before: serde_json::to_string_pretty(&json!({"images": before})).unwrap_or_default()
                + "\n",
            after: serde_json::to_string_pretty(&json!({"images": after})).unwrap_or_default()
                + "\n",
            ..Default::default()
        });
    }
    Ok(result)
}
