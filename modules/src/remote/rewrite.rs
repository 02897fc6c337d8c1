//! Rewriting a whole file on the target the way Python modules do it (`open(path, 'w')` or a
//! temporary file moved into place with `atomic_move`): an existing file keeps its owner, group
//! and mode; a new one gets `0666 & ~umask`. The new contents go through stdin into a temporary
//! file beside the destination, which is then renamed over it.

use drover_core::connection::{shell_quote, ExecOutput, ExecRequest, HostConnection};
use drover_core::module::ModuleError;

/// The script that replaces `path` with what it reads on stdin.
pub fn rewrite_script(path: &str) -> String {
    let q = shell_quote(path);
    let (dir, base) = match path.rfind('/') {
        Some(0) => ("/".to_string(), &path[1..]),
        Some(i) => (path[..i].to_string(), &path[i + 1..]),
        None => (".".to_string(), path),
    };
    let template = shell_quote(&format!(
        "{}/.{base}.drover-XXXXXX",
        dir.trim_end_matches('/')
    ));
    format!(
        concat!(
            "t=$(mktemp {template}) || exit 1\n",
            "cat > \"$t\" || {{ rc=$?; rm -f \"$t\"; exit $rc; }}\n",
            "if [ -e {q} ]; then chown --reference={q} \"$t\" 2>/dev/null; chmod --reference={q} \"$t\"; ",
            "else chmod \"$(printf '%o' $((0666 & ~0$(umask))))\" \"$t\"; fi\n",
            "mv -f -- \"$t\" {q} || {{ rc=$?; rm -f \"$t\"; exit $rc; }}\n"
        ),
        template = template,
        q = q
    )
}

/// Replaces `path` on the target with `data` (see the module documentation).
pub async fn rewrite_file(
    conn: &HostConnection,
    path: &str,
    data: &[u8],
) -> Result<ExecOutput, ModuleError> {
    let mut req = ExecRequest::new(rewrite_script(path));
    req.stdin = Some(data.to_vec());
    Ok(conn.exec(req).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_file_is_beside_the_destination() {
        let s = rewrite_script("/etc/locale.gen");
        assert!(s.contains("mktemp /etc/.locale.gen.drover-XXXXXX"), "{s}");
        assert!(s.contains("mv -f -- \"$t\" /etc/locale.gen"), "{s}");
        let s = rewrite_script("/hosts");
        assert!(s.contains("mktemp /.hosts.drover-XXXXXX"), "{s}");
    }
}
