//! `docker_image_pull` (community.docker's): pulls an image, always or only when missing (or of
//! another platform). "Always" reports a change only when the pull changed the image ID; check
//! mode predicts that by reading the registry's manifest for the tag (its config digest is the
//! image ID), where community.docker always predicts a change.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ModuleParams, ParamChoices};
use serde::Deserialize;
use serde_json::{json, Value};

use super::api::{finish, DockerApi, DockerCli, DockerError};
use super::image_common::{find_image, image_id, or_empty, registry_has, ImageRef};
use crate::params::{de_opt_string, de_string};

/// When `docker_image_pull` pulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ParamChoices)]
#[serde(rename_all = "snake_case")]
pub enum PullMode {
    /// Every run (changed only when the image ID changes).
    #[default]
    Always,
    /// Only when no image of that name exists (or it has another platform).
    NotPresent,
}

fn latest() -> String {
    "latest".into()
}

/// Parameters of `docker_image_pull`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct ImagePullParams {
    /// Image name, optionally with `:tag` or `@digest`.
    #[serde(deserialize_with = "de_string")]
    pub name: String,
    /// Tag (a tag or digest in `name` wins).
    #[serde(default = "latest", deserialize_with = "de_string")]
    #[param(default = "latest")]
    pub tag: String,
    /// Platform to pull (`linux/amd64`).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub platform: Option<String>,
    /// When to pull.
    #[serde(default)]
    #[param(default = "always")]
    pub pull: PullMode,
    /// How to reach the engine.
    #[serde(flatten)]
    pub api: DockerApi,
}

/// The `docker_image_pull` module.
pub struct DockerImagePull;

#[async_trait]
impl TypedModule for DockerImagePull {
    const NAME: &'static str = "docker_image_pull";
    type Params = ImagePullParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ImagePullParams,
    ) -> Result<ModuleResult, ModuleError> {
        finish(run(ctx, p).await)
    }
}

/// `os/arch[/variant]` of an inspected image.
fn platform_of(image: &Value) -> String {
    let get = |k: &str| image.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut s = format!("{}/{}", get("Os"), get("Architecture"));
    if !get("Variant").is_empty() {
        s.push('/');
        s.push_str(get("Variant"));
    }
    s
}

/// Whether the wanted platform (`linux`, `amd64`, `linux/amd64`) matches the image's.
fn platform_matches(wanted: &str, image: &Value) -> bool {
    let have = platform_of(image).to_ascii_lowercase();
    let wanted = wanted.to_ascii_lowercase();
    let have_parts: Vec<&str> = have.split('/').collect();
    let parts: Vec<&str> = wanted.split('/').collect();
    match parts.as_slice() {
        [one] => have_parts.contains(one),
        _ => parts.iter().zip(have_parts.iter()).all(|(w, h)| w == h),
    }
}

fn info(image: &Value) -> Value {
    if image_id(image).is_empty() {
        json!({"exists": false})
    } else {
        json!({"exists": true, "id": image_id(image)})
    }
}

async fn run(ctx: &ModuleContext<'_>, p: ImagePullParams) -> Result<ModuleResult, DockerError> {
    let cli = DockerCli::new(&p.api)?;
    let image = ImageRef::new(&p.name, &p.tag);
    if image.is_id() {
        return Err(DockerError::failed("Cannot pull an image by ID"));
    }
    image.check_tag()?;
    let current = find_image(&cli, ctx.conn, &image).await?;
    if let Some(cur) = &current {
        if p.pull == PullMode::NotPresent
            && p.platform
                .as_deref()
                .is_none_or(|w| platform_matches(w, cur))
        {
            return Ok(ModuleResult::ok()
                .with("actions", Vec::<String>::new())
                .with("image", cur.clone()));
        }
    }
    let before = or_empty(current.clone());
    let action = format!("Pulled image {}:{}", image.name, image.tag);
    if ctx.check_mode {
        // Predict: the registry's manifest for the tag names the image we already have.
        let same = match &current {
            Some(cur) => registry_has(&cli, ctx.conn, cur, &image.name, &image.tag).await?,
            None => false,
        };
        let mut r = ModuleResult::changed(!same)
            .with("actions", vec![action])
            .with("image", before.clone());
        if ctx.diff {
            r = r.with_diff(drover_core::module::Diff {
                before: serde_json::to_string_pretty(&info(&before)).unwrap_or_default() + "\n",
                after: "{\"exists\": true, \"id\": \"unknown\"}\n".into(),
                ..Default::default()
            });
        }
        return Ok(r);
    }
    let mut args = vec!["pull".to_string()];
    if let Some(platform) = &p.platform {
        args.push("--platform".into());
        args.push(platform.clone());
    }
    args.push(image.full());
    cli.run_long(ctx.conn, &args).await?;
    let after = or_empty(find_image(&cli, ctx.conn, &image).await?);
    let changed = image_id(&before) != image_id(&after);
    Ok(ModuleResult::changed(changed)
        .with("actions", vec![action])
        .with("image", after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_compare_loosely() {
        let img = json!({"Os": "linux", "Architecture": "amd64"});
        assert!(platform_matches("linux/amd64", &img));
        assert!(platform_matches("amd64", &img));
        assert!(!platform_matches("linux/arm64", &img));
    }
}
