//! Reading OpenSSH client settings: `~/.ssh/config` and `-o Key=Value` options, and combining
//! them with inventory variables into final [`SshOptions`] ([`resolve_ssh_options`]).

mod settings;

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ssh2_config::{ParseRule, SshConfig};

pub use settings::{expand_tilde, SshArgs, SshSettings};

use super::ssh::{
    default_known_hosts_files, local_user_name, HostKeyPolicy, JumpSpec, SshOptions,
    DEFAULT_CONNECT_TIMEOUT,
};

/// Problems with ssh configuration (files or argument strings).
#[derive(Debug, thiserror::Error)]
pub enum SshConfigError {
    /// The config file exists but cannot be read or parsed.
    #[error("cannot read ssh config {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// An argument string cannot be split or misses a value.
    #[error("bad ssh arguments '{args}': {reason}")]
    Args {
        /// The offending argument string.
        args: String,
        /// What went wrong.
        reason: String,
    },
    /// An option has a value drover cannot use.
    #[error("invalid ssh option {option} '{value}': {reason}")]
    Value {
        /// The option keyword.
        option: String,
        /// Its value.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// `ProxyJump` names an unusable host.
    #[error("bad ProxyJump '{spec}': {reason}")]
    Jump {
        /// The ProxyJump value.
        spec: String,
        /// What went wrong.
        reason: String,
    },
}

/// `~/.ssh/config`.
pub fn default_config_file() -> Option<PathBuf> {
    dirs::home_dir().map(|h| h.join(".ssh").join("config"))
}

/// A parsed ssh config file (OpenSSH syntax, `Include` supported).
#[derive(Debug, Clone, Default)]
pub struct SshConfigFile {
    config: Option<SshConfig>,
}

impl SshConfigFile {
    /// Reads `path`; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Self, SshConfigError> {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(SshConfigError::Read {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                })
            }
        };
        let rules = ParseRule::ALLOW_UNKNOWN_FIELDS | ParseRule::ALLOW_UNSUPPORTED_FIELDS;
        let config = SshConfig::default()
            .parse(&mut BufReader::new(file), rules)
            .map_err(|e| SshConfigError::Read {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            config: Some(config),
        })
    }

    /// The settings that apply to `host` (the name given to ssh: `ansible_host` or the inventory
    /// hostname), with `%h` in `HostName` and `%h`/`%r`/`%u`/`%p`/`%%` in `IdentityFile`
    /// expanded.
    pub fn settings_for(&self, host: &str) -> Result<SshSettings, SshConfigError> {
        let mut out = SshSettings::default();
        let Some(config) = &self.config else {
            return Ok(out);
        };
        let params = config.query(host);
        if let Some(name) = &params.host_name {
            out.host_name = Some(name.replace("%h", host).replace("%%", "%"));
        }
        out.port = params.port;
        out.user = params.user.clone();
        out.connect_timeout = params.connect_timeout;
        out.keepalive_interval = params.server_alive_interval;
        if let Some(jumps) = &params.proxy_jump {
            out.proxy_jump = Some(jumps.join(","));
        }
        let user = out.user.clone().unwrap_or_else(local_user_name);
        let port = out.port.unwrap_or(22).to_string();
        for file in params.identity_file.iter().flatten() {
            let text = file.to_string_lossy();
            let expanded = text
                .replace("%h", out.host_name.as_deref().unwrap_or(host))
                .replace("%r", &user)
                .replace("%u", &local_user_name())
                .replace("%p", &port)
                .replace("%%", "%");
            out.identity_files.push(expand_tilde(&expanded));
        }
        // Options ssh2-config keeps as raw "unsupported" fields (keys are lower-case).
        for (key, values) in &params.unsupported_fields {
            if matches!(
                key.as_str(),
                "stricthostkeychecking"
                    | "userknownhostsfile"
                    | "globalknownhostsfile"
                    | "hostkeyalias"
                    | "identitiesonly"
                    | "identityagent"
                    | "serveralivecountmax"
                    | "proxycommand"
            ) {
                out.set_option(key, &values.join(" "))?;
            }
        }
        Ok(out)
    }
}

/// Connection settings for one inventory host, as Ansible's variables and CLI flags give them.
#[derive(Debug, Clone)]
pub struct HostSshVars {
    /// The inventory hostname.
    pub inventory_hostname: String,
    /// `ansible_host`.
    pub host: Option<String>,
    /// `ansible_port` / `remote_port`.
    pub port: Option<u16>,
    /// `ansible_user` / `-u` / `remote_user`.
    pub user: Option<String>,
    /// `ansible_ssh_private_key_file` / `--private-key`.
    pub private_key_file: Option<PathBuf>,
    /// `ansible_password` / `--ask-pass`.
    pub password: Option<String>,
    /// `host_key_checking` (`ANSIBLE_HOST_KEY_CHECKING`); `false` turns verification off and
    /// overrides everything, `true` (the default) leaves it to ssh config and args (strict unless
    /// they say otherwise).
    pub host_key_checking: bool,
    /// `timeout` / `ansible_ssh_timeout` / `-T`, when set.
    pub timeout: Option<Duration>,
    /// OpenSSH argument strings in precedence order: `ansible_ssh_common_args` /
    /// `--ssh-common-args`, then `ansible_ssh_extra_args` / `--ssh-extra-args`.
    pub ssh_args: Vec<String>,
    /// The ssh config file; `None` means `~/.ssh/config` (a `-F` in the args wins over both).
    pub ssh_config_file: Option<PathBuf>,
}

impl HostSshVars {
    /// Settings for `inventory_hostname` with nothing else given.
    pub fn new(inventory_hostname: impl Into<String>) -> Self {
        Self {
            inventory_hostname: inventory_hostname.into(),
            host: None,
            port: None,
            user: None,
            private_key_file: None,
            password: None,
            host_key_checking: true,
            timeout: None,
            ssh_args: Vec::new(),
            ssh_config_file: None,
        }
    }
}

/// Final options plus anything worth telling the user.
#[derive(Debug, Clone)]
pub struct ResolvedSsh {
    /// Ready for [`super::ssh::SshConnection::connect`].
    pub options: SshOptions,
    /// Ignored options and similar notes, one message each.
    pub warnings: Vec<String>,
}

/// Builds the [`SshOptions`] for one host from inventory settings, the ssh config file and the
/// OpenSSH argument strings.
///
/// Precedence, highest first (for each setting the first source that gives it wins, as with
/// `ssh` itself, which receives Ansible's inventory-derived `-o` options before the user's
/// `ssh_common_args`/`ssh_extra_args`):
/// 1. explicit inventory settings: `ansible_port`, `ansible_user`, `ansible_ssh_private_key_file`,
///    `ansible_password`, `timeout`, and `host_key_checking = False`;
/// 2. the argument strings, in order (`-o`, `-p`, `-l`, `-i`, `-J`, `-F`);
/// 3. the ssh config file (`-F`, else [`HostSshVars::ssh_config_file`], else `~/.ssh/config`),
///    looked up under `ansible_host` (or the inventory hostname when unset);
/// 4. defaults: port 22, the local user, 10 s timeout, strict checking against
///    `~/.ssh/known_hosts`, ssh-agent and OpenSSH's default key files.
///
/// The address connected to is config/args `HostName`, else `ansible_host`, else the inventory
/// hostname. Identity files accumulate in the same order (inventory key first). `ProxyJump` hops
/// are resolved through the same config file (their own `Host` blocks), inheriting known_hosts
/// and checking settings. `ProxyCommand` is run under `/bin/sh -c` (a `ProxyJump`, if also
/// given, is used instead).
pub fn resolve_ssh_options(vars: &HostSshVars) -> Result<ResolvedSsh, SshConfigError> {
    let args = SshArgs::parse(vars.ssh_args.iter().map(String::as_str))?;
    let mut warnings = args.warnings.clone();

    let mut settings = SshSettings::default();
    if vars.port.is_some() {
        settings.port = vars.port;
    }
    settings.user.clone_from(&vars.user);
    if let Some(key) = &vars.private_key_file {
        settings.identity_files.push(key.clone());
    }
    settings.connect_timeout = vars.timeout;
    if !vars.host_key_checking {
        settings.host_key_policy = Some(HostKeyPolicy::Off);
    }
    settings.merge_missing(&args.settings);

    let config_path = args
        .config_file
        .clone()
        .or_else(|| vars.ssh_config_file.clone())
        .or_else(default_config_file);
    let config = match &config_path {
        Some(p) => SshConfigFile::load(p)?,
        None => SshConfigFile::default(),
    };
    let lookup_name = vars
        .host
        .clone()
        .unwrap_or_else(|| vars.inventory_hostname.clone());
    settings.merge_missing(&config.settings_for(&lookup_name)?);

    let mut options = options_from_settings(&lookup_name, &settings, &mut warnings);
    options.alias = vars.inventory_hostname.clone();
    options.password.clone_from(&vars.password);
    if let Some(spec) = settings.proxy_jump.as_deref() {
        options.jump_host = resolve_jump(spec, &options, &config, 0)?.map(Box::new);
        options.proxy_jump = Some(spec.to_string()).filter(|s| s != "none");
    }
    Ok(ResolvedSsh { options, warnings })
}

/// Turns merged settings into options for `lookup_name` (defaults filled in).
fn options_from_settings(
    lookup_name: &str,
    settings: &SshSettings,
    warnings: &mut Vec<String>,
) -> SshOptions {
    let address = settings
        .host_name
        .clone()
        .unwrap_or_else(|| lookup_name.to_string());
    let mut o = SshOptions::new(address);
    o.alias = lookup_name.to_string();
    if let Some(port) = settings.port {
        o.port = port;
    }
    if let Some(user) = &settings.user {
        o.user.clone_from(user);
    }
    o.identity_files.clone_from(&settings.identity_files);
    o.connect_timeout = settings.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    o.host_key_policy = settings.host_key_policy.unwrap_or_default();
    let mut known = settings
        .known_hosts_files
        .clone()
        .unwrap_or_else(default_known_hosts_files);
    known.extend(settings.global_known_hosts_files.iter().flatten().cloned());
    o.known_hosts_files = known;
    o.host_key_alias.clone_from(&settings.host_key_alias);
    o.proxy_command = settings
        .proxy_command
        .clone()
        .filter(|c| !c.eq_ignore_ascii_case("none"));
    if settings.identities_only == Some(true) && !o.identity_files.is_empty() {
        o.use_agent = false;
    }
    match settings.identity_agent.as_deref() {
        None | Some("SSH_AUTH_SOCK") => {}
        Some("none") => o.use_agent = false,
        Some(path) if path.starts_with('$') => match std::env::var_os(&path[1..]) {
            Some(v) => o.agent_socket = Some(PathBuf::from(v)),
            None => warnings.push(format!("IdentityAgent {path}: variable not set")),
        },
        Some(path) => o.agent_socket = Some(expand_tilde(path)),
    }
    if let Some(interval) = settings.keepalive_interval {
        o.keepalive_interval = (!interval.is_zero()).then_some(interval);
    }
    if let Some(max) = settings.keepalive_max {
        o.keepalive_max = max;
    }
    o
}

/// Options for the last hop of `spec`, its earlier hops chained through `jump_host`.
fn resolve_jump(
    spec: &str,
    target: &SshOptions,
    config: &SshConfigFile,
    depth: usize,
) -> Result<Option<SshOptions>, SshConfigError> {
    let spec = spec.trim();
    if spec.is_empty() || spec.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let jump_err = |reason: String| SshConfigError::Jump {
        spec: spec.to_string(),
        reason,
    };
    if depth > 8 {
        return Err(jump_err("ProxyJump chain too long (loop?)".into()));
    }
    let hops: Vec<&str> = spec.split(',').map(str::trim).collect();
    let (last, earlier) = hops
        .split_last()
        .ok_or_else(|| jump_err("no hosts".into()))?;
    let hop = JumpSpec::parse(last).map_err(jump_err)?;

    let mut settings = SshSettings {
        user: hop.user.clone(),
        port: hop.port,
        ..Default::default()
    };
    settings.merge_missing(&config.settings_for(&hop.host)?);
    let mut ignored = Vec::new();
    let mut jump = options_from_settings(&hop.host, &settings, &mut ignored);
    for key in &target.identity_files {
        if !jump.identity_files.contains(key) {
            jump.identity_files.push(key.clone());
        }
    }
    jump.use_agent = jump.use_agent && target.use_agent;
    jump.agent_socket = jump.agent_socket.or_else(|| target.agent_socket.clone());
    jump.connect_timeout = target.connect_timeout;
    jump.host_key_policy = settings.host_key_policy.unwrap_or(target.host_key_policy);
    if settings.known_hosts_files.is_none() {
        jump.known_hosts_files.clone_from(&target.known_hosts_files);
    }
    let chain = if earlier.is_empty() {
        // The first hop may have its own ProxyJump in the config.
        settings.proxy_jump.clone()
    } else {
        Some(earlier.join(","))
    };
    if let Some(chain) = chain {
        jump.jump_host = resolve_jump(&chain, &jump, config, depth + 1)?.map(Box::new);
        jump.proxy_jump = Some(chain).filter(|s| s != "none");
    }
    Ok(Some(jump))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_config(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("config");
        std::fs::write(&path, text).unwrap();
        path
    }

    const CONFIG: &str = "\
Host web*
    HostName 10.1.0.%h
    User deploy
    Port 2201
    IdentityFile ~/.ssh/web_key
    ConnectTimeout 4
    StrictHostKeyChecking accept-new
    UserKnownHostsFile /tmp/kh1 /tmp/kh2

Host db1
    HostName db1.internal
    ProxyJump ops@bastion:2222
    IdentityFile /keys/%r@%h

Host bastion
    HostName 192.0.2.10
    User jumper
    IdentityFile /keys/bastion

Host *
    ServerAliveInterval 30
    ServerAliveCountMax 5
";

    #[test]
    fn config_file_settings_for_alias() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SshConfigFile::load(&write_config(dir.path(), CONFIG)).unwrap();
        let s = cfg.settings_for("web7").unwrap();
        assert_eq!(s.host_name.as_deref(), Some("10.1.0.web7"));
        assert_eq!(s.user.as_deref(), Some("deploy"));
        assert_eq!(s.port, Some(2201));
        assert_eq!(s.connect_timeout, Some(Duration::from_secs(4)));
        assert_eq!(s.host_key_policy, Some(HostKeyPolicy::AcceptNew));
        assert_eq!(
            s.known_hosts_files,
            Some(vec![PathBuf::from("/tmp/kh1"), PathBuf::from("/tmp/kh2")])
        );
        assert_eq!(
            s.identity_files,
            vec![dirs::home_dir().unwrap().join(".ssh/web_key")]
        );
        assert_eq!(s.keepalive_interval, Some(Duration::from_secs(30)));
        assert_eq!(s.keepalive_max, Some(5));
        assert_eq!(cfg.settings_for("other").unwrap().user, None);
    }

    #[test]
    fn missing_config_is_empty_and_broken_config_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = SshConfigFile::load(&dir.path().join("nope")).unwrap();
        assert_eq!(missing.settings_for("x").unwrap(), SshSettings::default());
        let bad = write_config(dir.path(), "Host a\n  Port notanumber\n");
        let err = SshConfigFile::load(&bad).unwrap_err().to_string();
        assert!(err.contains(bad.to_str().unwrap()), "{err}");
    }

    #[test]
    fn precedence_inventory_then_args_then_config() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write_config(dir.path(), CONFIG);
        let mut vars = HostSshVars::new("web7");
        vars.ssh_config_file = Some(cfg);
        vars.user = Some("inventory-user".into());
        vars.private_key_file = Some("/inv/key".into());
        vars.ssh_args = vec![
            "-o User=args-user -p 2999 -i /args/key -o UserKnownHostsFile=/dev/null -o Foo=bar"
                .into(),
        ];
        let r = resolve_ssh_options(&vars).unwrap();
        let o = &r.options;
        assert_eq!(o.alias, "web7");
        assert_eq!(o.host, "10.1.0.web7");
        assert_eq!(o.user, "inventory-user");
        assert_eq!(o.port, 2999);
        assert_eq!(
            o.identity_files,
            vec![
                PathBuf::from("/inv/key"),
                PathBuf::from("/args/key"),
                dirs::home_dir().unwrap().join(".ssh/web_key")
            ]
        );
        assert_eq!(o.known_hosts_files, vec![PathBuf::from("/dev/null")]);
        assert_eq!(o.host_key_policy, HostKeyPolicy::AcceptNew);
        assert_eq!(o.connect_timeout, Duration::from_secs(4));
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(r.warnings[0].contains("Foo"));

        vars.host_key_checking = false;
        vars.port = Some(22);
        vars.timeout = Some(Duration::from_secs(30));
        let o = resolve_ssh_options(&vars).unwrap().options;
        assert_eq!(o.host_key_policy, HostKeyPolicy::Off);
        assert_eq!(o.port, 22);
        assert_eq!(o.connect_timeout, Duration::from_secs(30));
    }

    #[test]
    fn ansible_host_is_the_config_lookup_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut vars = HostSshVars::new("inventory-name");
        vars.ssh_config_file = Some(write_config(dir.path(), CONFIG));
        vars.host = Some("db1".into());
        let o = resolve_ssh_options(&vars).unwrap().options;
        assert_eq!(o.alias, "inventory-name");
        assert_eq!(o.host, "db1.internal");
        assert_eq!(o.port, 22);
        assert_eq!(
            o.identity_files[0],
            PathBuf::from(format!("/keys/{}@db1.internal", local_user_name()))
        );
        // ProxyJump resolved through the bastion's own Host block; the spec's user/port win.
        let jump = o.jump_host.as_ref().expect("jump host");
        assert_eq!(jump.host, "192.0.2.10");
        assert_eq!(jump.user, "ops");
        assert_eq!(jump.port, 2222);
        assert_eq!(jump.identity_files[0], PathBuf::from("/keys/bastion"));
        assert!(jump.jump_host.is_none());
        assert_eq!(o.proxy_jump.as_deref(), Some("ops@bastion:2222"));
    }

    #[test]
    fn defaults_without_any_settings() {
        let dir = tempfile::tempdir().unwrap();
        let mut vars = HostSshVars::new("plain");
        vars.ssh_config_file = Some(dir.path().join("absent"));
        let o = resolve_ssh_options(&vars).unwrap().options;
        assert_eq!(o.host, "plain");
        assert_eq!(o.port, 22);
        assert_eq!(o.user, local_user_name());
        assert!(o.identity_files.is_empty());
        assert!(o.use_agent);
        assert_eq!(o.host_key_policy, HostKeyPolicy::Strict);
        assert_eq!(o.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(o.known_hosts_files, default_known_hosts_files());
        assert!(o.jump_host.is_none());
    }

    #[test]
    fn multi_hop_jump_chain_and_dash_f() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write_config(dir.path(), CONFIG);
        let mut vars = HostSshVars::new("target");
        vars.ssh_args = vec![format!("-F {} -J a@first:2000,bastion", cfg.display())];
        let o = resolve_ssh_options(&vars).unwrap().options;
        let last = o.jump_host.as_ref().unwrap();
        assert_eq!(
            (last.host.as_str(), last.user.as_str()),
            ("192.0.2.10", "jumper")
        );
        let first = last.jump_host.as_ref().unwrap();
        assert_eq!(
            (first.host.as_str(), first.port, first.user.as_str()),
            ("first", 2000, "a")
        );
        assert!(first.jump_host.is_none());
    }
}
