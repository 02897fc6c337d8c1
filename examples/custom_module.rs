//! A module defined here, outside drover, registered next to drover's own and used from a
//! playbook (`playbooks/greet.yml`): `greeting` writes `Hello, NAME!` into a file on the host,
//! reporting `changed` only when the file's content differs, and honours check mode.
//!
//! ```sh
//! cargo run -p drover-examples --example custom_module -- INVENTORY [PLAYBOOK]
//! ```
//! (or set `DROVER_INVENTORY`, `DROVER_PLAYBOOK`). PLAYBOOK defaults to
//! `examples/playbooks/greet.yml`.

use std::process::ExitCode;
use std::sync::Arc;

use async_trait::async_trait;
use drover_core::config::AnsibleConfig;
use drover_core::connection::quote_path;
use drover_core::module::{Diff, ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use drover_core::session::Session;
use drover_examples::{arg_or_env, fail};
use serde::Deserialize;

/// Parameters of `greeting`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
struct GreetingParams {
    /// Who to greet.
    name: String,
    /// The file to write on the host.
    path: String,
}

/// The `greeting` module. Its arguments are checked from `GreetingParams` before any host is
/// touched (unknown keys with a did-you-mean hint, missing `name`/`path`), with file:line:column.
struct Greeting;

#[async_trait]
impl TypedModule for Greeting {
    const NAME: &'static str = "greeting";
    type Params = GreetingParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: GreetingParams,
    ) -> Result<ModuleResult, ModuleError> {
        let wanted = format!("Hello, {}!\n", p.name);
        let current = ctx
            .conn
            .run(format!("cat {} 2>/dev/null", quote_path(&p.path)))
            .await?;
        let before = if current.success() {
            current.stdout_str()
        } else {
            String::new()
        };
        if before == wanted {
            return Ok(ModuleResult::ok().with("path", p.path));
        }
        if !ctx.check_mode {
            ctx.conn
                .write_file_atomic(wanted.as_bytes(), &p.path)
                .await?;
        }
        let mut result = ModuleResult::changed(true)
            .with("path", p.path.clone())
            .with_msg(format!("greeted {}", p.name));
        if ctx.diff {
            result = result.with_diff(Diff {
                before_header: Some(p.path.clone()),
                after_header: Some(p.path),
                before,
                after: wanted,
            });
        }
        Ok(result)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let inventory = match arg_or_env(1, "DROVER_INVENTORY", "the inventory") {
        Ok(i) => i,
        Err(e) => return fail(e),
    };
    let playbook = arg_or_env(2, "DROVER_PLAYBOOK", "the playbook").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/playbooks/greet.yml").to_string()
    });

    // drover's modules plus ours: `greeting` (and `ansible.builtin.greeting`) in playbooks.
    let mut registry = drover_modules::registry();
    registry.register(Arc::new(Greeting));

    let session = Session::builder()
        .config(AnsibleConfig::load())
        .registry(registry)
        .inventory([inventory])
        .collect_results(true)
        .build();
    let result = match session.run_playbook(&playbook).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    for t in result
        .tasks
        .iter()
        .filter(|t| t.module.as_deref() == Some("greeting"))
    {
        println!(
            "{} {}: {:?} {}",
            t.result.host,
            t.task,
            t.result.status,
            t.result.result["msg"].as_str().unwrap_or("")
        );
    }
    ExitCode::from(result.exit_code as u8)
}
