//! File modes: numeric (`0644`) and symbolic (`u+rwx,g-w,o=`) as `chmod` and Ansible accept them.

/// A requested file mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Permission bits (`0o644`), including setuid/setgid/sticky.
    Octal(u32),
    /// A symbolic mode, applied relative to the current mode (`u+x,go-w`).
    Symbolic(String),
    /// `preserve` (copy/template): keep the source file's mode.
    Preserve,
}

/// The umask assumed for symbolic clauses without a user class (`+x`), as `chmod` applies it.
const DEFAULT_UMASK: u32 = 0o022;

impl Mode {
    /// Parses a mode string: octal digits, `preserve`, or a symbolic mode (validated).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "preserve" {
            return Ok(Self::Preserve);
        }
        if !s.is_empty() && s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            let n = u32::from_str_radix(s, 8).map_err(|e| format!("invalid mode '{s}': {e}"))?;
            if n > 0o7777 {
                return Err(format!("invalid mode '{s}': more than 4 octal digits"));
            }
            return Ok(Self::Octal(n));
        }
        // Validate by applying it once.
        apply_symbolic(s, 0, false)
            .map(|_| Self::Symbolic(s.to_string()))
            .map_err(|e| format!("invalid mode '{s}': {e}"))
    }

    /// The permission bits this mode gives a file whose current bits are `current`.
    pub fn resolve(&self, current: u32, is_dir: bool) -> Result<u32, String> {
        match self {
            Self::Octal(m) => Ok(*m),
            Self::Symbolic(s) => apply_symbolic(s, current & 0o7777, is_dir),
            Self::Preserve => Ok(current & 0o7777),
        }
    }

    /// The argument to pass to `chmod` (octal digits or the symbolic text).
    pub fn chmod_arg(&self) -> Option<String> {
        match self {
            Self::Octal(m) => Some(chmod_octal(*m)),
            Self::Symbolic(s) => Some(s.clone()),
            Self::Preserve => None,
        }
    }
}

/// Octal permission bits as an argument for `chmod` that sets exactly those bits: five digits
/// (`00755`), because GNU chmod keeps a directory's setuid/setgid bits for a shorter numeric mode
/// while ansible-core's `os.chmod` clears them (a directory made inside a setgid one, like
/// `/etc/bind`, would otherwise never reach `0755` and report `changed` on every run).
pub fn chmod_octal(bits: u32) -> String {
    format!("0{:04o}", bits & 0o7777)
}

/// Formats permission bits as Ansible's file modules report them: `"0644"`, `"04755"` (a `0`
/// prefix before at least three octal digits).
pub fn format_mode(bits: u32) -> String {
    format!("0{:03o}", bits & 0o7777)
}

/// Formats permission bits as Ansible's `stat` reports them: four octal digits (`"4755"`).
pub fn format_stat_mode(bits: u32) -> String {
    format!("{:04o}", bits & 0o7777)
}

const WHO_BITS: [(char, u32, u32); 3] = [
    // class, rwx shift, special bit (setuid / setgid / sticky)
    ('u', 6, 0o4000),
    ('g', 3, 0o2000),
    ('o', 0, 0o1000),
];

/// Applies a symbolic mode (`u+rwx,g-w,o=r,a+X`) to `current`, as `chmod` does.
pub fn apply_symbolic(spec: &str, current: u32, is_dir: bool) -> Result<u32, String> {
    let mut mode = current;
    for clause in spec.split(',') {
        let chars: Vec<char> = clause.chars().collect();
        let mut i = 0;
        let mut who = Vec::new();
        while i < chars.len() && "ugoa".contains(chars[i]) {
            if chars[i] == 'a' {
                who.extend(['u', 'g', 'o']);
            } else {
                who.push(chars[i]);
            }
            i += 1;
        }
        let use_umask = who.is_empty();
        if use_umask {
            who.extend(['u', 'g', 'o']);
        }
        if i >= chars.len() {
            return Err(format!("clause '{clause}' has no operator"));
        }
        while i < chars.len() {
            let op = chars[i];
            if !"+-=".contains(op) {
                return Err(format!("unexpected '{}' in clause '{clause}'", chars[i]));
            }
            i += 1;
            let start = i;
            while i < chars.len() && !"+-=".contains(chars[i]) {
                i += 1;
            }
            let perms: String = chars[start..i].iter().collect();
            mode = apply_op(mode, &who, op, &perms, is_dir, use_umask, clause)?;
        }
    }
    Ok(mode)
}

fn apply_op(
    mode: u32,
    who: &[char],
    op: char,
    perms: &str,
    is_dir: bool,
    use_umask: bool,
    clause: &str,
) -> Result<u32, String> {
    let original = mode;
    // A permission copy (`g=u`) takes the rwx bits of another class.
    let copied = if perms.len() == 1 && "ugo".contains(perms) {
        let (_, shift, _) = WHO_BITS
            .iter()
            .find(|(c, _, _)| perms.starts_with(*c))
            .copied()
            .unwrap_or(('o', 0, 0));
        Some((original >> shift) & 0o7)
    } else {
        None
    };
    let mut bits = 0u32;
    for (class, shift, special) in WHO_BITS {
        if !who.contains(&class) {
            continue;
        }
        let mut rwx = 0;
        let mut extra = 0;
        if let Some(c) = copied {
            rwx = c;
        } else {
            for p in perms.chars() {
                match p {
                    'r' => rwx |= 4,
                    'w' => rwx |= 2,
                    'x' => rwx |= 1,
                    'X' => {
                        if is_dir || original & 0o111 != 0 {
                            rwx |= 1
                        }
                    }
                    's' if class != 'o' => extra |= special,
                    's' => {}
                    't' if class == 'o' => extra |= special,
                    't' => {}
                    other => {
                        return Err(format!("unknown permission '{other}' in clause '{clause}'"))
                    }
                }
            }
        }
        bits |= (rwx << shift) | extra;
    }
    if use_umask {
        bits &= !DEFAULT_UMASK;
    }
    Ok(match op {
        '+' => mode | bits,
        '-' => mode & !bits,
        _ => {
            let mut clear = 0;
            for (class, shift, special) in WHO_BITS {
                if who.contains(&class) {
                    clear |= 0o7 << shift;
                    if !(is_dir && class != 'o') {
                        clear |= special;
                    }
                }
            }
            (mode & !clear) | bits
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_octal_and_symbolic() {
        assert_eq!(Mode::parse("0644").unwrap(), Mode::Octal(0o644));
        assert_eq!(Mode::parse("755").unwrap(), Mode::Octal(0o755));
        assert_eq!(Mode::parse("04755").unwrap(), Mode::Octal(0o4755));
        assert_eq!(Mode::parse("preserve").unwrap(), Mode::Preserve);
        assert!(matches!(
            Mode::parse("u+rwx,g-w").unwrap(),
            Mode::Symbolic(_)
        ));
        assert!(Mode::parse("u+q").is_err());
        assert!(Mode::parse("u").is_err());
        assert!(Mode::parse("077777").is_err());
    }

    #[test]
    fn symbolic_matches_chmod() {
        assert_eq!(apply_symbolic("u+x", 0o644, false).unwrap(), 0o744);
        assert_eq!(apply_symbolic("u=rw,g=r,o=", 0o777, false).unwrap(), 0o640);
        assert_eq!(apply_symbolic("go-w", 0o666, false).unwrap(), 0o644);
        assert_eq!(apply_symbolic("a+X", 0o644, false).unwrap(), 0o644);
        assert_eq!(apply_symbolic("a+X", 0o644, true).unwrap(), 0o755);
        assert_eq!(apply_symbolic("a+X", 0o744, false).unwrap(), 0o755);
        assert_eq!(apply_symbolic("+w", 0o444, false).unwrap(), 0o644);
        // values checked against ansible-core 2.19's file module
        assert_eq!(apply_symbolic("+x", 0o644, false).unwrap(), 0o755);
        assert_eq!(apply_symbolic("=r", 0o777, false).unwrap(), 0o444);
        assert_eq!(apply_symbolic("-w", 0o666, false).unwrap(), 0o466);
        assert_eq!(apply_symbolic("o=u-w", 0o644, false).unwrap(), 0o644);
        assert_eq!(apply_symbolic("u=rwx", 0o4755, false).unwrap(), 0o755);
        assert_eq!(apply_symbolic("u+r-w", 0o644, false).unwrap(), 0o444);
        assert_eq!(apply_symbolic("u+s,o+t", 0o755, false).unwrap(), 0o5755);
        assert_eq!(apply_symbolic("g=u", 0o700, false).unwrap(), 0o770);
        assert_eq!(apply_symbolic("u+r-w", 0o200, false).unwrap(), 0o400);
    }

    #[test]
    fn formats_like_ansible() {
        assert_eq!(format_mode(0o100644), "0644");
        assert_eq!(format_mode(0o4755), "04755");
        assert_eq!(format_stat_mode(0o4755), "4755");
        assert_eq!(format_stat_mode(0o644), "0644");
    }
}
