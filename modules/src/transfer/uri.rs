//! `uri`: makes an HTTP request ON the target with `curl` and returns Ansible's result keys
//! (`status`, lower-cased headers, `content`, `json`, `redirected`, …); with `dest` the body is
//! written to a file on the target.

use std::collections::BTreeMap;

use async_trait::async_trait;
use drover_core::connection::{shell_quote, ExecRequest};
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ArgError, ModuleParams};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::get_url::{file_name_for, parse_header_arg, parse_timeout};
use super::http::{client_error, parse_headers, parse_outcome, HttpRequest, NO_CLIENT};
pub use super::uri_body::{encode_body, parse_status_codes, python_json_dumps};
use super::{bad_args, marker};
use crate::files::write::{converge_file, probe_requests, Data, FileWrite};
use crate::params::{de_bool, de_opt_string, de_string};
use crate::remote::checksum::sha1_hex;
use crate::remote::file_attrs::FileAttrs;
use crate::remote::probe::{probe, ProbeRequest};
use crate::remote::{join_path, quote_path};

/// Parameters of `uri`.
#[derive(Debug, Deserialize, ModuleParams)]
pub struct UriParams {
    /// The URL.
    #[serde(deserialize_with = "de_string")]
    pub url: String,
    /// HTTP method (default GET).
    #[serde(default = "get", deserialize_with = "de_string")]
    pub method: String,
    /// Request body (serialized per `body_format`).
    #[serde(default)]
    pub body: Option<Value>,
    /// `raw` (default), `json` or `form-urlencoded`.
    #[serde(default = "raw", deserialize_with = "de_string")]
    #[param(
        choices("form-urlencoded", "json", "raw", "form-multipart"),
        default = "raw"
    )]
    pub body_format: String,
    /// A file on the target whose contents are the body (`remote_src`) — only target files are
    /// supported.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub src: Option<String>,
    /// `src` is on the target.
    #[serde(default, deserialize_with = "de_bool")]
    pub remote_src: bool,
    /// Request headers.
    #[serde(default)]
    #[param(kind = "dict")]
    pub headers: Option<Value>,
    /// Accepted status codes (default 200).
    #[serde(default)]
    #[param(kind = "list", default = "[200]")]
    pub status_code: Option<Value>,
    /// Return the body as `content`.
    #[serde(default, deserialize_with = "de_bool")]
    pub return_content: bool,
    /// Write the body to this file (or into this directory) on the target.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub dest: Option<String>,
    /// Seconds (default 30).
    #[serde(default = "thirty")]
    #[param(kind = "int", default = "30")]
    pub timeout: Value,
    /// `safe` (default: GET/HEAD only), `all`/`yes`, `none`/`no`, `urllib2`.
    #[serde(default = "safe")]
    #[param(
        kind = "str",
        choices("all", "no", "none", "safe", "urllib2", "yes"),
        default = "safe"
    )]
    pub follow_redirects: Value,
    /// Verify TLS certificates (default yes).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub validate_certs: bool,
    /// Basic-auth user.
    #[serde(default, alias = "user", deserialize_with = "de_opt_string")]
    pub url_username: Option<String>,
    /// Basic-auth password.
    #[serde(default, alias = "password", deserialize_with = "de_opt_string")]
    #[param(no_log)]
    pub url_password: Option<String>,
    /// Accepted: credentials are always sent with the first request.
    #[serde(default, deserialize_with = "de_bool")]
    pub force_basic_auth: bool,
    /// Skip the request when this path exists on the target.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub creates: Option<String>,
    /// Skip the request unless this path exists on the target.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub removes: Option<String>,
    /// `User-Agent` header.
    #[serde(default = "agent", deserialize_with = "de_string")]
    pub http_agent: String,
    /// Accepted for compatibility (proxies follow the target's environment).
    #[serde(default = "yes", deserialize_with = "de_bool")]
    pub use_proxy: bool,
    /// The common file attributes of `dest`.
    #[serde(flatten)]
    pub attrs: FileAttrs,
}

fn get() -> String {
    "GET".into()
}
fn raw() -> String {
    "raw".into()
}
fn thirty() -> Value {
    Value::from(30)
}
fn safe() -> Value {
    Value::from("safe")
}
fn yes() -> bool {
    true
}
fn agent() -> String {
    "ansible-httpget".into()
}

/// The `uri` module.
pub struct Uri;

fn follows(v: &Value, method: &str) -> bool {
    let s = match v {
        Value::Bool(b) => return *b,
        Value::String(s) => s.to_ascii_lowercase(),
        _ => "safe".into(),
    };
    match s.as_str() {
        "all" | "yes" | "true" | "urllib2" => true,
        "none" | "no" | "false" => false,
        _ => matches!(method, "GET" | "HEAD"),
    }
}

#[async_trait]
impl TypedModule for Uri {
    const NAME: &'static str = "uri";
    type Params = UriParams;

    fn check_more(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        if args.contains_key("body") && args.contains_key("src") {
            return Err(ArgError::invalid(
                Self::NAME,
                Some("src"),
                "body and src are mutually exclusive",
            ));
        }
        Ok(())
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: UriParams,
    ) -> Result<ModuleResult, ModuleError> {
        let bad = |m: String| bad_args("uri", m);
        if p.dest.is_some() {
            if let Some(failed) = p.attrs.selinux_failure(ctx).await? {
                return Ok(failed);
            }
        }
        let method = p.method.to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
            return Ok(ModuleResult::failed(
                "Parameter 'method' needs to be a single word in uppercase, like GET or POST.",
            ));
        }
        let status_codes = parse_status_codes(&p.status_code).map_err(bad)?;
        let mut req = HttpRequest::get(&p.url);
        req.allow_wget = false;
        req.method = Some(method.clone()).filter(|m| m != "GET");
        req.headers = parse_header_arg(&p.headers).map_err(bad)?;
        req.timeout = parse_timeout(&p.timeout).map_err(bad)?;
        req.follow_redirects = follows(&p.follow_redirects, &method);
        req.validate_certs = p.validate_certs;
        req.user_agent = Some(p.http_agent.clone());
        if let Some(user) = &p.url_username {
            req.credentials = Some((user.clone(), p.url_password.clone().unwrap_or_default()));
        }
        let mut stdin = None;
        if let Some(body) = &p.body {
            let (bytes, ctype) =
                encode_body(body, &p.body_format.to_ascii_lowercase()).map_err(bad)?;
            if let Some(ct) = ctype {
                if !req
                    .headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("content-type"))
                {
                    req.headers.insert("Content-Type".into(), ct.into());
                }
            }
            req.body_from_stdin = true;
            stdin = Some(bytes);
        }
        let mut prelude = String::new();
        if let Some(c) = &p.creates {
            prelude.push_str(&format!(
                "[ -e {} ] && {{ echo '@skip-creates'; exit 0; }}\n",
                quote_path(c)
            ));
        }
        if let Some(r) = &p.removes {
            prelude.push_str(&format!(
                "[ -e {} ] || {{ echo '@skip-removes'; exit 0; }}\n",
                quote_path(r)
            ));
        }
        if let Some(src) = &p.src {
            if !p.remote_src {
                return Err(bad("src is only supported with remote_src: yes (use body: \"{{ lookup('file', ...) }}\" for controller files)".into()));
            }
            req.body_from_stdin = true;
            prelude.push_str(&format!("exec < {}\n", quote_path(src)));
        }
        if ctx.check_mode {
            return Ok(ModuleResult::ok()
                .with("skipped", true)
                .with_msg("uri does not support check mode; the request was not made"));
        }
        let started = std::time::Instant::now();
        let keep = if p.dest.is_some() {
            ""
        } else {
            "rm -f \"$t\"\n"
        };
        let script = format!(
            "{prelude}{}echo '@headers'; cat \"$h\" 2>/dev/null; echo '@endheaders'; rm -f \"$h\"\n\
             if [ -f \"$t\" ]; then echo \"@body $(wc -c < \"$t\")\"; cat \"$t\"; fi\n{keep}exit 0\n",
            req.script("\"${TMPDIR:-/tmp}\"")
        );
        let mut exec = ExecRequest::new(script);
        exec.stdin = stdin;
        let out = ctx.conn.exec(exec).await?;
        let elapsed = started.elapsed().as_secs();
        let (head, body) = split_body(&out.stdout);
        let head = String::from_utf8_lossy(head).into_owned();
        if let Some(which) = ["creates", "removes"]
            .iter()
            .find(|w| marker(&head, &format!("skip-{w}")).is_some())
        {
            let path = if *which == "creates" {
                p.creates.clone()
            } else {
                p.removes.clone()
            }
            .unwrap_or_default();
            let msg = if *which == "creates" {
                format!("skipped, since '{path}' exists")
            } else {
                format!("skipped, since '{path}' does not exist")
            };
            return Ok(ModuleResult::ok().with("stdout", msg));
        }
        if marker(&head, NO_CLIENT).is_some() {
            return Ok(ModuleResult::failed(
                "uri needs curl on the target and it is not installed (install the curl package)",
            )
            .with("url", p.url.as_str()));
        }
        let Some(outcome) = parse_outcome(&head, &p.url) else {
            return Ok(ModuleResult::failed(format!(
                "request failed (rc {}): {}",
                out.rc,
                out.stderr_str().trim()
            ))
            .with("url", p.url.as_str()));
        };
        let header_text = head
            .split("@headers\n")
            .nth(1)
            .and_then(|r| r.split("@endheaders").next())
            .unwrap_or("");
        let headers = parse_headers(header_text);
        let mut r = ModuleResult::ok();
        if outcome.rc != 0 {
            if p.dest.is_some() {
                ctx.conn
                    .run(format!("rm -f {}", shell_quote(&outcome.tmp)))
                    .await?;
            }
            return Ok(ModuleResult::failed(format!(
                "Status code was -1 and not {status_codes:?}: Request failed: {} ({})",
                client_error(outcome.rc),
                out.stderr_str().trim()
            ))
            .with("status", -1)
            .with("url", p.url.as_str())
            .with("elapsed", elapsed));
        }
        for (k, v) in &headers {
            r.data.insert(k.clone(), Value::from(v.as_str()));
        }
        if let Some(loc) = headers.get("location") {
            r.data
                .insert("location".into(), Value::from(join_url(&p.url, loc)));
        }
        r = r
            .with("url", outcome.url.as_str())
            .with("redirected", outcome.url != p.url)
            .with("status", outcome.status)
            .with("elapsed", elapsed)
            .with("cookies", Value::Object(Map::new()))
            .with("cookies_string", "")
            .with_msg(format!("OK ({} bytes)", body.len()));
        let content_type = headers.get("content_type").cloned().unwrap_or_default();
        let sub = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .split('/')
            .nth(1)
            .unwrap_or("")
            .to_ascii_lowercase();
        let sub = sub.rsplit('+').next().unwrap_or("");
        let maybe_json = matches!(sub, "json" | "javascript" | "x-json" | "x-javascript");
        let text = String::from_utf8_lossy(body).into_owned();
        if maybe_json {
            if let Ok(js) = serde_json::from_str::<Value>(&text) {
                r.data.insert("json".into(), js);
            }
        }
        let ok_status = status_codes.contains(&outcome.status);
        if let (Some(dest), true) = (&p.dest, ok_status && outcome.status != 304) {
            let written =
                write_dest(ctx, &p, dest, &outcome.tmp, &outcome.url, &headers, body).await;
            ctx.conn
                .run(format!("rm -f {}", shell_quote(&outcome.tmp)))
                .await?;
            let (path, w) = written?;
            if w.failed {
                return Ok(w);
            }
            r.changed = w.changed;
            r.data.insert("path".into(), Value::from(path));
        } else if p.dest.is_some() {
            ctx.conn
                .run(format!("rm -f {}", shell_quote(&outcome.tmp)))
                .await?;
        }
        if !ok_status {
            r.failed = true;
            r.msg = Some(format!(
                "Status code was {} and not {status_codes:?}: HTTP Error {}",
                outcome.status, outcome.status
            ));
            if p.return_content {
                r.data.insert("content".into(), Value::from(text));
            }
            return Ok(r);
        }
        if p.return_content {
            r.data.insert("content".into(), Value::from(text));
        }
        Ok(r)
    }
}

async fn write_dest(
    ctx: &ModuleContext<'_>,
    p: &UriParams,
    dest: &str,
    tmp: &str,
    url: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
) -> Result<(String, ModuleResult), ModuleError> {
    let is_dir = probe(
        ctx.conn,
        &[ProbeRequest {
            follow: true,
            ..ProbeRequest::new(dest)
        }],
    )
    .await?[0]
        .is_dir();
    let path = if is_dir {
        join_path(
            dest,
            &file_name_for(url, headers.get("content_disposition").map(String::as_str)),
        )
    } else {
        dest.to_string()
    };
    let stats = probe(ctx.conn, &probe_requests(&path, false)).await?;
    let w = FileWrite {
        module: "uri",
        dest: path.clone(),
        data: Data::Remote {
            path: tmp.to_string(),
            size: body.len() as u64,
            content: None,
        },
        checksum: sha1_hex(body),
        attrs: p.attrs.request(),
        backup: false,
        force: true,
        validate: None,
        follow: false,
        create_parent: false,
        diff_header: url.to_string(),
        attributes: p.attrs.chattr(),
    };
    let quiet = ModuleContext {
        host: ctx.host,
        conn: ctx.conn,
        check_mode: false,
        diff: false,
        controller: ctx.controller,
    };
    Ok((path, converge_file(&quiet, &w, &stats).await?))
}

/// Resolves a `Location` header against the request URL.
fn join_url(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let host = rest.split('/').next().unwrap_or(rest);
    if location.starts_with('/') {
        format!("{scheme}://{host}{location}")
    } else {
        let dir = base.rsplit_once('/').map_or(base, |(d, _)| d);
        format!("{dir}/{location}")
    }
}

/// Splits the script output at the `@body <n>` line.
fn split_body(out: &[u8]) -> (&[u8], &[u8]) {
    let needle = b"\n@body ";
    let Some(pos) = out.windows(needle.len()).position(|w| w == needle) else {
        return (out, &[]);
    };
    let after = pos + needle.len();
    let Some(nl) = out[after..].iter().position(|b| *b == b'\n') else {
        return (out, &[]);
    };
    let n: usize = String::from_utf8_lossy(&out[after..after + nl])
        .trim()
        .parse()
        .unwrap_or(0);
    let start = after + nl + 1;
    let end = (start + n).min(out.len());
    (&out[..pos + 1], &out[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_split_and_urls() {
        let out = b"@tmp /t\n@rc 0\n@body 4\nab\ncd";
        let (head, body) = split_body(out);
        assert_eq!(body, b"ab\nc");
        assert!(String::from_utf8_lossy(head).contains("@rc 0"));
        assert_eq!(join_url("http://h:1/a/b", "/x"), "http://h:1/x");
        assert!(follows(&Value::from("safe"), "GET"));
        assert!(!follows(&Value::from("safe"), "POST"));
    }
}
