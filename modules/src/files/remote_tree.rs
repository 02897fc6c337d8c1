//! `copy` with `remote_src` and a directory source: mirrors a directory tree that is already on
//! the target. One round trip lists both trees with checksums, one more applies the changes.

use std::collections::BTreeMap;

use drover_core::module::{ModuleContext, ModuleError, ModuleResult};

use crate::remote::attrs::AttrRequest;
use crate::remote::{base_name, join_path, quote_path};

/// What to copy where.
pub struct RemoteTree<'a> {
    /// Source directory on the target (a trailing `/` copies its contents only).
    pub src: &'a str,
    /// Copy what the source's symlinks point to (`local_follow: yes`) instead of recreating
    /// the symlinks.
    pub follow_links: bool,
    /// Destination directory.
    pub dest: &'a str,
    /// Attributes for copied files.
    pub file_attrs: AttrRequest,
    /// Attributes for created directories (`directory_mode`, owner, group).
    pub dir_attrs: AttrRequest,
}

/// One entry of a listed tree.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    /// A directory.
    Dir,
    /// A regular file, with its SHA-1.
    File(String),
    /// A symlink, with its target as written.
    Link(String),
}

/// Entries of one side by relative path.
type Listing = BTreeMap<String, Entry>;

/// Lists the tree at `root` (if it is a directory): directories, files with checksums and
/// symlinks with their targets; with `follow`, symlinks are listed as what they point to.
fn listing_script(root: &str, marker: &str, follow: bool) -> String {
    let q = quote_path(root);
    let l = if follow { " -L" } else { "" };
    format!(
        "echo '@{marker}'\nif [ -d {q} ]; then (cd {q} && find{l} . -mindepth 1 -type d -printf 'd %P\\n' && \
         find{l} . -mindepth 1 -type l -printf 'l %P\\t%l\\n' && \
         find{l} . -mindepth 1 -type f -exec sha1sum {{}} +) || exit 2; fi\n"
    )
}

fn parse_listings(out: &str) -> (Listing, Listing) {
    let mut src = Listing::new();
    let mut dest = Listing::new();
    let mut current = &mut src;
    for line in out.lines() {
        match line {
            "@src" => current = &mut src,
            "@dest" => current = &mut dest,
            _ => {
                if let Some(dir) = line.strip_prefix("d ") {
                    current.insert(dir.to_string(), Entry::Dir);
                } else if let Some((path, target)) =
                    line.strip_prefix("l ").and_then(|l| l.split_once('\t'))
                {
                    current.insert(path.to_string(), Entry::Link(target.to_string()));
                } else if let Some((sum, path)) = line.split_once("  ") {
                    let rel = path.strip_prefix("./").unwrap_or(path);
                    current.insert(rel.to_string(), Entry::File(sum.to_string()));
                }
            }
        }
    }
    (src, dest)
}

/// Mirrors the tree; reports `changed` when anything was (or would be) created or replaced.
pub async fn copy_remote_tree(
    ctx: &ModuleContext<'_>,
    t: &RemoteTree<'_>,
) -> Result<ModuleResult, ModuleError> {
    let root = if t.src.ends_with('/') {
        t.dest.to_string()
    } else {
        join_path(t.dest, &base_name(t.src))
    };
    let script = format!(
        "{}{}[ -d {} ] || echo '@noroot'\n",
        listing_script(t.src, "src", t.follow_links),
        listing_script(&root, "dest", false),
        quote_path(&root)
    );
    let out = ctx.conn.run(script).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(format!(
            "listing {} failed: {}",
            t.src,
            out.stderr_str().trim()
        )));
    }
    let text = out.stdout_str();
    let (src, dest) = parse_listings(&text);
    let mut new_dirs = Vec::new();
    if text.lines().any(|l| l == "@noroot") {
        new_dirs.push(root.clone());
    }
    let mut files = Vec::new();
    let mut links = Vec::new();
    for (rel, entry) in &src {
        match (entry, dest.get(rel)) {
            (Entry::Dir, Some(Entry::Dir)) => {}
            (Entry::Dir, _) => new_dirs.push(join_path(&root, rel)),
            (Entry::File(s), Some(Entry::File(d))) if s == d => {}
            (Entry::File(_), _) => files.push(rel.clone()),
            (Entry::Link(s), Some(Entry::Link(d))) if s == d => {}
            (Entry::Link(target), _) => links.push((rel.clone(), target.clone())),
        }
    }
    let changed = !new_dirs.is_empty() || !files.is_empty() || !links.is_empty();
    let result = ModuleResult::changed(changed)
        .with("dest", t.dest)
        .with("src", t.src);
    if !changed || ctx.check_mode {
        return Ok(result);
    }
    let dir_plan = t
        .dir_attrs
        .plan_new(true, 0o022)
        .map_err(ModuleError::Local)?;
    let file_plan = t
        .file_attrs
        .plan_new(false, 0o022)
        .map_err(ModuleError::Local)?;
    let mut apply = String::from("set -e\n");
    for d in &new_dirs {
        let q = quote_path(d);
        apply.push_str(&format!("mkdir -p -- {q}\n"));
        if !dir_plan.is_empty() {
            apply.push_str(&format!("{}\n", dir_plan.commands(&q, false)));
        }
    }
    for rel in &files {
        let from = quote_path(&join_path(t.src, rel));
        let to = join_path(&root, rel);
        let tmp = quote_path(&drover_core::connection::temp_sibling(&to));
        let qto = quote_path(&to);
        apply.push_str(&format!("cp -- {from} {tmp}\n"));
        apply.push_str(&format!(
            "if [ -e {qto} ]; then chown --reference={qto} {tmp}; chmod --reference={qto} {tmp}; fi\n"
        ));
        if !file_plan.is_empty() {
            apply.push_str(&format!("{}\n", file_plan.commands(&tmp, false)));
        }
        apply.push_str(&format!("mv -f -- {tmp} {qto}\n"));
    }
    let link_plan = AttrRequest {
        mode: None,
        ..t.file_attrs.clone()
    }
    .plan_new(false, 0o022)
    .map_err(ModuleError::Local)?;
    for (rel, target) in &links {
        let to = quote_path(&join_path(&root, rel));
        apply.push_str(&format!(
            "rm -f -- {to}\nln -s -- {} {to}\n",
            quote_path(target)
        ));
        if !link_plan.is_empty() {
            apply.push_str(&format!("{}\n", link_plan.commands(&to, true)));
        }
    }
    let out = ctx.conn.run(apply).await?;
    if out.rc != 0 {
        return Ok(ModuleResult::failed(out.stderr_str().trim().to_string())
            .with("dest", t.dest)
            .with("src", t.src));
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_listings() {
        let out =
            "@src\nd sub\nl ln\t../x y\nabc  ./a b\ndef  ./sub/c\n@dest\nabc  ./a b\n@noroot\n";
        let (src, dest) = parse_listings(out);
        assert_eq!(src.len(), 4);
        assert_eq!(src["sub"], Entry::Dir);
        assert_eq!(src["ln"], Entry::Link("../x y".into()));
        assert_eq!(src["a b"], Entry::File("abc".into()));
        assert_eq!(dest.len(), 1);
    }
}
