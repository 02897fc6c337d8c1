//! Walking a controller-side directory that `copy` puts on a target, as ansible-core's action
//! plugin walks it: which entries are files to copy, directories to create and symlinks to
//! recreate, with their paths relative to `dest`.
//!
//! A source without a trailing `/` is copied as a directory named like it inside `dest`; with
//! one, only its contents are. With `local_follow`, a symlink to a file is copied as the file it
//! points to and a symlink to a directory is walked as a directory, unless that directory is the
//! source itself or one of the directories the walk is inside (a loop): those, symlinks to
//! nothing, and every symlink without `local_follow` are recreated as symlinks.

use std::collections::HashSet;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A device and inode, identifying a directory however it is reached.
type DirId = (u64, u64);

/// The entries of a walked source tree, in ansible-core's order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SourceTree {
    /// Files to copy: controller path to read (a symlink already resolved) and relative dest.
    pub files: Vec<(PathBuf, String)>,
    /// Directories to create: controller path and relative dest.
    pub dirs: Vec<(PathBuf, String)>,
    /// Symlinks to recreate: the link's target as written, and relative dest.
    pub links: Vec<(String, String)>,
}

fn dir_id(path: &Path) -> io::Result<DirId> {
    let m = std::fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

fn join_rel(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}/{name}")
    }
}

/// Walks `top`: with `trailing_slash` its contents go straight into `dest`, else into
/// `dest/<top's name>`.
pub fn walk_source(top: &Path, trailing_slash: bool, local_follow: bool) -> io::Result<SourceTree> {
    let base = if trailing_slash {
        String::new()
    } else {
        top.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut tree = SourceTree::default();
    let parents = HashSet::from([dir_id(top)?]);
    walk_dir(&mut tree, top, &base, &parents, local_follow)?;
    Ok(tree)
}

fn read_link_text(path: &Path) -> io::Result<String> {
    Ok(std::fs::read_link(path)?.to_string_lossy().into_owned())
}

/// Directories between `path`'s parent and the first one already in `parents` (ancestors the
/// walk reached `path` through); they are what a symlink pointing back into them would loop on.
fn new_parents(path: &Path, parents: &HashSet<DirId>) -> HashSet<DirId> {
    let mut out = HashSet::new();
    for ancestor in path.ancestors().skip(1) {
        let Ok(id) = dir_id(ancestor) else { break };
        if parents.contains(&id) {
            break;
        }
        out.insert(id);
    }
    out
}

fn walk_dir(
    tree: &mut SourceTree,
    dir: &Path,
    rel_base: &str,
    parents: &HashSet<DirId>,
    follow: bool,
) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let (subdirs, files): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .partition(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir()));
    for e in files {
        let path = e.path();
        let rel = join_rel(rel_base, &e.file_name().to_string_lossy());
        if e.file_type()?.is_symlink() {
            match std::fs::canonicalize(&path) {
                Ok(real) if follow && real.is_file() => tree.files.push((real, rel)),
                _ => tree.links.push((read_link_text(&path)?, rel)),
            }
        } else {
            tree.files.push((path, rel));
        }
    }
    let mut plain = Vec::new();
    for e in subdirs {
        let path = e.path();
        let rel = join_rel(rel_base, &e.file_name().to_string_lossy());
        if !e.file_type()?.is_symlink() {
            tree.dirs.push((path.clone(), rel.clone()));
            plain.push((path, rel));
            continue;
        }
        if !follow {
            tree.links.push((read_link_text(&path)?, rel));
            continue;
        }
        let real = std::fs::canonicalize(&path)?;
        let id = dir_id(&real)?;
        if parents.contains(&id) {
            tree.links.push((read_link_text(&path)?, rel));
            continue;
        }
        let added = new_parents(&path, parents);
        if added.contains(&id) {
            tree.links.push((read_link_text(&path)?, rel));
            continue;
        }
        tree.dirs.push((real.clone(), rel.clone()));
        let inner: HashSet<DirId> = parents.union(&added).copied().collect();
        walk_dir(tree, &real, &rel, &inner, follow)?;
    }
    for (path, rel) in plain {
        walk_dir(tree, &path, &rel, parents, follow)?;
    }
    Ok(())
}

/// Why a controller-side source could not be read: a message for a failed result.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// Reads a controller-side source file; with `decrypt`, a vault-encrypted one is decrypted with
/// the installed vault passwords, as ansible-core's loader does (failing as it words it when
/// none was given).
pub fn read_source(path: &Path, decrypt: bool) -> Result<Vec<u8>, SourceError> {
    let bytes = std::fs::read(path)
        .map_err(|e| SourceError(format!("could not read {}: {e}", path.display())))?;
    let header = drover_core::vault::VAULT_HEADER.as_bytes();
    let trimmed = bytes.trim_ascii_start();
    if !decrypt || !trimmed.starts_with(header) {
        return Ok(bytes);
    }
    let what = path.display().to_string();
    let text = String::from_utf8_lossy(&bytes);
    drover_core::vault::installed_secrets()
        .decrypt(&text, &what)
        .map_err(|e| match e {
            drover_core::vault::VaultError::NoSecrets { .. } => SourceError(format!(
                "A vault password or secret must be specified to decrypt {what}"
            )),
            other => SourceError(other.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn vault_sources_need_a_password_unless_decrypt_is_off() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("v");
        let secret = drover_core::vault::VaultSecret::new("default", "pw");
        std::fs::write(&path, drover_core::vault::encrypt(b"plain", &secret)).unwrap();
        let err = read_source(&path, true).unwrap_err().0;
        assert_eq!(
            err,
            format!(
                "A vault password or secret must be specified to decrypt {}",
                path.display()
            )
        );
        let raw = read_source(&path, false).unwrap();
        assert!(raw.starts_with(b"$ANSIBLE_VAULT"));
    }

    fn rels<T>(v: &[(T, String)]) -> Vec<&str> {
        v.iter().map(|(_, r)| r.as_str()).collect()
    }

    #[test]
    fn walks_like_the_action_plugin() {
        let t = tempfile::tempdir().unwrap();
        let top = t.path().join("src");
        let out = t.path().join("outside");
        std::fs::create_dir_all(top.join("a/b")).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(top.join("f"), "f").unwrap();
        std::fs::write(top.join("a/b/g"), "g").unwrap();
        std::fs::write(out.join("h"), "h").unwrap();
        symlink("../f", top.join("a/lf")).unwrap();
        symlink("missing", top.join("a/broken")).unwrap();
        symlink("..", top.join("a/loop")).unwrap();
        symlink("b", top.join("a/inner")).unwrap();
        symlink(&out, top.join("out")).unwrap();

        let nofollow = walk_source(&top, false, false).unwrap();
        assert_eq!(rels(&nofollow.files), ["src/f", "src/a/b/g"]);
        assert_eq!(read_source(&nofollow.files[0].0, true).unwrap(), b"f");
        assert_eq!(rels(&nofollow.dirs), ["src/a", "src/a/b"]);
        assert_eq!(
            nofollow.links,
            [
                (out.display().to_string(), "src/out".to_string()),
                ("missing".into(), "src/a/broken".into()),
                ("../f".into(), "src/a/lf".into()),
                ("b".into(), "src/a/inner".into()),
                ("..".into(), "src/a/loop".into()),
            ]
        );

        let follow = walk_source(&top, true, true).unwrap();
        assert_eq!(
            rels(&follow.files),
            ["f", "out/h", "a/lf", "a/inner/g", "a/b/g"]
        );
        assert_eq!(follow.files[2].0, top.join("f").canonicalize().unwrap());
        assert_eq!(rels(&follow.dirs), ["a", "out", "a/b", "a/inner"]);
        // The loop back to the source and the dangling link stay links.
        assert_eq!(
            follow.links,
            [
                ("missing".into(), "a/broken".into()),
                ("..".into(), "a/loop".into())
            ]
        );
    }
}
