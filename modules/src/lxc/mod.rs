//! LXC modules (community.general's `lxc_container`).
//!
//! # How drover drives LXC: the `lxc-*` tools on the LXC host
//! community.general's module needs Python and the `lxc` bindings on the host. drover runs
//! LXC's own command-line tools instead (`lxc-info`, `lxc-create`, `lxc-copy`, `lxc-start`,
//! `lxc-stop`, `lxc-freeze`, `lxc-unfreeze`, `lxc-attach`, `lxc-destroy`) through the task's
//! connection: `connection: local` on the LXC host, or SSH to it, `become` applying as for any
//! command. One round trip reads the container (state, init PID, addresses, interfaces, config
//! file, clone target, template); each action is one more.
//!
//! # Rootfs from a tarball: the `local` template
//! LXC's `local` template takes `--fstree ROOTFS.tar.xz --metadata META.tar.xz`, both
//! xz-compressed. The metadata tarball holds a `config` file with the distribution's LXC
//! settings (and optionally `excludes`, `templates`); for a Debian rootfs:
//!
//! ```sh
//! printf 'lxc.include = /usr/share/lxc/config/debian.common.conf\nlxc.arch = linux64\n' > config
//! tar -cJf meta.tar.xz config
//! xz -k rootfs.tar            # rootfs.tar.xz
//! ```
//!
//! drover also accepts a plain rootfs tarball (any compression GNU tar reads, `.tar` included):
//! `template: local` with `template_options: --fstree ROOTFS.tar` and no `--metadata` creates
//! the container with `lxc-create -t none` (plus `config`), unpacks the tarball into its
//! `rootfs` directory and sets `lxc.rootfs.path`. Distribution settings then come from
//! `config` or `container_config` (`lxc.include = /usr/share/lxc/config/debian.common.conf`).
//!
//! # Differences from community.general
//! - check mode is supported and predicts the apply; `--diff` shows the config file;
//! - an edited `container_config` key replaces its line (community.general appends a
//!   duplicate), see [`config`];
//! - `clone_snapshot` with `backing_store: dir` works (community.general passes `-B dir -s`,
//!   which `lxc-copy` refuses);
//! - a missing clone source without `template`, an unknown template, a `container_config`
//!   line without `=` and a failing `container_command` fail the task with a clear message;
//! - `lxc_path` applies to every action (community.general only lists and creates there).

pub mod config;
pub mod container;
pub mod params;
pub mod plan;
pub mod query;
pub mod steps;

use std::sync::Arc;

use drover_core::module::ModuleRegistry;

/// Registers the LXC modules under their short names and `community.general.<name>`.
pub fn register(r: &mut ModuleRegistry) {
    let modules: Vec<Arc<dyn drover_core::module::Module>> =
        vec![Arc::new(container::LxcContainer)];
    for module in modules {
        let name = module.name().to_string();
        r.register(module);
        r.alias(&format!("community.general.{name}"), &name);
    }
}
