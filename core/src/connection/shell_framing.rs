//! The framing the long-lived shells (the SSH shared shell, the container shells) use:
//! each script's output ends with a status line `\n<marker> <rc>\n` on stdout and `\n<marker>\n`
//! on stderr, with a marker random per command.

use super::{BecomeMethod, ExecRequest};

/// The line a long-lived shell runs for `req`, when it may run there: a script of drover's own
/// ([`ExecRequest::shared_shell`]) without stdin, unescalated or escalated with `sudo` without a
/// password (which reads no stdin; anything else may prompt). `None`: it needs a session of its
/// own.
pub(crate) fn shared_shell_line(req: &ExecRequest) -> Option<String> {
    if !req.shared_shell || req.stdin.is_some() {
        return None;
    }
    match &req.become_ {
        None => Some(req.script_with_env()),
        Some(b) if b.method == BecomeMethod::Sudo && b.password.is_none() => {
            Some(req.to_shell_line())
        }
        Some(_) => None,
    }
}

/// Position of `needle` in `hay` at or after `from`.
pub(crate) fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Where the status line `\n<marker> <rc>\n` starts, and the status, once it is complete.
pub(crate) fn find_status(hay: &[u8], from: usize, needle: &[u8]) -> Option<(usize, i32)> {
    let at = find(hay, from, needle)?;
    let rest = &hay[at + needle.len()..];
    let nl = rest.iter().position(|b| *b == b'\n')?;
    let rc = std::str::from_utf8(&rest[..nl]).ok()?.trim().parse().ok()?;
    Some((at, rc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_is_found_once_complete() {
        let m = b"\n__m ";
        assert_eq!(find_status(b"out\n__m 3", 0, m), None);
        assert_eq!(find_status(b"out\n__m 3\n", 0, m), Some((3, 3)));
        assert_eq!(find_status(b"no newline\n__m 0\n", 0, m), Some((10, 0)));
        assert_eq!(find(b"err\n__m\n", 0, b"\n__m\n"), Some(3));
    }
}
