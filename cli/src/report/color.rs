//! Colour as ansible-playbook's default callback uses it: when (a terminal on standard output,
//! `NO_COLOR`, `ANSIBLE_NOCOLOR`, `ANSIBLE_FORCE_COLOR`, `ansible.cfg`, `--no-color`) and which
//! (the `[colors]` section and `ANSIBLE_COLOR_*` variables, ansible's defaults otherwise).

use drover_core::config::{parse_bool, AnsibleConfig};

/// What a piece of output is, which decides its colour (ansible's `COLOR_*` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `ok:` lines, `rescued=` in the recap.
    Ok,
    /// `changed:` lines.
    Changed,
    /// Failures and `[ERROR]:` blocks.
    Error,
    /// `skipping:` and `...ignoring` lines.
    Skip,
    /// `UNREACHABLE!` lines.
    Unreachable,
    /// `[WARNING]:` lines and `ignored=` in the recap.
    Warn,
    /// `[DEPRECATION WARNING]:` lines.
    Deprecate,
    /// `FAILED - RETRYING` lines.
    Debug,
    /// Verbose (`-v`) messages.
    Verbose,
    /// `included:` lines.
    Included,
    /// Added lines of a diff.
    DiffAdd,
    /// Removed lines of a diff.
    DiffRemove,
    /// `@@` lines of a diff.
    DiffLines,
    /// drover's own timing lines (`task time:`).
    Timing,
}

impl Role {
    /// ansible's setting name (`[colors]` key, `ANSIBLE_COLOR_<KEY>`) and its default colour.
    fn setting(self) -> (&'static str, &'static str) {
        match self {
            Role::Ok => ("ok", "green"),
            Role::Changed => ("changed", "yellow"),
            Role::Error => ("error", "red"),
            Role::Skip => ("skip", "cyan"),
            Role::Unreachable => ("unreachable", "bright red"),
            Role::Warn => ("warn", "bright purple"),
            Role::Deprecate => ("deprecate", "purple"),
            Role::Debug => ("debug", "dark gray"),
            Role::Verbose => ("verbose", "blue"),
            Role::Included => ("included", "cyan"),
            Role::DiffAdd => ("diff_add", "green"),
            Role::DiffRemove => ("diff_remove", "red"),
            Role::DiffLines => ("diff_lines", "cyan"),
            Role::Timing => ("drover_timing", "purple"),
        }
    }

    const ALL: [Role; 14] = [
        Role::Ok,
        Role::Changed,
        Role::Error,
        Role::Skip,
        Role::Unreachable,
        Role::Warn,
        Role::Deprecate,
        Role::Debug,
        Role::Verbose,
        Role::Included,
        Role::DiffAdd,
        Role::DiffRemove,
        Role::DiffLines,
        Role::Timing,
    ];
}

/// The SGR parameters of one of ansible's colour names (`bright red`, `color202`, `rgb520`,
/// `gray7`), or `None` for a name ansible does not know.
pub fn sgr(name: &str) -> Option<String> {
    let name = name.trim().trim_matches(|c| c == '"' || c == '\'');
    let fixed = match name {
        "black" => "0;30",
        "bright gray" => "0;37",
        "blue" => "0;34",
        "white" => "1;37",
        "green" => "0;32",
        "bright blue" => "1;34",
        "cyan" => "0;36",
        "bright green" => "1;32",
        "red" => "0;31",
        "bright cyan" => "1;36",
        "purple" | "magenta" => "0;35",
        "bright red" => "1;31",
        "yellow" => "0;33",
        "bright purple" | "bright magenta" => "1;35",
        "dark gray" => "1;30",
        "bright yellow" => "1;33",
        "normal" => "0",
        _ => "",
    };
    if !fixed.is_empty() {
        return Some(fixed.to_string());
    }
    let number = |s: &str| s.parse::<u32>().ok();
    if let Some(n) = name.strip_prefix("color").and_then(number) {
        return Some(format!("38;5;{n}"));
    }
    if let Some(n) = name.strip_prefix("gray").and_then(number) {
        return Some(format!("38;5;{}", 232 + n));
    }
    let rgb: Vec<u32> = name
        .strip_prefix("rgb")
        .filter(|d| d.len() == 3)
        .map(|d| d.chars().filter_map(|c| c.to_digit(10)).collect())
        .unwrap_or_default();
    match rgb[..] {
        [r, g, b] if r <= 5 && g <= 5 && b <= 5 => {
            Some(format!("38;5;{}", 16 + 36 * r + 6 * g + b))
        }
        _ => None,
    }
}

/// Whether output is coloured, and the colour of each [`Role`].
#[derive(Debug, Clone)]
pub struct Colors {
    enabled: bool,
    codes: Vec<(Role, String)>,
}

/// What decides whether colour is on, besides the configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminal {
    /// Standard output is a terminal.
    pub stdout_is_terminal: bool,
    /// `--no-color` was given.
    pub no_color_flag: bool,
}

impl Colors {
    /// No colour at all.
    pub fn off() -> Self {
        Self::resolve(&AnsibleConfig::default(), Terminal::default(), |_| None)
    }

    /// Colour as ansible-playbook decides it, reading the environment through `env`:
    /// off with `--no-color`; otherwise forced on by `ANSIBLE_FORCE_COLOR` (or `force_color`
    /// in ansible.cfg); otherwise off with `NO_COLOR` (any non-empty value), `ANSIBLE_NOCOLOR`
    /// (or `nocolor`), when standard output is not a terminal, or when `TERM` is unset or
    /// `dumb` (a terminal without colours); on otherwise.
    pub fn resolve(
        cfg: &AnsibleConfig,
        terminal: Terminal,
        env: impl Fn(&str) -> Option<String>,
    ) -> Self {
        // An environment variable wins over ansible.cfg, as in ansible's configuration.
        let setting = |var: &str, ini: &str| {
            env(var)
                .and_then(|v| parse_bool(&v))
                .or_else(|| cfg.ini.get(ini).and_then(|v| parse_bool(v)))
                .unwrap_or(false)
        };
        let no_color = env("NO_COLOR").is_some_and(|v| !v.is_empty())
            || setting("ANSIBLE_NOCOLOR", "defaults.nocolor");
        let force = setting("ANSIBLE_FORCE_COLOR", "defaults.force_color");
        let term = env("TERM").unwrap_or_default();
        let capable = terminal.stdout_is_terminal && !term.is_empty() && term != "dumb";
        let enabled = !terminal.no_color_flag && (force || (!no_color && capable));
        let codes = Role::ALL
            .iter()
            .map(|&role| {
                let (key, default) = role.setting();
                let chosen = env(&format!("ANSIBLE_COLOR_{}", key.to_ascii_uppercase()))
                    .or_else(|| cfg.ini.get(&format!("colors.{key}")).cloned());
                let code = chosen
                    .and_then(|name| sgr(&name))
                    .or_else(|| sgr(default))
                    .unwrap_or_default();
                (role, code)
            })
            .collect();
        Self { enabled, codes }
    }

    /// Whether colour is on.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// `text` in `role`'s colour, each line wrapped on its own (as ansible's `stringc`), or
    /// `text` unchanged when colour is off.
    pub fn paint(&self, role: Role, text: &str) -> String {
        if !self.enabled {
            return text.to_string();
        }
        let code = self
            .codes
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, c)| c.as_str())
            .unwrap_or("0");
        text.split('\n')
            .map(|line| format!("\x1b[{code}m{line}\x1b[0m"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A recap counter (`ok=3   `), coloured when it is not zero (ansible's `colorize`).
    pub fn counter(&self, lead: &str, n: u32, role: Role) -> String {
        let text = format!("{lead}={n:<4}");
        if n != 0 {
            self.paint(role, &text)
        } else {
            text
        }
    }

    /// A recap host name padded to 26 columns, coloured by its worst outcome (ansible's
    /// `hostcolor`: the padding stays outside the colour).
    pub fn recap_host(&self, host: &str, role: Role) -> String {
        if !self.enabled {
            return format!("{host:<26}");
        }
        let painted = self.paint(role, host);
        let width = 26 + painted.len() - host.len();
        format!("{painted:<width$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    const TTY: Terminal = Terminal {
        stdout_is_terminal: true,
        no_color_flag: false,
    };

    #[test]
    fn on_for_colour_terminals_only() {
        let cfg = AnsibleConfig::default();
        assert!(Colors::resolve(&cfg, TTY, env(&[("TERM", "xterm")])).enabled());
        assert!(!Colors::resolve(&cfg, TTY, env(&[("TERM", "dumb")])).enabled());
        assert!(!Colors::resolve(&cfg, TTY, env(&[])).enabled());
        let piped = Terminal::default();
        assert!(!Colors::resolve(&cfg, piped, env(&[("TERM", "xterm")])).enabled());
    }

    #[test]
    fn no_color_settings_and_force() {
        let cfg = AnsibleConfig::default();
        for off in [
            &[("TERM", "xterm"), ("NO_COLOR", "1")][..],
            &[("TERM", "xterm"), ("NO_COLOR", "0")][..],
            &[("TERM", "xterm"), ("ANSIBLE_NOCOLOR", "yes")][..],
        ] {
            assert!(!Colors::resolve(&cfg, TTY, env(off)).enabled(), "{off:?}");
        }
        assert!(Colors::resolve(&cfg, TTY, env(&[("TERM", "xterm"), ("NO_COLOR", "")])).enabled());
        let mut ini = AnsibleConfig::default();
        ini.ini.insert("defaults.nocolor".into(), "True".into());
        assert!(!Colors::resolve(&ini, TTY, env(&[("TERM", "xterm")])).enabled());
        // The variable wins over the file.
        let e = [("TERM", "xterm"), ("ANSIBLE_NOCOLOR", "0")];
        assert!(Colors::resolve(&ini, TTY, env(&e)).enabled());
        // Forced: even piped and with NO_COLOR; never against --no-color.
        let piped = Terminal::default();
        let forced = [("ANSIBLE_FORCE_COLOR", "1"), ("NO_COLOR", "1")];
        assert!(Colors::resolve(&cfg, piped, env(&forced)).enabled());
        let flag = Terminal {
            no_color_flag: true,
            ..TTY
        };
        assert!(!Colors::resolve(&cfg, flag, env(&forced)).enabled());
        let mut ini = AnsibleConfig::default();
        ini.ini.insert("defaults.force_color".into(), "yes".into());
        assert!(Colors::resolve(&ini, piped, env(&[])).enabled());
    }

    #[test]
    fn paints_each_line_and_recap_like_ansible() {
        let c = Colors::resolve(
            &AnsibleConfig::default(),
            TTY,
            env(&[("TERM", "xterm"), ("ANSIBLE_COLOR_OK", "bright blue")]),
        );
        assert_eq!(
            c.paint(Role::Error, "a\nb"),
            "\x1b[0;31ma\x1b[0m\n\x1b[0;31mb\x1b[0m"
        );
        assert_eq!(c.paint(Role::Ok, "x"), "\x1b[1;34mx\x1b[0m");
        assert_eq!(c.paint(Role::Unreachable, "x"), "\x1b[1;31mx\x1b[0m");
        assert_eq!(c.counter("failed", 0, Role::Error), "failed=0   ");
        assert_eq!(
            c.counter("ignored", 1, Role::Warn),
            "\x1b[1;35mignored=1   \x1b[0m"
        );
        assert_eq!(
            c.recap_host("h1", Role::Changed),
            format!("\x1b[0;33mh1\x1b[0m{}", " ".repeat(24))
        );
        assert_eq!(
            Colors::off().recap_host("h1", Role::Ok),
            format!("h1{}", " ".repeat(24))
        );
    }

    #[test]
    fn colour_names() {
        assert_eq!(sgr("color202").as_deref(), Some("38;5;202"));
        assert_eq!(sgr("rgb520").as_deref(), Some("38;5;208"));
        assert_eq!(sgr("gray7").as_deref(), Some("38;5;239"));
        assert_eq!(sgr("no such colour"), None);
    }
}
