//! Building the shell line a transport runs: working directory, environment and privilege escalation.

/// How to escalate privileges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BecomeMethod {
    /// `sudo -H -S -n -u USER` (the default, as in Ansible).
    #[default]
    Sudo,
    /// `su - USER -c`.
    Su,
}

impl std::str::FromStr for BecomeMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sudo" => Ok(Self::Sudo),
            "su" => Ok(Self::Su),
            other => Err(format!(
                "unsupported become_method '{other}' (supported: sudo, su)"
            )),
        }
    }
}

/// Privilege escalation settings for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Become {
    /// Target user (`root` by default).
    pub user: String,
    /// Escalation method.
    pub method: BecomeMethod,
    /// Extra flags for the escalation tool (`become_flags`).
    pub flags: Option<String>,
    /// Password for sudo/su, when one is needed (`-K`, `ansible_become_password`).
    pub password: Option<String>,
}

impl Default for Become {
    fn default() -> Self {
        Self {
            user: "root".into(),
            method: BecomeMethod::Sudo,
            flags: None,
            password: None,
        }
    }
}

/// A command for a transport to run.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    /// POSIX shell source, run as `sh -c`.
    pub cmdline: String,
    /// Bytes fed to the command's standard input (then closed).
    pub stdin: Option<Vec<u8>>,
    /// Environment variables to set for the command.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: Option<String>,
    /// Privilege escalation for this command.
    pub become_: Option<Become>,
    /// The command is a short script of drover's own that reads no stdin and leaves no
    /// background process behind: a transport may run it on a long-lived shell on the target
    /// instead of starting a fresh session for it (see [`ExecRequest::shared_shell`]).
    pub shared_shell: bool,
}

impl ExecRequest {
    /// A request running `cmdline` with no stdin, env, cwd or become.
    pub fn new(cmdline: impl Into<String>) -> Self {
        Self {
            cmdline: cmdline.into(),
            ..Self::default()
        }
    }

    /// A request for a short script of drover's own (probe, attribute change) that reads no
    /// stdin and starts no background process, so it may run on a long-lived shell.
    pub fn shared_shell(cmdline: impl Into<String>) -> Self {
        Self {
            cmdline: cmdline.into(),
            shared_shell: true,
            ..Self::default()
        }
    }

    /// The script with `cd` and environment applied, without privilege escalation or the
    /// `/bin/sh -c` wrapper (for a transport that already runs inside a POSIX shell).
    pub fn script_with_env(&self) -> String {
        let mut script = String::new();
        if let Some(cwd) = &self.cwd {
            script.push_str(&format!("cd {} && ", shell_quote(cwd)));
        }
        for (k, v) in &self.env {
            script.push_str(&format!("export {}={}; ", k, shell_quote(v)));
        }
        script.push_str(&self.cmdline);
        script
    }

    /// The single shell line a transport hands to the remote login shell: `cd`, environment and
    /// escalation applied. Transports that can exec an argv directly run `sh -c <this>`.
    pub fn to_shell_line(&self) -> String {
        let script = self.script_with_env();
        let inner = format!("/bin/sh -c {}", shell_quote(&script));
        match &self.become_ {
            None => inner,
            Some(b) => match b.method {
                BecomeMethod::Sudo if b.password.is_some() => sudo_with_password(b, &inner),
                BecomeMethod::Sudo => {
                    let flags = b.flags.as_deref().unwrap_or("-H -S -n");
                    format!("sudo {flags} -u {} {inner}", shell_quote(&b.user))
                }
                BecomeMethod::Su => {
                    let flags = b.flags.as_deref().unwrap_or("");
                    format!(
                        "su {flags} {} -c {}",
                        shell_quote(&b.user),
                        shell_quote(&inner)
                    )
                }
            },
        }
    }
}

impl ExecRequest {
    /// What a transport sends on the command's standard input before [`ExecRequest::stdin`]:
    /// the become password and a newline, when the line from [`ExecRequest::to_shell_line`]
    /// reads one (sudo with a password). The password is never part of the command line.
    pub fn become_stdin_prefix(&self) -> Option<Vec<u8>> {
        let b = self.become_.as_ref()?;
        let password = b.password.as_ref()?;
        (b.method == BecomeMethod::Sudo).then(|| format!("{password}\n").into_bytes())
    }

    /// Everything the command's standard input gets: [`ExecRequest::become_stdin_prefix`], then
    /// [`ExecRequest::stdin`] (for transports that send all of it at once).
    pub fn full_stdin(&self) -> Option<Vec<u8>> {
        match (self.become_stdin_prefix(), &self.stdin) {
            (None, None) => None,
            (None, Some(data)) => Some(data.clone()),
            (Some(prefix), None) => Some(prefix),
            (Some(mut prefix), Some(data)) => {
                prefix.extend_from_slice(data);
                Some(prefix)
            }
        }
    }
}

/// `sudo` with a password: the login shell reads the first line of standard input (the
/// password, see [`ExecRequest::become_stdin_prefix`]) into its environment and hands it to sudo
/// through a one-off `SUDO_ASKPASS` helper that prints it — so sudo gets it only when it asks
/// (a cached or NOPASSWD sudo never reads it), the rest of standard input stays the command's,
/// and the password appears in no command line. sudo's `env_reset` keeps it from the command.
fn sudo_with_password(b: &Become, inner: &str) -> String {
    let flags = b.flags.as_deref().unwrap_or("-H");
    let line = format!(
        "IFS= read -r DROVER_BECOME_PASS; export DROVER_BECOME_PASS; \
         _da=$(mktemp) || exit 1; \
         printf '#!/bin/sh\\nprintf \"%%s\\\\n\" \"$DROVER_BECOME_PASS\"\\n' >\"$_da\"; \
         chmod 700 \"$_da\"; \
         SUDO_ASKPASS=\"$_da\" sudo {flags} -A -p '' -u {} {inner}; \
         _drc=$?; rm -f \"$_da\"; exit $_drc",
        shell_quote(&b.user)
    );
    format!("/bin/sh -c {}", shell_quote(&line))
}

/// Quotes `s` for a POSIX shell (single quotes; embedded quotes escaped).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:@%+,".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Quotes a remote path for the shell, leaving a leading `~` or `~user` unquoted so the target
/// shell expands it to a home directory as Ansible does.
pub fn quote_path(path: &str) -> String {
    if let Some(rest) = path.strip_prefix('~') {
        let (user, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return match tail.strip_prefix('/') {
                Some("") => format!("~{user}/"),
                Some(t) => format!("~{user}/{}", shell_quote(t)),
                None => format!("~{user}"),
            };
        }
    }
    shell_quote(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_stays_expandable() {
        assert_eq!(quote_path("~/a b"), "~/'a b'");
        assert_eq!(quote_path("~root"), "~root");
        assert_eq!(quote_path("~/"), "~/");
        assert_eq!(quote_path("/tmp/x y"), "'/tmp/x y'");
        assert_eq!(quote_path("~$(x)/y"), "'~$(x)/y'");
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(shell_quote("/etc/hosts"), "/etc/hosts");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn plain_command_runs_under_sh() {
        assert_eq!(
            ExecRequest::new("echo hi").to_shell_line(),
            "/bin/sh -c 'echo hi'"
        );
    }

    #[test]
    fn env_is_exported_for_the_whole_script() {
        let mut r = ExecRequest::new("env");
        r.env = vec![("LANG".into(), "C".into()), ("X".into(), "a b".into())];
        assert_eq!(
            r.to_shell_line(),
            "/bin/sh -c 'export LANG=C; export X='\\''a b'\\''; env'"
        );
    }

    #[test]
    fn sudo_with_a_password_reads_it_from_stdin_only() {
        let mut req = ExecRequest::new("id -u");
        req.become_ = Some(Become {
            password: Some("pw'secret".into()),
            ..Become::default()
        });
        let line = req.to_shell_line();
        assert!(!line.contains("secret"), "{line}");
        assert!(line.starts_with("/bin/sh -c "), "{line}");
        assert!(line.contains("sudo -H -A -p "), "{line}");
        assert_eq!(req.become_stdin_prefix(), Some(b"pw'secret\n".to_vec()));
        req.stdin = Some(b"data".to_vec());
        assert_eq!(req.full_stdin(), Some(b"pw'secret\ndata".to_vec()));
        req.become_ = Some(Become::default());
        assert_eq!(req.become_stdin_prefix(), None);
        assert_eq!(req.full_stdin(), Some(b"data".to_vec()));
    }

    #[test]
    fn sudo_wraps_the_whole_script() {
        let mut r = ExecRequest::new("id -u");
        r.cwd = Some("/tmp".into());
        r.become_ = Some(Become::default());
        assert_eq!(
            r.to_shell_line(),
            "sudo -H -S -n -u root /bin/sh -c 'cd /tmp && id -u'"
        );
    }
}
