//! `docker_prune` under `--check`: community.docker has no check mode there, so drover predicts
//! what the apply would remove by listing the candidates the engine's prune would select — in
//! one round trip, changing nothing — and reports `changed` and the lists as the apply would.
//!
//! The selection follows the engine: stopped (`exited`, `created`, `dead`) containers; dangling
//! images, or every image no container uses (`dangling: false`); user networks without
//! containers; volumes no container uses (only anonymous ones on API 1.42+ unless `all`); the
//! build cache when it holds reclaimable space beyond `keep_storage`. `label`/`label!` filters are
//! applied; `until` takes a duration (`24h`, `90m`, `1h30m`, `3600s`) or a Unix timestamp, and
//! other forms are refused in check mode rather than guessed.

use drover_core::module::{ModuleContext, ModuleResult};
use serde_json::Value;

use super::api::{DockerCli, DockerError};
use super::prune::{cli_size, PruneParams};

/// Marker between the listings of one script.
const SEP: &str = "@@drover-prune@@";

/// The check-mode answer: what the apply would remove.
pub async fn predict(
    ctx: &ModuleContext<'_>,
    cli: &DockerCli,
    p: &PruneParams,
    keep_storage: Option<u64>,
) -> Result<ModuleResult, DockerError> {
    let d = |args: &[&str]| cli.command_line(args);
    let mut script = vec![format!("echo \"{SEP}now $(date +%s)\"")];
    script.push(format!(
        "echo \"{SEP}api $({} 2>/dev/null)\"",
        d(&["version", "-f", "{{.Server.APIVersion}}"])
    ));
    if p.containers {
        let mut args = vec!["container", "ls", "-a", "--no-trunc", "--format", "{{.ID}}"];
        for s in ["status=exited", "status=created", "status=dead"] {
            args.extend(["--filter", s]);
        }
        let labels = label_args(&p.containers_filters);
        args.extend(labels.iter().map(String::as_str));
        script.push(section(
            "containers",
            &d(&args),
            "{{.Id}} {{.Created}}",
            cli,
        ));
    }
    if p.images {
        let labels = label_args(&p.images_filters);
        let mut args = vec!["image", "ls", "-q", "--no-trunc"];
        if !all_images(p) {
            args.extend(["--filter", "dangling=true"]);
        }
        args.extend(labels.iter().map(String::as_str));
        script.push(section("images", &d(&args), "{{.Id}} {{.Created}}", cli));
        script.push(format!(
            "echo \"{SEP}used\"; for c in $({}); do {} \"$c\"; done",
            d(&["container", "ls", "-aq"]),
            d(&["container", "inspect", "-f", "{{.Image}}"])
        ));
    }
    if p.networks {
        let labels = label_args(&p.networks_filters);
        let mut args = vec![
            "network",
            "ls",
            "-q",
            "--no-trunc",
            "--filter",
            "type=custom",
        ];
        args.extend(labels.iter().map(String::as_str));
        script.push(section(
            "networks",
            &d(&args),
            "{{.Name}} {{.Created}} {{len .Containers}}",
            cli,
        ));
    }
    if p.volumes {
        let labels = label_args(&p.volumes_filters);
        let mut args = vec!["volume", "ls", "-q", "--filter", "dangling=true"];
        args.extend(labels.iter().map(String::as_str));
        script.push(format!("echo \"{SEP}volumes\"; {}", d(&args)));
        script.push(format!(
            "echo \"{SEP}anonymous\"; {}",
            d(&[
                "volume",
                "ls",
                "-q",
                "--filter",
                "dangling=true",
                "--filter",
                "label=com.docker.volume.anonymous"
            ])
        ));
    }
    if p.builder_cache {
        script.push(format!(
            "echo \"{SEP}cache\"; {}",
            d(&[
                "system",
                "df",
                "--format",
                "{{.Type}}\t{{.Size}}\t{{.Reclaimable}}"
            ])
        ));
    }
    let out = ctx.conn.run(script.join("\n")).await?;
    let text = out.stdout_str();
    let sections = split_sections(&text);
    let get = |name: &str| {
        sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.as_str())
    };
    let now: i64 = get("now").and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let api = get("api").unwrap_or("").trim().to_string();

    let mut result = ModuleResult::ok();
    let mut changed = false;
    if p.containers {
        let cutoff = until_cutoff(&p.containers_filters, now)?;
        let ids = created_before(get("containers").unwrap_or(""), cutoff, |w| {
            w.first().map(|id| id.to_string())
        });
        changed |= !ids.is_empty();
        result = result
            .with("containers", ids)
            .with("containers_space_reclaimed", 0);
    }
    if p.images {
        let cutoff = until_cutoff(&p.images_filters, now)?;
        let used: Vec<&str> = get("used").unwrap_or("").lines().map(str::trim).collect();
        let ids = created_before(get("images").unwrap_or(""), cutoff, |w| {
            w.first()
                .filter(|id| !used.contains(id))
                .map(|id| id.to_string())
        });
        changed |= !ids.is_empty();
        let images: Vec<Value> = ids
            .iter()
            .map(|id| serde_json::json!({"Deleted": id}))
            .collect();
        result = result
            .with("images", images)
            .with("images_space_reclaimed", 0);
    }
    if p.networks {
        let cutoff = until_cutoff(&p.networks_filters, now)?;
        let names = created_before(get("networks").unwrap_or(""), cutoff, |w| {
            (w.last() == Some(&"0")).then(|| w[0].to_string())
        });
        changed |= !names.is_empty();
        result = result.with("networks", names);
    }
    if p.volumes {
        let all = p.volumes_filters.iter().flatten().any(|(k, v)| {
            k == "all" && matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes")
        });
        let anonymous_only = !all && api_at_least(&api, 1, 42);
        let list = if anonymous_only {
            "anonymous"
        } else {
            "volumes"
        };
        let names: Vec<String> = get(list)
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        changed |= !names.is_empty();
        result = result
            .with("volumes", names)
            .with("volumes_space_reclaimed", 0);
    }
    if p.builder_cache {
        let reclaimable = get("cache")
            .unwrap_or("")
            .lines()
            .find(|l| l.starts_with("Build Cache"))
            .and_then(|l| l.split('\t').nth(2))
            .map(|r| cli_size(r.split_whitespace().next().unwrap_or("0B")))
            .unwrap_or(0);
        let would = reclaimable > keep_storage.unwrap_or(0);
        changed |= would;
        result = result
            .with("builder_cache_space_reclaimed", 0)
            .with("builder_cache_caches_deleted", Vec::<String>::new());
    }
    result.changed = changed;
    Ok(result)
}

/// `echo SEP<name>; <list> | while read id; do <inspect id>; done`.
fn section(name: &str, list: &str, format: &str, cli: &DockerCli) -> String {
    let inspect = cli.command_line(&["inspect", "-f", format]);
    format!("echo \"{SEP}{name}\"; for id in $({list}); do {inspect} \"$id\"; done")
}

/// `--filter label=…` arguments from a filter list (other keys are handled here, not by `ls`).
fn label_args(filters: &Option<Vec<(String, String)>>) -> Vec<String> {
    filters
        .iter()
        .flatten()
        .filter(|(k, _)| k == "label" || k == "label!")
        .flat_map(|(k, v)| ["--filter".to_string(), format!("{k}={v}")])
        .collect()
}

fn all_images(p: &PruneParams) -> bool {
    p.images_filters.iter().flatten().any(|(k, v)| {
        k == "dangling" && matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "no")
    })
}

fn split_sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in text.split(SEP).skip(1) {
        let (head, body) = part.split_once('\n').unwrap_or((part, ""));
        let (name, rest) = head.split_once(' ').unwrap_or((head, ""));
        let body = if rest.is_empty() {
            body.to_string()
        } else {
            format!("{rest}\n{body}")
        };
        out.push((name.trim().to_string(), body));
    }
    out
}

/// The `until` filter as a Unix time: objects created before it are selected.
fn until_cutoff(
    filters: &Option<Vec<(String, String)>>,
    now: i64,
) -> Result<Option<i64>, DockerError> {
    let Some((_, v)) = filters.iter().flatten().find(|(k, _)| k == "until") else {
        return Ok(None);
    };
    if let Ok(ts) = v.trim().parse::<i64>() {
        return Ok(Some(ts));
    }
    go_duration(v.trim())
        .map(|secs| Some(now - secs))
        .ok_or_else(|| {
            DockerError::failed(format!(
                "check mode cannot predict the until filter '{v}': give a duration (24h, 90m) or a \
                 Unix timestamp, or run without --check"
            ))
        })
}

/// A Go duration of hours, minutes and seconds (`1h30m`, `90s`) in seconds.
fn go_duration(text: &str) -> Option<i64> {
    let mut total = 0i64;
    let mut num = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().ok()?;
        num.clear();
        total += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
    }
    num.is_empty().then_some(total)
}

/// Lines `<id…> <created RFC 3339> [more]` whose creation is before `cutoff` (all without one),
/// mapped by `pick` over the line's words (the creation time left out).
fn created_before<F>(lines: &str, cutoff: Option<i64>, pick: F) -> Vec<String>
where
    F: Fn(&[&str]) -> Option<String>,
{
    lines
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let created = words.get(1)?;
            if let Some(cut) = cutoff {
                if rfc3339_seconds(created)? >= cut {
                    return None;
                }
            }
            let rest: Vec<&str> = words
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 1)
                .map(|(_, w)| *w)
                .collect();
            pick(&rest)
        })
        .collect()
}

/// Seconds since the epoch of an RFC 3339 UTC time (`2026-12-06T03:20:00.123Z`).
fn rfc3339_seconds(text: &str) -> Option<i64> {
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.trim_end_matches('Z');
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let s: f64 = t.next()?.parse().ok()?;
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + min * 60 + s as i64)
}

fn api_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times_are_read() {
        assert_eq!(go_duration("1h30m"), Some(5400));
        assert_eq!(go_duration("90s"), Some(90));
        assert_eq!(go_duration("10d"), None);
        assert_eq!(rfc3339_seconds("1970-01-02T00:00:01Z"), Some(86_401));
        assert_eq!(
            rfc3339_seconds("2026-12-06T03:20:00.5Z"),
            Some(1_796_527_200)
        );
    }

    #[test]
    fn selection_respects_until_and_pick() {
        let lines =
            "a 2026-12-06T03:00:00Z 0\nb 2026-12-06T04:00:00Z 0\nc 2026-12-06T02:00:00Z 2\n";
        let cut = rfc3339_seconds("2026-12-06T03:30:00Z");
        let picked = created_before(lines, cut, |w| {
            (w.last() == Some(&"0")).then(|| w[0].to_string())
        });
        assert_eq!(picked, vec!["a".to_string()]);
        assert_eq!(
            created_before(lines, None, |w| Some(w[0].to_string())).len(),
            3
        );
    }
}
