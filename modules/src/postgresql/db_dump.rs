//! `postgresql_db`'s `state: dump` and `state: restore`: the shell lines running `pg_dump`,
//! `pg_restore` or `psql` on the target, chosen by the target file's suffix as community.postgresql
//! does (`.sql` plain, `.tar` tar, `.pgc` custom, `.dir` directory, `.gz`/`.bz2`/`.xz` a plain
//! dump through a compressor). The connection string carries no password: it is in the
//! script's environment (see [`super::common::Psql`]).

use drover_core::connection::shell_quote;

/// What the target file's suffix says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    /// Plain SQL (`.sql`, or any other suffix).
    Plain,
    /// `pg_dump --format=t` (`.tar`).
    Tar,
    /// `pg_dump --format=c` (`.pgc`).
    Custom,
    /// `pg_dump --format=d` (`.dir`).
    Directory,
    /// Plain SQL through a compressor (`.gz`, `.bz2`, `.xz`): (compress, decompress) programs.
    Compressed(&'static str, &'static str),
}

impl DumpFormat {
    /// The format of `target`, from its suffix.
    pub fn of(target: &str) -> Self {
        let name = target.rsplit('/').next().unwrap_or(target);
        match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("tar") => Self::Tar,
            Some("pgc") => Self::Custom,
            Some("dir") => Self::Directory,
            Some("gz") => Self::Compressed("gzip", "zcat"),
            Some("bz2") => Self::Compressed("bzip2", "bzcat"),
            Some("xz") => Self::Compressed("xz", "xzcat"),
            _ => Self::Plain,
        }
    }
}

/// Runs `producer | consumer` and exits with the first failing status of the two (POSIX `sh`
/// has no `pipefail`).
fn pipeline(producer: &str, consumer: &str) -> String {
    format!(
        "drover_rc=$(mktemp) || exit 1\n\
         {{ {producer}; echo $? >\"$drover_rc\"; }} | {consumer}\n\
         drover_c=$?; drover_p=$(cat \"$drover_rc\"); rm -f \"$drover_rc\"\n\
         [ \"$drover_p\" = 0 ] || exit \"$drover_p\"\nexit $drover_c\n"
    )
}

/// Extra options as written by the user (shell words, as community.postgresql passes them).
fn extra(opts: &[Option<&str>]) -> String {
    opts.iter()
        .flatten()
        .filter(|o| !o.trim().is_empty())
        .map(|o| format!(" {}", o.trim()))
        .collect()
}

/// The dump command (as shown in `cmd`/`executed_commands`) and the script running it.
pub fn dump_script(
    conninfo: &str,
    target: &str,
    dump_extra_args: Option<&str>,
    target_opts: Option<&str>,
) -> (String, String) {
    let fmt = DumpFormat::of(target);
    let mut cmd = format!("pg_dump --dbname={}", shell_quote(conninfo));
    match fmt {
        DumpFormat::Tar => cmd.push_str(" --format=t"),
        DumpFormat::Custom => cmd.push_str(" --format=c"),
        DumpFormat::Directory => cmd.push_str(" --format=d"),
        _ => {}
    }
    cmd.push_str(&extra(&[dump_extra_args, target_opts]));
    let t = shell_quote(target);
    let (cmd, script) = match fmt {
        DumpFormat::Compressed(zip, _) => {
            let zip = if zip == "gzip" {
                "$(command -v pigz || echo gzip)"
            } else {
                zip
            };
            let shown = format!("{cmd} | {zip} > {t}");
            (shown, pipeline(&cmd, &format!("{zip} > {t}")))
        }
        DumpFormat::Directory => {
            let c = format!("{cmd} -f {t}");
            (c.clone(), format!("{c}\n"))
        }
        _ => {
            let c = format!("{cmd} > {t}");
            (c.clone(), format!("{c}\n"))
        }
    };
    (cmd, script)
}

/// The restore command (as shown) and the script running it.
pub fn restore_script(conninfo: &str, target: &str, target_opts: Option<&str>) -> (String, String) {
    let fmt = DumpFormat::of(target);
    let db = format!("--dbname={}", shell_quote(conninfo));
    let t = shell_quote(target);
    let opts = extra(&[target_opts]);
    let cmd = match fmt {
        DumpFormat::Plain if target.ends_with(".sql") => format!("psql {db} --file={t}{opts}"),
        DumpFormat::Plain => format!("psql {db}{opts} < {t}"),
        DumpFormat::Tar => format!("pg_restore {db} --format=Tar{opts} < {t}"),
        DumpFormat::Custom => format!("pg_restore {db} --format=Custom{opts} < {t}"),
        DumpFormat::Directory => format!("pg_restore {db} --format=Directory{opts} {t}"),
        DumpFormat::Compressed(_, unzip) => {
            let psql = format!("psql {db}{opts}");
            let shown = format!("{unzip} {t} | {psql}");
            return (shown, pipeline(&format!("{unzip} {t}"), &psql));
        }
    };
    (cmd.clone(), format!("{cmd}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_choose_the_format() {
        assert_eq!(DumpFormat::of("/tmp/a.sql"), DumpFormat::Plain);
        assert_eq!(DumpFormat::of("/tmp/a.tar"), DumpFormat::Tar);
        assert_eq!(DumpFormat::of("/tmp/a.pgc"), DumpFormat::Custom);
        assert_eq!(DumpFormat::of("/tmp/x.d/a"), DumpFormat::Plain);
        assert!(matches!(
            DumpFormat::of("a.sql.gz"),
            DumpFormat::Compressed("gzip", "zcat")
        ));
    }

    #[test]
    fn scripts_name_the_tools() {
        let (cmd, _) = dump_script("dbname='a'", "/tmp/a.pgc", None, Some("-t t1"));
        assert_eq!(
            cmd,
            "pg_dump --dbname='dbname='\\''a'\\''' --format=c -t t1 > /tmp/a.pgc"
        );
        let (cmd, script) = restore_script("dbname='a'", "/tmp/a.sql.xz", None);
        assert!(cmd.starts_with("xzcat /tmp/a.sql.xz | psql"));
        assert!(script.contains("exit \"$drover_p\""));
        let (cmd, _) = restore_script("x", "/tmp/a.tar", None);
        assert_eq!(cmd, "pg_restore --dbname=x --format=Tar < /tmp/a.tar");
    }
}
