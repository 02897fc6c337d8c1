//! The table of every setting drover reads: its ansible-config name, `ansible.cfg` keys,
//! environment variables, default, type and description. [`super::AnsibleConfig::load`] reads
//! settings through it and `drover config` lists it, so adding a setting is one entry here
//! (plus its field on [`AnsibleConfig`]).

use super::value::{Kind, Value};
use super::AnsibleConfig;

/// One setting drover reads.
#[derive(Debug)]
pub struct Setting {
    /// ansible-config's name (`DEFAULT_FORKS`); drover's own settings start with `DROVER_`.
    pub name: &'static str,
    /// `ansible.cfg` keys as `(section, key)`; when several are set, the last one wins.
    pub ini: &'static [(&'static str, &'static str)],
    /// Environment variables; when several are set, the last one wins. They override the file.
    pub env: &'static [&'static str],
    /// The value drover uses when nothing sets it, written as in `ansible.cfg` (`None`: unset).
    pub default: Option<&'static str>,
    /// How the text is read.
    pub kind: Kind,
    /// One or two sentences for `drover config list`.
    pub description: &'static str,
    /// Whether ansible-core knows the setting under the same name (false for drover's own and
    /// for plugin options, which `ansible-config dump` shows only with `-t`).
    pub ansible: bool,
    /// Stores a value read from the file or the environment into the config.
    pub store: fn(&mut AnsibleConfig, Value),
}

/// Every setting drover reads, sorted by name as `ansible-config` prints them.
pub static SETTINGS: &[Setting] = &[
    Setting {
        name: "ANSIBLE_FORCE_COLOR",
        ini: &[("defaults", "force_color")],
        env: &["ANSIBLE_FORCE_COLOR"],
        default: Some("False"),
        kind: Kind::Bool,
        description: "Colour the output even when it is not a terminal (over NO_COLOR and nocolor; --no-color still wins).",
        ansible: true,
        store: read_by_the_reporters,
    },
    Setting {
        name: "ANSIBLE_NOCOLOR",
        ini: &[("defaults", "nocolor")],
        env: &["ANSIBLE_NOCOLOR", "NO_COLOR"],
        default: Some("False"),
        kind: Kind::Bool,
        description: "No colour in the output (NO_COLOR: any non-empty value).",
        ansible: true,
        store: read_by_the_reporters,
    },
    Setting {
        name: "CALLBACKS_ENABLED",
        ini: &[("defaults", "callbacks_enabled")],
        env: &["ANSIBLE_CALLBACKS_ENABLED"],
        default: Some(""),
        kind: Kind::List,
        description: "Callback plugins to enable; drover knows profile_tasks (the same as --profile) and ignores the others.",
        ansible: true,
        store: read_by_the_reporters,
    },
    Setting {
        name: "COLLECTIONS_PATHS",
        ini: &[("defaults", "collections_path")],
        env: &["ANSIBLE_COLLECTIONS_PATH"],
        default: Some("~/.ansible/collections:/usr/share/ansible/collections"),
        kind: Kind::PathSpec,
        description: "Colon-separated directories holding collections (under ansible_collections/); `drover galaxy install` installs into the first.",
        ansible: true,
        store: |c, v| c.collections_path = v.paths(),
    },
    colour(
        "COLOR_CHANGED",
        &[("colors", "changed")],
        &["ANSIBLE_COLOR_CHANGED"],
        "yellow",
        true,
    ),
    colour(
        "COLOR_DEBUG",
        &[("colors", "debug")],
        &["ANSIBLE_COLOR_DEBUG"],
        "dark gray",
        true,
    ),
    colour(
        "COLOR_DEPRECATE",
        &[("colors", "deprecate")],
        &["ANSIBLE_COLOR_DEPRECATE"],
        "purple",
        true,
    ),
    colour(
        "COLOR_DIFF_ADD",
        &[("colors", "diff_add")],
        &["ANSIBLE_COLOR_DIFF_ADD"],
        "green",
        true,
    ),
    colour(
        "COLOR_DIFF_LINES",
        &[("colors", "diff_lines")],
        &["ANSIBLE_COLOR_DIFF_LINES"],
        "cyan",
        true,
    ),
    colour(
        "COLOR_DIFF_REMOVE",
        &[("colors", "diff_remove")],
        &["ANSIBLE_COLOR_DIFF_REMOVE"],
        "red",
        true,
    ),
    colour(
        "COLOR_DROVER_TIMING",
        &[("colors", "drover_timing")],
        &["ANSIBLE_COLOR_DROVER_TIMING"],
        "purple",
        false,
    ),
    colour(
        "COLOR_ERROR",
        &[("colors", "error")],
        &["ANSIBLE_COLOR_ERROR"],
        "red",
        true,
    ),
    colour(
        "COLOR_INCLUDED",
        &[("colors", "included")],
        &["ANSIBLE_COLOR_INCLUDED"],
        "cyan",
        true,
    ),
    colour(
        "COLOR_OK",
        &[("colors", "ok")],
        &["ANSIBLE_COLOR_OK"],
        "green",
        true,
    ),
    colour(
        "COLOR_SKIP",
        &[("colors", "skip")],
        &["ANSIBLE_COLOR_SKIP"],
        "cyan",
        true,
    ),
    colour(
        "COLOR_UNREACHABLE",
        &[("colors", "unreachable")],
        &["ANSIBLE_COLOR_UNREACHABLE"],
        "bright red",
        true,
    ),
    colour(
        "COLOR_VERBOSE",
        &[("colors", "verbose")],
        &["ANSIBLE_COLOR_VERBOSE"],
        "blue",
        true,
    ),
    colour(
        "COLOR_WARN",
        &[("colors", "warn")],
        &["ANSIBLE_COLOR_WARN"],
        "bright purple",
        true,
    ),
    Setting {
        name: "DEFAULT_BECOME",
        ini: &[("privilege_escalation", "become")],
        env: &["ANSIBLE_BECOME"],
        default: Some("False"),
        kind: Kind::Bool,
        description: "Use privilege escalation (become) for every task.",
        ansible: true,
        store: |c, v| c.become_ = v.bool(),
    },
    Setting {
        name: "DEFAULT_BECOME_METHOD",
        ini: &[("privilege_escalation", "become_method")],
        env: &["ANSIBLE_BECOME_METHOD"],
        default: Some("sudo"),
        kind: Kind::Str,
        description: "Privilege escalation method (sudo, su).",
        ansible: true,
        store: |c, v| c.become_method = v.string(),
    },
    Setting {
        name: "DEFAULT_BECOME_USER",
        ini: &[("privilege_escalation", "become_user")],
        env: &["ANSIBLE_BECOME_USER"],
        default: Some("root"),
        kind: Kind::Str,
        description: "The user to become.",
        ansible: true,
        store: |c, v| c.become_user = v.string(),
    },
    Setting {
        name: "DEFAULT_FORCE_HANDLERS",
        ini: &[("defaults", "force_handlers")],
        env: &["ANSIBLE_FORCE_HANDLERS"],
        default: Some("False"),
        kind: Kind::Bool,
        description: "Run notified handlers on a host even after a task failed there.",
        ansible: true,
        store: |c, v| c.force_handlers = v.bool(),
    },
    Setting {
        name: "DEFAULT_FORKS",
        ini: &[("defaults", "forks")],
        env: &["ANSIBLE_FORKS"],
        default: Some("5"),
        kind: Kind::Int,
        description: "Hosts worked on in parallel.",
        ansible: true,
        store: |c, v| c.forks = v.int().and_then(|n| usize::try_from(n).ok()),
    },
    Setting {
        name: "DEFAULT_HOST_LIST",
        ini: &[("defaults", "inventory")],
        env: &["ANSIBLE_INVENTORY"],
        // ansible-core's default is /etc/ansible/hosts; drover reads no inventory unasked.
        default: None,
        kind: Kind::PathList,
        description: "Comma-separated inventory sources used without -i.",
        ansible: true,
        store: |c, v| {
            c.inventory = v
                .paths()
                .into_iter()
                .map(|p| p.display().to_string())
                .collect()
        },
    },
    Setting {
        name: "DEFAULT_PRIVATE_KEY_FILE",
        ini: &[("defaults", "private_key_file")],
        env: &["ANSIBLE_PRIVATE_KEY_FILE"],
        default: None,
        kind: Kind::Path,
        description: "Private key file for SSH.",
        ansible: true,
        store: |c, v| c.private_key_file = v.path(),
    },
    Setting {
        name: "DEFAULT_REMOTE_USER",
        ini: &[("defaults", "remote_user")],
        env: &["ANSIBLE_REMOTE_USER"],
        default: None,
        kind: Kind::Str,
        description: "Login user on the managed hosts (default: the SSH default, the current user).",
        ansible: true,
        store: |c, v| c.remote_user = v.string(),
    },
    Setting {
        name: "DEFAULT_ROLES_PATH",
        ini: &[("defaults", "roles_path")],
        env: &["ANSIBLE_ROLES_PATH"],
        default: Some("~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles"),
        kind: Kind::PathSpec,
        description: "Colon-separated directories searched for roles; `drover galaxy install` installs into the first.",
        ansible: true,
        store: |c, v| c.roles_path = v.paths(),
    },
    Setting {
        name: "DEFAULT_STRATEGY",
        ini: &[("defaults", "strategy")],
        env: &["ANSIBLE_STRATEGY"],
        default: Some("linear"),
        kind: Kind::Str,
        description: "Strategy of plays without a strategy keyword (linear, free, host_pinned).",
        ansible: true,
        store: |c, v| c.strategy = v.string(),
    },
    Setting {
        name: "DEFAULT_TIMEOUT",
        ini: &[("defaults", "timeout")],
        env: &["ANSIBLE_TIMEOUT"],
        default: Some("10"),
        kind: Kind::Int,
        description: "Connect timeout in seconds.",
        ansible: true,
        store: |c, v| c.timeout = v.int().and_then(|n| u64::try_from(n).ok()),
    },
    Setting {
        name: "DEFAULT_VAULT_IDENTITY_LIST",
        ini: &[("defaults", "vault_identity_list")],
        env: &["ANSIBLE_VAULT_IDENTITY_LIST"],
        default: Some(""),
        kind: Kind::List,
        description: "Vault ids (label@source) tried in order, as repeated --vault-id.",
        ansible: true,
        store: |c, v| c.vault_identity_list = v.list(),
    },
    Setting {
        name: "DEFAULT_VAULT_PASSWORD_FILE",
        ini: &[("defaults", "vault_password_file")],
        env: &["ANSIBLE_VAULT_PASSWORD_FILE"],
        default: None,
        // ansible-core takes one path; drover also accepts a comma-separated list.
        kind: Kind::PathList,
        description: "Vault password files (or executables printing the password), comma-separated.",
        ansible: false,
        store: |c, v| c.vault_password_file = v.paths(),
    },
    Setting {
        name: "DROVER_LOCK",
        ini: &[("drover", "lock")],
        env: &["DROVER_LOCK"],
        default: Some("True"),
        kind: Kind::Bool,
        description: "drover's own: take a deploy lock on each target before changing it (docs/LOCKING.md); false is --no-lock.",
        ansible: false,
        store: |c, v| c.lock.enabled = v.bool(),
    },
    Setting {
        name: "DROVER_LOCK_DIR",
        ini: &[("drover", "lock_dir")],
        env: &["DROVER_LOCK_DIR"],
        default: Some("/var/lib/drover/locks"),
        kind: Kind::Str,
        description: "drover's own: absolute directory on the targets that holds the deploy locks (--lock-dir).",
        ansible: false,
        store: |c, v| c.lock.dir = non_empty(v),
    },
    Setting {
        name: "DROVER_LOCK_HOST",
        ini: &[("drover", "lock_host")],
        env: &["DROVER_LOCK_HOST"],
        default: None,
        kind: Kind::Str,
        description: "drover's own: the inventory host that keeps the named lock (--lock-host).",
        ansible: false,
        store: |c, v| c.lock.host = non_empty(v),
    },
    Setting {
        name: "DROVER_LOCK_NAME",
        ini: &[("drover", "lock_name")],
        env: &["DROVER_LOCK_NAME"],
        default: None,
        kind: Kind::Str,
        description: "drover's own: also take this named lock (e.g. deploy) on the lock host: one deployer for all servers (--lock-name).",
        ansible: false,
        store: |c, v| c.lock.name = non_empty(v),
    },
    Setting {
        name: "DROVER_LOCK_OWNER",
        ini: &[("drover", "lock_owner")],
        env: &["DROVER_LOCK_OWNER"],
        default: None,
        kind: Kind::Str,
        description: "drover's own: holder name written in the deploy locks; unset: user@controller (--lock-owner).",
        ansible: false,
        store: |c, v| c.lock.owner = non_empty(v),
    },
    Setting {
        name: "DROVER_LOCK_TTL",
        ini: &[("drover", "lock_ttl")],
        env: &["DROVER_LOCK_TTL"],
        default: None,
        kind: Kind::Str,
        description: "drover's own: age after which a lock counts as stale; unset: 6h for runs, 12h for held tokens (--lock-ttl).",
        ansible: false,
        store: |c, v| c.lock.ttl = non_empty(v),
    },
    Setting {
        name: "DROVER_LOCK_WAIT",
        ini: &[("drover", "lock_wait")],
        env: &["DROVER_LOCK_WAIT"],
        default: None,
        kind: Kind::Str,
        description: "drover's own: wait this long (90s, 5m, 1h) for held deploy locks before refusing; unset: refuse at once (--lock-wait).",
        ansible: false,
        store: |c, v| c.lock.wait = non_empty(v),
    },
    Setting {
        name: "DROVER_NO_LOCK",
        ini: &[("drover", "no_lock")],
        env: &["DROVER_NO_LOCK"],
        default: Some("False"),
        kind: Kind::Bool,
        description: "drover's own: take no deploy locks (--no-lock); wins over DROVER_LOCK.",
        ansible: false,
        store: |c, v| {
            if v.bool() == Some(true) {
                c.lock.enabled = Some(false)
            }
        },
    },
    Setting {
        name: "DROVER_SSH_RETRY_BACKOFF",
        ini: &[("ssh_connection", "drover_retry_backoff")],
        env: &["DROVER_SSH_RETRY_BACKOFF"],
        default: Some("1.0"),
        kind: Kind::Float,
        description: "drover's own: seconds before the first SSH connection retry, doubled for each next one (at most 30 s).",
        ansible: false,
        store: |c, v| c.ssh_retry_backoff = v.float(),
    },
    Setting {
        name: "DROVER_STRICT",
        ini: &[("defaults", "drover_strict")],
        env: &["DROVER_STRICT"],
        default: Some("False"),
        kind: Kind::Bool,
        description: "drover's own: every module argument problem stops the run before any host is touched (as --strict).",
        ansible: false,
        store: |c, v| c.strict = v.bool(),
    },
    Setting {
        name: "HOST_KEY_CHECKING",
        ini: &[("defaults", "host_key_checking")],
        env: &["ANSIBLE_HOST_KEY_CHECKING"],
        default: Some("True"),
        kind: Kind::Bool,
        description: "Verify host keys against known_hosts.",
        ansible: true,
        store: |c, v| c.host_key_checking = v.bool(),
    },
    Setting {
        name: "SSH_COMMON_ARGS",
        ini: &[("ssh_connection", "ssh_common_args")],
        env: &["ANSIBLE_SSH_COMMON_ARGS"],
        default: None,
        kind: Kind::Str,
        description: "Extra arguments for every SSH connection (the ssh connection plugin's ssh_common_args; OpenSSH -o options are honoured).",
        ansible: false,
        store: |c, v| c.ssh_common_args = v.string(),
    },
    Setting {
        name: "SSH_RETRIES",
        ini: &[("ssh_connection", "retries")],
        env: &["ANSIBLE_SSH_RETRIES"],
        default: Some("0"),
        kind: Kind::Int,
        description: "Connection attempts after a failed first one (the ssh connection plugin's reconnection_retries; a host's ansible_ssh_retries wins).",
        ansible: false,
        store: |c, v| c.ssh_retries = v.int().and_then(|n| u32::try_from(n).ok()),
    },
];

/// The setting named `name` (ansible-config's name), if drover reads it.
pub fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// Text that is not blank (an empty `DROVER_LOCK_WAIT=` leaves the setting unset).
/// The `store` of settings the reporters read straight from the file and the environment, with the
/// same precedence (`cli/src/report/color.rs`, `cli/src/report/profile.rs`): listed here so that
/// `drover config` shows them.
fn read_by_the_reporters(_: &mut AnsibleConfig, _: Value) {}

/// A `[colors]` setting: the colour (an ansible colour name) of one kind of output line.
const fn colour(
    name: &'static str,
    ini: &'static [(&'static str, &'static str)],
    env: &'static [&'static str],
    default: &'static str,
    ansible: bool,
) -> Setting {
    Setting {
        name,
        ini,
        env,
        default: Some(default),
        kind: Kind::Str,
        description: "The colour of one kind of output line (an ansible colour name: green, bright red, color202, rgb520, gray7, ...).",
        ansible,
        store: read_by_the_reporters,
    }
}

fn non_empty(v: Value) -> Option<String> {
    v.string().filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_and_unique() {
        for pair in SETTINGS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn defaults_parse_as_their_kind() {
        for s in SETTINGS {
            if let Some(d) = s.default {
                let v = s.kind.parse(d, None, &|_| None);
                assert!(v.is_ok(), "{}: {v:?}", s.name);
            }
        }
    }
}
