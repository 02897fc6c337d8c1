//! Reading a container's state on the LXC host in one shell round trip: whether it exists,
//! `lxc-info`'s state, init PID and addresses, its network interfaces (from its init's
//! `/proc/PID/net/dev`, i.e. its network namespace), its config file, whether the clone target
//! exists and whether the template to create it with is installed.

use drover_core::connection::shell_quote;
use serde_json::{json, Value};

/// Where the template scripts live (`lxc-create -t NAME` runs `DIR/lxc-NAME`).
pub const TEMPLATE_DIRS: &[&str] = &["/usr/share/lxc/templates", "/usr/local/share/lxc/templates"];

/// What the query asks besides the container itself.
#[derive(Debug, Default, Clone)]
pub struct QueryExtras {
    /// The `clone_name` whose existence matters.
    pub clone_name: Option<String>,
    /// The template to look for, when the container may have to be created.
    pub template: Option<String>,
    /// A local rootfs tarball that must be readable.
    pub fstree: Option<String>,
}

/// A container as the host reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    /// The LXC path (given, or LXC's default).
    pub lxcpath: String,
    /// Whether `LXCPATH/NAME/config` exists (what `lxc-ls` lists).
    pub exists: bool,
    /// `running`, `stopped`, `frozen`, … (lower case), or `absent`.
    pub state: String,
    /// The init process's PID, -1 when not running.
    pub init_pid: i64,
    /// The container's global addresses (`lxc-info -i`).
    pub ips: Vec<String>,
    /// Its network interfaces, sorted.
    pub interfaces: Vec<String>,
    /// The config file's text.
    pub config: String,
    /// Whether the clone target exists.
    pub clone_exists: bool,
    /// Whether the template was found (when asked).
    pub template_found: Option<bool>,
    /// The installed templates (when the template was not found).
    pub templates: Vec<String>,
    /// Whether the rootfs tarball is readable (when asked).
    pub fstree_readable: Option<bool>,
    /// Whether the `lxc-*` tools are installed.
    pub lxc_installed: bool,
    /// What `lxc-info` said when it could not read the container (a config LXC rejects).
    pub info_errors: Vec<String>,
}

impl Status {
    /// The result's `lxc_container` value (community.general's keys).
    pub fn data(&self, name: &str) -> Value {
        json!({
            "name": name,
            "state": if self.exists { self.state.as_str() } else { "absent" },
            "init_pid": if self.exists { self.init_pid } else { -1 },
            "interfaces": self.interfaces,
            "ips": self.ips,
        })
    }

    /// The config's `lxc.rootfs.path` (last one wins, as in LXC).
    pub fn rootfs_path(&self) -> Option<String> {
        self.config
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("lxc.rootfs.path"))
            .filter_map(|rest| rest.trim_start().strip_prefix('='))
            .map(|v| v.trim().to_string())
            .next_back()
    }
}

/// The shell snippet setting `P` to the LXC path (given or LXC's default).
pub fn lxcpath_snippet(lxc_path: Option<&str>) -> String {
    match lxc_path {
        Some(p) => format!("P={}\n", shell_quote(p.trim_end_matches('/'))),
        None => "P=$(lxc-config lxc.lxcpath 2>/dev/null || echo /var/lib/lxc)\n".to_string(),
    }
}

const CONFIG_MARK: &str = "@@DROVER-LXC-CONFIG@@";
const END_MARK: &str = "@@DROVER-LXC-END@@";

/// The query script for container `name`.
pub fn script(lxc_path: Option<&str>, name: &str, extras: &QueryExtras) -> String {
    let mut s = String::from("command -v lxc-info >/dev/null 2>&1 || { echo nolxc; exit 0; }\n");
    s.push_str(&lxcpath_snippet(lxc_path));
    s.push_str(&format!("N={}\n", shell_quote(name)));
    s.push_str("printf 'lxcpath=%s\\n' \"$P\"\n");
    s.push_str(concat!(
        "if [ -f \"$P/$N/config\" ]; then\n",
        "  echo exists=1\n",
        "  if ! info=$(lxc-info -P \"$P\" -n \"$N\" -s -p -i -l ERROR -o /dev/stderr 2>&1); then ",
        "printf '%s\\n' \"$info\" | sed 's/^/ERR: /'; else printf '%s\\n' \"$info\"; fi\n",
        "  pid=$(lxc-info -P \"$P\" -n \"$N\" -p -H 2>/dev/null)\n",
        "  case \"$pid\" in ''|*[!0-9]*) ;; *) tail -n +3 /proc/$pid/net/dev 2>/dev/null | ",
        "while IFS=: read -r i rest; do echo \"IF: $i\"; done;; esac\n",
    ));
    s.push_str(&format!(
        "  echo {CONFIG_MARK}; cat \"$P/$N/config\"; echo; echo {END_MARK}\nfi\n"
    ));
    if let Some(clone) = &extras.clone_name {
        s.push_str(&format!(
            "[ -f \"$P\"/{}/config ] && echo clone_exists=1\n",
            shell_quote(clone)
        ));
    }
    if let Some(t) = &extras.template {
        if t.contains('/') {
            s.push_str(&format!(
                "[ -x {} ] && echo template=found\n",
                shell_quote(t)
            ));
        } else {
            let dirs = TEMPLATE_DIRS.join(" ");
            s.push_str(&format!(
                concat!(
                    "found=; for d in {dirs}; do [ -x \"$d/lxc-\"{t} ] && found=1; done\n",
                    "if [ -n \"$found\" ]; then echo template=found; else echo template=missing; ",
                    "for d in {dirs}; do for f in \"$d\"/lxc-*; do [ -x \"$f\" ] && ",
                    "echo \"TEMPLATE: ${{f##*/lxc-}}\"; done; done; fi\n"
                ),
                dirs = dirs,
                t = shell_quote(t)
            ));
        }
    }
    if let Some(f) = &extras.fstree {
        s.push_str(&format!(
            "[ -r {} ] && echo fstree=readable\n",
            shell_quote(f)
        ));
    }
    s
}

/// Parses the query script's output.
pub fn parse(out: &str, extras: &QueryExtras) -> Status {
    let mut st = Status {
        state: "absent".into(),
        init_pid: -1,
        lxc_installed: true,
        ..Status::default()
    };
    if extras.template.is_some() {
        st.template_found = Some(false);
    }
    if extras.fstree.is_some() {
        st.fstree_readable = Some(false);
    }
    let mut in_config = false;
    let mut config = Vec::new();
    for line in out.lines() {
        if in_config {
            if line == END_MARK {
                in_config = false;
            } else {
                config.push(line);
            }
            continue;
        }
        match line {
            "nolxc" => st.lxc_installed = false,
            "exists=1" => st.exists = true,
            "clone_exists=1" => st.clone_exists = true,
            "template=found" => st.template_found = Some(true),
            "fstree=readable" => st.fstree_readable = Some(true),
            l if l == CONFIG_MARK => in_config = true,
            _ => {
                if let Some(p) = line.strip_prefix("lxcpath=") {
                    st.lxcpath = p.to_string();
                } else if let Some((label, value)) = line.split_once(':') {
                    let value = value.trim();
                    match label {
                        "State" => st.state = value.to_ascii_lowercase(),
                        "PID" => st.init_pid = value.parse().unwrap_or(-1),
                        "IP" => st.ips.push(value.to_string()),
                        "IF" => st.interfaces.push(value.to_string()),
                        "TEMPLATE" => st.templates.push(value.to_string()),
                        "ERR" => st.info_errors.push(value.to_string()),
                        _ => {}
                    }
                }
            }
        }
    }
    // The script adds one newline after the file (for a file without a final newline).
    if config.last() == Some(&"") {
        config.pop();
    }
    st.config = if config.is_empty() {
        String::new()
    } else {
        let mut c = config.join("\n");
        c.push('\n');
        c
    };
    if !st.exists {
        st.state = "absent".into();
        st.init_pid = -1;
    }
    st.interfaces.sort();
    st.interfaces.dedup();
    st.templates.sort();
    st.templates.dedup();
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_running_container() {
        let out = "lxcpath=/tmp/x\nexists=1\nState:          RUNNING\nPID:            42\nIP:             10.0.3.5\nIF: lo\nIF: eth0\n@@DROVER-LXC-CONFIG@@\nlxc.uts.name = a\nlxc.rootfs.path = dir:/tmp/x/a/rootfs\n\n@@DROVER-LXC-END@@\nclone_exists=1\n";
        let st = parse(out, &QueryExtras::default());
        assert!(st.exists && st.clone_exists);
        assert_eq!(st.state, "running");
        assert_eq!(st.init_pid, 42);
        assert_eq!(st.ips, vec!["10.0.3.5"]);
        assert_eq!(st.interfaces, vec!["eth0", "lo"]);
        assert_eq!(
            st.config,
            "lxc.uts.name = a\nlxc.rootfs.path = dir:/tmp/x/a/rootfs\n"
        );
        assert_eq!(st.rootfs_path().as_deref(), Some("dir:/tmp/x/a/rootfs"));
        assert_eq!(st.lxcpath, "/tmp/x");
    }

    #[test]
    fn parses_a_missing_container_and_template() {
        let extras = QueryExtras {
            template: Some("nosuch".into()),
            ..QueryExtras::default()
        };
        let out = "lxcpath=/var/lib/lxc\ntemplate=missing\nTEMPLATE: debian\nTEMPLATE: busybox\n";
        let st = parse(out, &extras);
        assert!(!st.exists);
        assert_eq!(st.state, "absent");
        assert_eq!(st.template_found, Some(false));
        assert_eq!(st.templates, vec!["busybox", "debian"]);
        assert_eq!(st.data("a")["init_pid"], -1);
    }
}
