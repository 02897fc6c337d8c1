//! Fuzz targets for drover's input parsers, driven by proptest on the stable toolchain.
//!
//! Each target takes arbitrary text and must return (an `Ok` or a clean error) without
//! panicking, overflowing the stack or allocating without bound. Inputs are seeds from the
//! project's own playbooks, inventories and templates (plus `fuzz/corpus/`), mutated by
//! [`Mutation`]s: byte flips, insertions of hostile tokens, deletions, duplications and long
//! repeats. The bounded run is `cargo test -p drover-fuzz`; see `docs/LIMITS.md` for a longer one.

use std::path::{Path, PathBuf};

use drover_core::inventory::Inventory;
use drover_core::playbook::args::{decode_escapes, parse_kv, split_args, unquote};
use drover_core::template::Templar;
use drover_core::vars::{Value, Vars};
use drover_core::vault::{self, VaultSecret, VaultSecrets};
use proptest::prelude::*;

/// Largest input a mutation may produce (bytes).
pub const MAX_INPUT: usize = 256 * 1024;

/// Fragments that tend to break parsers: YAML structure, anchors and tags, Jinja delimiters,
/// ranges, control bytes, a BOM, invalid UTF-8 after lossy decoding.
pub const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ":",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "\t",
    "---\n",
    "...\n",
    "&a ",
    "*a",
    "<<: *a",
    "!!int ",
    "!!float ",
    "!unsafe ",
    "!vault |\n  ",
    "? ",
    "|\n",
    ">-\n",
    "'",
    "\"",
    "\\",
    "#",
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "|int",
    "|float",
    "|round(-999)",
    "[1:999999999]",
    "[a:Z]",
    "[01:9]",
    "=",
    "=''",
    "\0",
    "\u{feff}",
    "\u{1b}",
    "\r",
    "\u{ffff}",
    "$ANSIBLE_VAULT;1.1;AES256\n",
    "$ANSIBLE_VAULT;1.2;AES256;id\n",
    "[web:children]\n",
    "[web:vars]\n",
    "ansible_port=99999 ",
    "1e999",
    "-0",
    "0x",
    "0o777",
    "~",
    "null",
    "yes",
    "@",
];

/// One change applied to a seed.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Replace the byte at a position.
    Flip(usize, u8),
    /// Insert a token from [`TOKENS`] at a position.
    Token(usize, usize),
    /// Delete `len` bytes at a position.
    Delete(usize, usize),
    /// Copy the range at `from` (length `len`) to `to`.
    Duplicate(usize, usize, usize),
    /// Repeat a token many times at a position (deep nesting, long lines).
    Repeat(usize, usize, u16),
}

/// A proptest strategy for one mutation.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(p, t)| Mutation::Token(p, t)),
        (any::<usize>(), 0usize..64).prop_map(|(p, l)| Mutation::Delete(p, l)),
        (any::<usize>(), 0usize..256, any::<usize>())
            .prop_map(|(f, l, t)| Mutation::Duplicate(f, l, t)),
        (any::<usize>(), 0..TOKENS.len(), 1u16..2000)
            .prop_map(|(p, t, n)| Mutation::Repeat(p, t, n)),
    ]
}

/// Applies `mutations` to `seed`, keeping the result under [`MAX_INPUT`]; returns text (lossy
/// for invalid UTF-8, as a file read would be refused instead).
pub fn mutate(seed: &[u8], mutations: &[Mutation]) -> String {
    let mut data = seed.to_vec();
    for m in mutations {
        let at = |p: usize, d: &Vec<u8>| if d.is_empty() { 0 } else { p % (d.len() + 1) };
        match *m {
            Mutation::Flip(p, b) if !data.is_empty() => {
                let i = p % data.len();
                data[i] = b;
            }
            Mutation::Flip(..) => {}
            Mutation::Token(p, t) => {
                let i = at(p, &data);
                data.splice(i..i, TOKENS[t].bytes());
            }
            Mutation::Delete(p, l) => {
                let i = at(p, &data);
                let end = (i + l).min(data.len());
                data.drain(i..end);
            }
            Mutation::Duplicate(f, l, t) => {
                let i = at(f, &data);
                let end = (i + l).min(data.len());
                let piece = data[i..end].to_vec();
                let j = at(t, &data);
                data.splice(j..j, piece);
            }
            Mutation::Repeat(p, t, n) => {
                let i = at(p, &data);
                data.splice(i..i, TOKENS[t].repeat(n as usize).into_bytes());
            }
        }
        data.truncate(MAX_INPUT);
    }
    String::from_utf8_lossy(&data).into_owned()
}

/// Stack size the targets run with: a main thread's usual 8 MiB, which the drover binary parses
/// on (a 2 MiB test thread overflows on 64-deep YAML in debug builds).
pub const STACK: usize = 8 << 20;

/// Runs `target` on `input` in a thread with [`STACK`] bytes of stack; a panic in the target is
/// resumed in the caller (so proptest sees and shrinks it).
pub fn run(target: fn(&str), input: String) {
    let worker = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || target(&input))
        .expect("spawn a fuzz worker");
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
}

/// The repository's root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Seed files: `fuzz/corpus/` plus the project's files under `dirs` (relative to the repo)
/// whose names end in one of `exts`, at most `limit` of them, each under 64 KiB.
pub fn seeds(dirs: &[&str], exts: &[&str], limit: usize) -> Vec<Vec<u8>> {
    fn walk(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, exts, out);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| exts.iter().any(|e| n.ends_with(e)))
            {
                out.push(p);
            }
        }
    }
    let root = repo_root();
    let mut files = Vec::new();
    walk(&root.join("fuzz/corpus"), exts, &mut files);
    for d in dirs {
        walk(&root.join(d), exts, &mut files);
    }
    let mut out: Vec<Vec<u8>> = files
        .iter()
        .filter_map(|f| std::fs::read(f).ok())
        .filter(|b| b.len() < 64 * 1024)
        .take(limit)
        .collect();
    if out.is_empty() {
        out.push(b"- hosts: all\n".to_vec());
    }
    out
}

/// YAML loader: any text gives a node tree or a located error; the tree converts to a value
/// and its tasks (when it is a list) go through the playbook model.
pub fn yaml_loader(text: &str) {
    if let Ok(node) = drover_core::yaml::parse_str(text, "fuzz.yml") {
        let _ = node.to_value();
        for play in node.as_seq().unwrap_or_default() {
            if let Some(tasks) = play.get("tasks") {
                let _ = drover_core::playbook::parse_tasks(tasks);
            }
        }
    }
}

/// INI inventory parser (host ranges, `:vars`, `:children`, Python literals).
pub fn inventory_ini(text: &str) {
    if let Ok(inv) = Inventory::from_ini_str(text, "fuzz.ini") {
        let _ = inv.hosts().count();
    }
}

/// YAML inventory parser.
pub fn inventory_yaml(text: &str) {
    if let Ok(inv) = Inventory::from_yaml_str(text, "fuzz.yml") {
        let _ = inv.hosts().count();
    }
}

/// `k=v` module arguments: splitting, quoting, escapes.
pub fn key_values(text: &str) {
    let pieces = split_args(text).unwrap_or_default();
    for p in &pieces {
        let _ = unquote(p);
    }
    let _ = decode_escapes(text);
    let _ = parse_kv("command", text);
    let _ = parse_kv("file", text);
}

/// `-e` parsing (`k=v`, inline YAML/JSON); `@file` arguments are skipped (they read files).
pub fn extra_vars(text: &str) {
    if text.trim_start().starts_with('@') {
        return;
    }
    let mut vars = Vars::new();
    let _ = drover_core::extra_vars::merge_extra_vars(text, &mut vars);
}

/// The password the vault target's seeds are encrypted with.
pub const VAULT_PASSWORD: &str = "fuzz";

/// Vault decoder: envelope header, hex body, salt/HMAC/ciphertext split, decryption.
pub fn vault_decoder(text: &str) {
    let mut secrets = VaultSecrets::new();
    secrets.push(VaultSecret::new("default", VAULT_PASSWORD));
    let _ = vault::is_encrypted(text);
    let _ = secrets.decrypt(text, "fuzz");
}

/// Encrypted seeds for the vault target: each plain seed, encrypted with [`VAULT_PASSWORD`].
pub fn vault_seeds(plain: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let secret = VaultSecret::new("default", VAULT_PASSWORD);
    plain
        .iter()
        .take(8)
        .map(|p| vault::encrypt(&p[..p.len().min(512)], &secret).into_bytes())
        .collect()
}

/// Template bridge: rendering with a few variables. Text that could reach lookups (which read
/// files or run commands) is skipped.
pub fn template_bridge(text: &str) {
    const UNSAFE: &[&str] = &["lookup", "query", "q(", "pipe", "password", "env"];
    if UNSAFE.iter().any(|w| text.contains(w)) {
        return;
    }
    let mut vars = Vars::new();
    vars.insert("a".into(), Value::from(1));
    vars.insert(
        "d".into(),
        serde_json::json!({"k": [1, "two", {"x": null}]}),
    );
    vars.insert("groups".into(), serde_json::json!({"all": ["h1", "h2"]}));
    vars.insert(
        "hostvars".into(),
        serde_json::json!({"h1": {"x": 1}, "h2": {}}),
    );
    let _ = Templar::new().render_str(text, &vars);
}
