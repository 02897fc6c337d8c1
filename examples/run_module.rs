//! Runs modules directly against one host, without a playbook: `copy` by name with JSON
//! arguments, then `stat` from its typed params struct.
//!
//! ```sh
//! cargo run -p drover-examples --example run_module -- INVENTORY HOST [PATH]
//! ```
//! (or set `DROVER_INVENTORY`, `DROVER_HOST`, `DROVER_PATH`). PATH defaults to
//! `/tmp/drover-example.txt`.

use std::process::ExitCode;

use drover_core::config::AnsibleConfig;
use drover_core::session::Session;
use drover_examples::{arg_or_env, fail};
use drover_modules::files::stat::{Stat, StatParams};
use serde_json::json;

#[tokio::main]
async fn main() -> ExitCode {
    let (inventory, host) = match (
        arg_or_env(1, "DROVER_INVENTORY", "the inventory"),
        arg_or_env(2, "DROVER_HOST", "the host"),
    ) {
        (Ok(i), Ok(h)) => (i, h),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let path = arg_or_env(3, "DROVER_PATH", "the path").unwrap_or("/tmp/drover-example.txt".into());

    let session = Session::builder()
        .config(AnsibleConfig::load())
        .registry(drover_modules::registry())
        .inventory([inventory])
        .build();

    // Connect once and run two modules over the same connection.
    let target = match session.host(&host).await {
        Ok(t) => t,
        Err(e) => return fail(e),
    };

    // By name, with the arguments a playbook task would have (templates are rendered with the
    // host's variables).
    let copied = target
        .run(
            "copy",
            json!({"dest": path, "content": "written by {{ inventory_hostname }}\n", "mode": "0640"}),
        )
        .await;
    let copied = match copied {
        Ok(r) if !r.failed => r,
        Ok(r) => return fail(format!("copy failed: {}", r.msg.unwrap_or_default())),
        Err(e) => return fail(e),
    };
    println!("copy: changed={}", copied.changed);

    // Typed: the module's params struct, checked by the compiler.
    let params = StatParams {
        path: path.clone(),
        follow: false,
        get_checksum: true,
        checksum_algorithm: Default::default(),
        get_mime: false,
        get_attributes: false,
    };
    let stat = match target.run_typed(&Stat, params).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    target.close().await;
    let st = &stat.data["stat"];
    println!(
        "stat: exists={} mode={} size={} checksum={}",
        st["exists"], st["mode"], st["size"], st["checksum"]
    );
    ExitCode::SUCCESS
}
