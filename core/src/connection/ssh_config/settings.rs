//! [`SshSettings`]: the OpenSSH client options drover honours, and parsing of OpenSSH-style
//! argument strings (`--ssh-common-args`, `--ssh-extra-args`, `ansible_ssh_common_args`).

use std::path::PathBuf;
use std::time::Duration;

use super::SshConfigError;
use crate::connection::ssh::HostKeyPolicy;

/// OpenSSH client settings for one host, each `None`/empty when not given.
///
/// Values are merged "first one wins", as OpenSSH does: [`SshSettings::set_option`] only fills
/// a field that is still unset, except `IdentityFile`, which accumulates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshSettings {
    /// `HostName`: the real address to connect to (`%h` is the name looked up).
    pub host_name: Option<String>,
    /// `Port` / `-p`.
    pub port: Option<u16>,
    /// `User` / `-l`.
    pub user: Option<String>,
    /// `IdentityFile` / `-i`, in order.
    pub identity_files: Vec<PathBuf>,
    /// `ProxyJump` / `-J` (`none` disables).
    pub proxy_jump: Option<String>,
    /// `ProxyCommand` (`none` disables).
    pub proxy_command: Option<String>,
    /// `ConnectTimeout`.
    pub connect_timeout: Option<Duration>,
    /// `StrictHostKeyChecking` (yes/ask → strict, accept-new, no/off → off).
    pub host_key_policy: Option<HostKeyPolicy>,
    /// `UserKnownHostsFile` (several files allowed; `/dev/null` means none persist).
    pub known_hosts_files: Option<Vec<PathBuf>>,
    /// `GlobalKnownHostsFile`.
    pub global_known_hosts_files: Option<Vec<PathBuf>>,
    /// `HostKeyAlias`.
    pub host_key_alias: Option<String>,
    /// `IdentitiesOnly`: offer only the identity files, not every agent key.
    pub identities_only: Option<bool>,
    /// `IdentityAgent`: agent socket path, `none`, or `SSH_AUTH_SOCK`.
    pub identity_agent: Option<String>,
    /// `ServerAliveInterval` (zero disables keepalives).
    pub keepalive_interval: Option<Duration>,
    /// `ServerAliveCountMax`.
    pub keepalive_max: Option<usize>,
}

/// Options accepted and deliberately ignored: drover multiplexes on its own connection and has no
/// terminal, so these make no difference.
const HARMLESS_OPTIONS: &[&str] = &[
    "controlmaster",
    "controlpersist",
    "controlpath",
    "loglevel",
    "batchmode",
    "compression",
    "checkhostip",
    "tcpkeepalive",
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "pubkeyauthentication",
    "gssapiauthentication",
    "gssapidelegatecredentials",
    "preferredauthentications",
    "numberofpasswordprompts",
    "hashknownhosts",
    "addkeystoagent",
    "requesttty",
    "connectionattempts",
    "visualhostkey",
    "updatehostkeys",
    "canonicalizehostname",
];

impl SshSettings {
    /// Applies one `Key Value` option (keyword case-insensitive). Returns `Ok(false)` for an
    /// option drover does not support (the caller reports it).
    pub fn set_option(&mut self, key: &str, value: &str) -> Result<bool, SshConfigError> {
        let value = value.trim().trim_matches('"');
        let bad = |reason: &str| SshConfigError::Value {
            option: key.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        };
        match key.to_ascii_lowercase().as_str() {
            "hostname" => fill(&mut self.host_name, value.to_string()),
            "port" => {
                let port = value
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("expected a port number 1-65535"))?;
                fill(&mut self.port, port);
            }
            "user" => fill(&mut self.user, value.to_string()),
            "identityfile" => {
                let path = expand_tilde(value);
                if !self.identity_files.contains(&path) {
                    self.identity_files.push(path);
                }
            }
            "proxyjump" => fill(&mut self.proxy_jump, value.to_string()),
            "proxycommand" => fill(&mut self.proxy_command, value.to_string()),
            "connecttimeout" => {
                let secs = value
                    .parse::<u64>()
                    .map_err(|_| bad("expected a number of seconds"))?;
                fill(&mut self.connect_timeout, Duration::from_secs(secs));
            }
            "stricthostkeychecking" => {
                let policy = match value.to_ascii_lowercase().as_str() {
                    "yes" | "ask" | "true" => HostKeyPolicy::Strict,
                    "accept-new" => HostKeyPolicy::AcceptNew,
                    "no" | "off" | "false" => HostKeyPolicy::Off,
                    _ => return Err(bad("expected yes, no, accept-new, off or ask")),
                };
                fill(&mut self.host_key_policy, policy);
            }
            "userknownhostsfile" => {
                fill(&mut self.known_hosts_files, path_list(value));
            }
            "globalknownhostsfile" => {
                fill(&mut self.global_known_hosts_files, path_list(value));
            }
            "hostkeyalias" => fill(&mut self.host_key_alias, value.to_string()),
            "identitiesonly" => fill(
                &mut self.identities_only,
                yes_no(value).ok_or_else(|| bad("expected yes or no"))?,
            ),
            "identityagent" => fill(&mut self.identity_agent, value.to_string()),
            "serveraliveinterval" => {
                let secs = value
                    .parse::<u64>()
                    .map_err(|_| bad("expected a number of seconds"))?;
                fill(&mut self.keepalive_interval, Duration::from_secs(secs));
            }
            "serveralivecountmax" => {
                let n = value
                    .parse::<usize>()
                    .map_err(|_| bad("expected a count"))?;
                fill(&mut self.keepalive_max, n);
            }
            other if HARMLESS_OPTIONS.contains(&other) => {}
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Fills every unset field from `other` (and appends its identity files).
    pub fn merge_missing(&mut self, other: &SshSettings) {
        fn take<T: Clone>(slot: &mut Option<T>, from: &Option<T>) {
            if slot.is_none() {
                slot.clone_from(from);
            }
        }
        take(&mut self.host_name, &other.host_name);
        take(&mut self.port, &other.port);
        take(&mut self.user, &other.user);
        for f in &other.identity_files {
            if !self.identity_files.contains(f) {
                self.identity_files.push(f.clone());
            }
        }
        take(&mut self.proxy_jump, &other.proxy_jump);
        take(&mut self.proxy_command, &other.proxy_command);
        take(&mut self.connect_timeout, &other.connect_timeout);
        take(&mut self.host_key_policy, &other.host_key_policy);
        take(&mut self.known_hosts_files, &other.known_hosts_files);
        take(
            &mut self.global_known_hosts_files,
            &other.global_known_hosts_files,
        );
        take(&mut self.host_key_alias, &other.host_key_alias);
        take(&mut self.identities_only, &other.identities_only);
        take(&mut self.identity_agent, &other.identity_agent);
        take(&mut self.keepalive_interval, &other.keepalive_interval);
        take(&mut self.keepalive_max, &other.keepalive_max);
    }
}

fn fill<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}

fn yes_no(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

fn path_list(value: &str) -> Vec<PathBuf> {
    value.split_whitespace().map(expand_tilde).collect()
}

/// Expands a leading `~/` (or a lone `~`) to the home directory.
pub fn expand_tilde(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ if path == "~" => dirs::home_dir().unwrap_or_else(|| PathBuf::from(path)),
        _ => PathBuf::from(path),
    }
}

/// Settings parsed from OpenSSH command-line arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshArgs {
    /// The options found.
    pub settings: SshSettings,
    /// `-F`: an alternative ssh config file.
    pub config_file: Option<PathBuf>,
    /// Options and flags that were ignored, one message each.
    pub warnings: Vec<String>,
}

/// Flags of `ssh` that take no argument (all ignored: they change nothing for drover).
const FLAGS_WITHOUT_ARGUMENT: &str = "46AaCfGgKkMNnqsTtVvXxYy";
/// Flags of `ssh` that take an argument and that drover does not support.
const UNSUPPORTED_FLAGS_WITH_ARGUMENT: &str = "BbcDEeILmOPQRSWw";

impl SshArgs {
    /// Parses one or more OpenSSH argument strings (shell-quoted, as Ansible passes them), the
    /// earlier strings taking precedence. Supported: `-o Key=Value`, `-o 'Key Value'`,
    /// `-o Key Value`, `-oKey=Value`, `-p PORT`, `-i FILE`, `-l USER`, `-J JUMP`, `-F FILE`.
    pub fn parse<'a>(strings: impl IntoIterator<Item = &'a str>) -> Result<Self, SshConfigError> {
        let mut parsed = SshArgs::default();
        for s in strings {
            let tokens = shell_words::split(s).map_err(|e| SshConfigError::Args {
                args: s.to_string(),
                reason: e.to_string(),
            })?;
            parsed.parse_tokens(s, &tokens)?;
        }
        Ok(parsed)
    }

    fn parse_tokens(&mut self, original: &str, tokens: &[String]) -> Result<(), SshConfigError> {
        let mut i = 0;
        while i < tokens.len() {
            let token = &tokens[i];
            i += 1;
            let Some(flags) = token.strip_prefix('-').filter(|f| !f.is_empty()) else {
                self.warnings.push(format!(
                    "ignored '{token}' in ssh arguments '{original}' (not an option)"
                ));
                continue;
            };
            // Flags may be grouped (`-Cq`); an option taking an argument ends the group.
            for (pos, flag) in flags.char_indices() {
                if FLAGS_WITHOUT_ARGUMENT.contains(flag) {
                    continue;
                }
                let attached = &flags[pos + flag.len_utf8()..];
                let argument = if !attached.is_empty() {
                    attached.to_string()
                } else if i < tokens.len() {
                    i += 1;
                    tokens[i - 1].clone()
                } else {
                    return Err(SshConfigError::Args {
                        args: original.to_string(),
                        reason: format!("option -{flag} needs an argument"),
                    });
                };
                match flag {
                    'o' => self.option(&argument, tokens, &mut i)?,
                    'p' => {
                        self.settings.set_option("Port", &argument)?;
                    }
                    'i' => {
                        self.settings.set_option("IdentityFile", &argument)?;
                    }
                    'l' => {
                        self.settings.set_option("User", &argument)?;
                    }
                    'J' => {
                        self.settings.set_option("ProxyJump", &argument)?;
                    }
                    'F' => {
                        if self.config_file.is_none() {
                            self.config_file = Some(expand_tilde(&argument));
                        }
                    }
                    f if UNSUPPORTED_FLAGS_WITH_ARGUMENT.contains(f) => {
                        self.warnings
                            .push(format!("ignored unsupported ssh option -{f} {argument}"));
                    }
                    f => self.warnings.push(format!("ignored unknown ssh flag -{f}")),
                }
                break;
            }
        }
        Ok(())
    }

    /// `-o` with `Key=Value`, `Key Value` in one token, or `Key` then `Value` as the next token.
    fn option(
        &mut self,
        argument: &str,
        tokens: &[String],
        next: &mut usize,
    ) -> Result<(), SshConfigError> {
        let arg = argument.trim();
        let split_at = arg.find(|c: char| c == '=' || c.is_whitespace());
        let (key, value) = match split_at {
            Some(at) => {
                let (k, v) = arg.split_at(at);
                let v = v.trim_start_matches(|c: char| c == '=' || c.is_whitespace());
                (k.to_string(), v.to_string())
            }
            None if *next < tokens.len() && !tokens[*next].starts_with('-') => {
                *next += 1;
                (arg.to_string(), tokens[*next - 1].clone())
            }
            None => {
                return Err(SshConfigError::Args {
                    args: argument.to_string(),
                    reason: format!("-o {arg} has no value"),
                })
            }
        };
        if !self.settings.set_option(&key, &value)? {
            self.warnings
                .push(format!("ignored unsupported ssh option -o {key}={value}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_forms() {
        let a = SshArgs::parse([
            "-o StrictHostKeyChecking=no -oPort=2200 -o 'User deploy' -o ConnectTimeout 7",
        ])
        .unwrap();
        assert_eq!(a.settings.host_key_policy, Some(HostKeyPolicy::Off));
        assert_eq!(a.settings.port, Some(2200));
        assert_eq!(a.settings.user.as_deref(), Some("deploy"));
        assert_eq!(a.settings.connect_timeout, Some(Duration::from_secs(7)));
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    }

    #[test]
    fn short_flags_and_first_value_wins() {
        let a = SshArgs::parse([
            "-p 2222 -l ops -i /k1 -J bastion -F /tmp/cfg -Cq",
            "-p 3333 -i /k2 -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/dev/null",
        ])
        .unwrap();
        let s = &a.settings;
        assert_eq!(s.port, Some(2222));
        assert_eq!(s.user.as_deref(), Some("ops"));
        assert_eq!(
            s.identity_files,
            vec![PathBuf::from("/k1"), PathBuf::from("/k2")]
        );
        assert_eq!(s.proxy_jump.as_deref(), Some("bastion"));
        assert_eq!(a.config_file, Some(PathBuf::from("/tmp/cfg")));
        assert_eq!(s.host_key_policy, Some(HostKeyPolicy::AcceptNew));
        assert_eq!(s.known_hosts_files, Some(vec![PathBuf::from("/dev/null")]));
    }

    #[test]
    fn ansible_default_args_are_silent_and_unknowns_warn() {
        let a = SshArgs::parse([
            "-C -o ControlMaster=auto -o ControlPersist=60s",
            "-o ForwardAgent=yes -L 8080:localhost:80 -o ProxyCommand=\"ssh -W %h:%p bastion\"",
        ])
        .unwrap();
        assert_eq!(a.warnings.len(), 2, "{:?}", a.warnings);
        assert!(a.warnings[0].contains("ForwardAgent"));
        assert!(a.warnings[1].contains("-L 8080:localhost:80"));
        assert_eq!(
            a.settings.proxy_command.as_deref(),
            Some("ssh -W %h:%p bastion")
        );
    }

    #[test]
    fn bad_values_are_errors_naming_the_option() {
        let err = SshArgs::parse(["-o Port=http"]).unwrap_err().to_string();
        assert!(err.contains("Port") && err.contains("http"), "{err}");
        let err = SshArgs::parse(["-o StrictHostKeyChecking=maybe"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("StrictHostKeyChecking"), "{err}");
        assert!(SshArgs::parse(["-p"]).is_err());
        assert!(SshArgs::parse(["-o 'unterminated"]).is_err());
    }

    #[test]
    fn tilde_expands_in_paths() {
        let a = SshArgs::parse(["-i ~/.ssh/deploy"]).unwrap();
        let home = dirs::home_dir().unwrap();
        assert_eq!(a.settings.identity_files, vec![home.join(".ssh/deploy")]);
    }
}
