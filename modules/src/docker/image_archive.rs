//! `docker_image`'s `archive_path`: `docker save` into a `.tar` on the target, skipped when the
//! archive already holds that image ID under that one name (read from the archive's
//! `manifest.json`), as community.docker decides.

use drover_core::connection::shell_quote;
use drover_core::module::ModuleContext;
use serde_json::Value;

use super::api::{DockerCli, DockerError};
use super::image_common::{image_id, ImageRef};

/// What an existing archive holds: its image ID and names; `None` when there is no archive,
/// `Err(reason)` when it cannot be read.
pub async fn archived(
    ctx: &ModuleContext<'_>,
    path: &str,
) -> Result<Option<Result<(String, Vec<String>), String>>, DockerError> {
    let q = shell_quote(path);
    let out = ctx
        .conn
        .run(format!(
            "if [ -e {q} ]; then tar -xOf {q} manifest.json 2>&1 || echo '@@unreadable'; else echo '@@none'; fi"
        ))
        .await?;
    let text = out.stdout_str();
    if text.trim() == "@@none" {
        return Ok(None);
    }
    let parsed = serde_json::from_str::<Value>(text.trim())
        .ok()
        .and_then(|v| v.as_array().cloned())
        .filter(|items| items.len() == 1)
        .and_then(|items| {
            let item = &items[0];
            let config = item.get("Config")?.as_str()?;
            let hex = config
                .trim_start_matches("blobs/sha256/")
                .trim_end_matches(".json");
            let tags = item
                .get("RepoTags")
                .and_then(Value::as_array)
                .map(|t| {
                    t.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            Some((format!("sha256:{hex}"), tags))
        });
    Ok(Some(parsed.ok_or_else(|| text.trim().to_string())))
}

/// Archives `image` (as it now is) to `path` unless the archive already holds it.
pub async fn archive(
    ctx: &ModuleContext<'_>,
    cli: &DockerCli,
    image: &ImageRef,
    now: Option<&Value>,
    path: &str,
    (changed, actions): (&mut bool, &mut Vec<String>),
) -> Result<(), DockerError> {
    let Some(current) = now else {
        return Ok(());
    };
    let name = if image.is_id() {
        image.name.clone()
    } else {
        format!(
            "{}:{}",
            image.name,
            if image.tag.is_empty() {
                "latest"
            } else {
                &image.tag
            }
        )
    };
    let id = image_id(current);
    let action = match archived(ctx, path).await? {
        None => Some(format!("Archived image {name} to {path}, since none present")),
        Some(Err(_)) => Some(format!(
            "Archived image {name} to {path}, overwriting an unreadable archive file"
        )),
        Some(Ok((archived_id, tags))) if archived_id == id && tags == vec![name.clone()] => None,
        Some(Ok((archived_id, tags))) => Some(format!(
            "Archived image {name} to {path}, overwriting archive with image {archived_id} named {}",
            tags.join(", ")
        )),
    };
    *changed = action.is_some();
    if let Some(action) = action {
        actions.push(action);
        if !ctx.check_mode {
            cli.run_long(ctx.conn, &["save", "-o", path, &name])
                .await
                .map_err(|e| match e {
                    DockerError::Failed(m) => {
                        DockerError::failed(format!("Error getting image {name} - {m}"))
                    }
                    other => other,
                })?;
        }
    }
    Ok(())
}
