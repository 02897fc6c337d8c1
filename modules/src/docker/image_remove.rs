//! `docker_image_remove` (community.docker's): removes an image name (or an image by ID);
//! reports the untagged names and deleted layers the engine lists.

use async_trait::async_trait;
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{finish, DockerApi, DockerCli, DockerError};
use super::image_common::{find_image, image_id, is_valid_tag, or_empty, ImageRef};
use crate::params::{de_bool, de_string};

fn latest() -> String {
    "latest".into()
}

fn yes() -> bool {
    true
}

/// Parameters of `docker_image_remove`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct ImageRemoveParams {
    /// Image name (optionally with `:tag`) or ID.
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// Tag (a tag in `name` wins).
    #[serde(default = "latest", deserialize_with = "de_string")]
    #[param(default = "latest")]
    pub tag: String,
    /// Remove even when other names or containers use the image.
    #[serde(default, deserialize_with = "de_bool")]
    pub force: bool,
    /// Delete untagged parent images.
    #[serde(default = "yes", deserialize_with = "de_bool")]
    #[param(default = "true")]
    pub prune: bool,
    /// How to reach the engine.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_image_remove` module.
pub struct DockerImageRemove;

#[async_trait]
impl TypedModule for DockerImageRemove {
    const NAME: &'static str = "docker_image_remove";
    type Params = ImageRemoveParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ImageRemoveParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

fn strs(image: &Value, key: &str) -> Vec<String> {
    let mut v: Vec<String> = image
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn state(image: Option<&Value>) -> Value {
    match image {
        None => json!({"exists": false}),
        Some(i) => json!({"exists": true, "id": image_id(i), "tags": strs(i, "RepoTags"),
                          "digests": strs(i, "RepoDigests")}),
    }
}

async fn run(ctx: &ModuleContext<'_>, p: ImageRemoveParams) -> Result<ModuleResult, DockerError> {
    let cli = DockerCli::new(&p.api)?;
    if !is_valid_tag(&p.tag, true) {
        return Err(DockerError::failed(format!(
            "\"{}\" is not a valid docker tag",
            p.tag
        )));
    }
    let image = ImageRef::new(&p.name, &p.tag);
    let name = image.full();
    let current = find_image(&cli, ctx.conn, &image).await?;
    let Some(cur) = current else {
        let mut r = ModuleResult::ok()
            .with("actions", Vec::<String>::new())
            .with("image", or_empty(None))
            .with("deleted", Vec::<String>::new())
            .with("untagged", Vec::<String>::new());
        if ctx.diff {
            r = r.with_diff(Diff {
                before: "{\"exists\": false}\n".into(),
                after: "{\"exists\": false}\n".into(),
                ..Default::default()
            });
        }
        return Ok(r);
    };
    let (mut deleted, mut untagged) = (Vec::new(), Vec::new());
    let after;
    if ctx.check_mode {
        let tags = strs(&cur, "RepoTags");
        let digests = strs(&cur, "RepoDigests");
        if image.is_id() {
            untagged = tags.iter().chain(digests.iter()).cloned().collect();
            untagged.sort();
            if !p.force && !untagged.is_empty() {
                return Err(DockerError::failed(
                    "Cannot delete image by ID that is still in use - use force=true",
                ));
            }
            deleted.push(image_id(&cur).to_string());
            after = json!({"exists": false});
        } else {
            untagged.push(name.clone());
            if tags.len() < 2 && digests.is_empty() {
                deleted.push(image_id(&cur).to_string());
            }
            let mut a = state(Some(&cur));
            if let Some(t) = a.get_mut("tags").and_then(Value::as_array_mut) {
                t.retain(|x| x.as_str() != Some(name.as_str()));
            }
            after = a;
        }
    } else {
        let mut args = vec!["image", "rm"];
        if p.force {
            args.push("--force");
        }
        if !p.prune {
            args.push("--no-prune");
        }
        args.push(&name);
        let out = cli.run(ctx.conn, &args).await?;
        if !out.success() {
            let err = out.stderr_str();
            if !err.contains("No such image") {
                return Err(DockerError::failed(format!(
                    "Error removing image {name} - {}",
                    err.trim()
                        .trim_start_matches("Error response from daemon: ")
                )));
            }
        }
        for line in out.stdout_str().lines() {
            if let Some(u) = line.strip_prefix("Untagged: ") {
                untagged.push(u.trim().to_string());
            } else if let Some(d) = line.strip_prefix("Deleted: ") {
                deleted.push(d.trim().to_string());
            }
        }
        untagged.sort();
        deleted.sort();
        after = state(
            find_image(&cli, ctx.conn, &ImageRef::new(image_id(&cur), ""))
                .await?
                .as_ref(),
        );
    }
    let mut r = ModuleResult::changed(true)
        .with("actions", vec![format!("Removed image {name}")])
        .with("image", cur.clone())
        .with("deleted", deleted)
        .with("untagged", untagged);
    if ctx.diff {
        r = r.with_diff(Diff {
            before: serde_json::to_string_pretty(&state(Some(&cur))).unwrap_or_default() + "\n",
            after: serde_json::to_string_pretty(&after).unwrap_or_default() + "\n",
            ..Default::default()
        });
    }
    Ok(r)
}
