//! Settings of the `lxc` transport from a host's connection variables (community.general's `lxc`
//! connection plugin's variables, plus drover's `ansible_lxc_path`, `ansible_lxc_name` and the
//! LXC host reached through another inventory host: `ansible_lxc_host`,
//! `ansible_lxc_host_become`).
//!
//! `ansible_lxc_host` has two meanings. When it names another host of the inventory, that host
//! is the LXC host: the LXC tools run there through its connection (usually SSH; one
//! connection serves all its containers). `localhost` outside the inventory is the controller.
//! Otherwise it is the container's name, as in community.general (where it is one of the
//! variables of `remote_addr`).

use std::time::Duration;

use super::connect::var_str;
use super::options::RunOptions;
use crate::connection::lxc::LxcOptions;
use crate::connection::ConnectionError;
use crate::vars::Vars;

/// The variable naming the inventory host whose connection runs the LXC tools for a container
/// (the LXC host, usually reached over SSH); unset = the LXC tools run on the controller.
pub const LXC_HOST_VAR: &str = "ansible_lxc_host";

/// When true, the LXC tools run with `sudo` on the `ansible_lxc_host` host.
pub const LXC_HOST_BECOME_VAR: &str = "ansible_lxc_host_become";

/// Names of the controller as an `ansible_lxc_host` outside the inventory.
const LOCALHOST_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// True for the names of the lxc transport.
pub fn is_lxc_transport(name: &str) -> bool {
    matches!(name, "lxc" | "community.general.lxc")
}

/// The `ansible_lxc_host` value of `vars`, if any (an inventory host or a container name).
pub fn lxc_host(vars: &Vars) -> Option<String> {
    var_str(vars, &[LXC_HOST_VAR]).filter(|s| !s.trim().is_empty())
}

/// LXC connection settings for `host` from its rendered connection variables. `lxc_host` is the
/// inventory host the LXC tools run on, when `ansible_lxc_host` names one. The container is
/// `ansible_lxc_name`, else `ansible_lxc_host` when it names no inventory host (as in
/// community.general), else `ansible_host`, else the inventory name.
pub fn lxc_options(
    host: &str,
    vars: &Vars,
    opts: &RunOptions,
    lxc_host_name: Option<&str>,
) -> Result<LxcOptions, ConnectionError> {
    let bad = |reason: String| ConnectionError::Connect {
        host: host.to_string(),
        reason,
    };
    let named = var_str(vars, &["ansible_lxc_name"]);
    let from_lxc_host = match (&named, lxc_host_name) {
        (None, None) => {
            // `localhost` is the controller (the implicit localhost), not a container.
            lxc_host(vars).filter(|h| !LOCALHOST_NAMES.contains(&h.as_str()))
        }
        _ => None,
    };
    let container = named
        .or_else(|| from_lxc_host.clone())
        .or_else(|| var_str(vars, &["ansible_host"]))
        .unwrap_or_else(|| host.to_string());
    let mut o = LxcOptions::new(host, container);
    o.name_note = from_lxc_host.map(|name| {
        format!(
            "; {LXC_HOST_VAR} '{name}' names no inventory host, so it was taken as the \
             container's name (community.general's meaning); to name the LXC host, add it to the inventory"
        )
    });
    o.lxc_path = var_str(vars, &["ansible_lxc_path"]).filter(|p| !p.trim().is_empty());
    if let Some(exe) = var_str(vars, &["ansible_lxc_executable", "ansible_executable"]) {
        o.executable = exe;
    }
    o.timeout = match var_str(vars, &["ansible_lxc_timeout", "ansible_timeout"]) {
        Some(t) => Duration::from_secs(t.trim().parse().map_err(|_| {
            bad(format!(
                "ansible_lxc_timeout must be a number of seconds, not '{t}'"
            ))
        })?),
        None => opts.connect_timeout,
    };
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: serde_json::Value) -> Vars {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn container_name_precedence() {
        let opts = RunOptions::default();
        let o = lxc_options("web", &Vars::default(), &opts, None).unwrap();
        assert_eq!((o.container.as_str(), o.lxc_path), ("web", None));
        assert_eq!(o.executable, "/bin/sh");
        // ansible_lxc_host naming no inventory host is the container (community.general).
        let v = vars(json!({"ansible_host": "a", "ansible_lxc_host": "b",
                            "ansible_lxc_path": "/srv/lxc", "ansible_lxc_executable": "/bin/bash",
                            "ansible_lxc_timeout": "4"}));
        let o = lxc_options("web", &v, &opts, None).unwrap();
        assert_eq!(o.container, "b");
        let note = o.name_note.clone().unwrap_or_default();
        assert!(note.contains("'b' names no inventory host"), "{note}");
        assert_eq!(o.lxc_path.as_deref(), Some("/srv/lxc"));
        assert_eq!(o.executable, "/bin/bash");
        assert_eq!(o.timeout, Duration::from_secs(4));
        // ... and the LXC host when it names one.
        let o = lxc_options("web", &v, &opts, Some("b")).unwrap();
        assert_eq!(o.container, "a");
        assert_eq!(o.name_note, None);
        // The implicit localhost is the controller.
        let v = vars(json!({"ansible_lxc_host": "localhost"}));
        assert_eq!(
            lxc_options("web", &v, &opts, None).unwrap().container,
            "web"
        );
        let v = vars(json!({"ansible_host": "10.0.0.5", "ansible_lxc_name": "web-c"}));
        assert_eq!(
            lxc_options("web", &v, &opts, None).unwrap().container,
            "web-c"
        );
    }

    #[test]
    fn bad_timeout_is_refused() {
        let v = vars(json!({"ansible_lxc_timeout": "soon"}));
        let err = lxc_options("web", &v, &RunOptions::default(), None).unwrap_err();
        assert!(err.to_string().contains("ansible_lxc_timeout"), "{err}");
    }
}
