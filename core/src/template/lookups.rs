//! Lookup plugins: `lookup(name, *terms, **kw)`, `query`/`q` (always lists), with Ansible's
//! `wantlist` and `errors` handling. File lookups resolve relative paths with the render
//! context's search paths ([`super::TemplateContext`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};
use rand::Rng;

use super::filters::{fail, text};
use super::lazy::current_scope;

/// Registers `lookup`, `query` and `q`.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_function(
        "lookup",
        |state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs| {
            run(state, &name, terms.0, kwargs, false)
        },
    );
    for q in ["query", "q"] {
        env.add_function(
            q,
            |state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs| {
                run(state, &name, terms.0, kwargs, true)
            },
        );
    }
}

fn run(
    state: &State,
    name: &str,
    terms: Vec<Value>,
    kwargs: Kwargs,
    query: bool,
) -> Result<Value, Error> {
    if current_scope().is_some_and(|scope| scope.context.no_lookups) {
        return Err(fail(format!(
            "lookup '{name}' is not run ahead of its task"
        )));
    }
    let wantlist = query || kwargs.get::<Option<bool>>("wantlist")?.unwrap_or(false);
    let errors: String = kwargs
        .get::<Option<String>>("errors")?
        .unwrap_or_else(|| "strict".into());
    let name = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    let result = dispatch(state, name, &terms, &kwargs).and_then(|r| {
        kwargs.assert_all_used()?;
        Ok(r)
    });
    let list = match result {
        Ok(l) => l,
        Err(e) => match errors.as_str() {
            "ignore" | "warn" => {
                if errors == "warn" {
                    tracing::warn!("lookup '{name}' failed: {e}");
                }
                return Ok(if wantlist {
                    Value::from(Vec::<Value>::new())
                } else {
                    Value::from(())
                });
            }
            _ => {
                return Err(Error::new(
                    e.kind(),
                    format!(
                        "lookup plugin '{name}' failed: {}",
                        e.detail().unwrap_or_default()
                    ),
                ))
            }
        },
    };
    if wantlist {
        return Ok(Value::from(list));
    }
    if list.iter().all(|v| v.kind() == ValueKind::String) {
        return Ok(Value::from(
            list.iter().map(text).collect::<Vec<_>>().join(","),
        ));
    }
    Ok(if list.len() == 1 {
        list.into_iter().next().unwrap_or_default()
    } else {
        Value::from(list)
    })
}

/// Terms flattened one level (a list term contributes its items), as Ansible does.
fn flat_terms(terms: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for t in terms {
        if t.kind() == ValueKind::Seq {
            out.extend(t.try_iter().into_iter().flatten());
        } else {
            out.push(t.clone());
        }
    }
    out
}

fn find(subdir: &str, name: &str) -> Option<PathBuf> {
    match current_scope() {
        Some(scope) => scope.context.find_file(subdir, name),
        None => {
            let p = Path::new(name);
            p.exists().then(|| p.to_path_buf())
        }
    }
}

fn dispatch(
    state: &State,
    name: &str,
    terms: &[Value],
    kwargs: &Kwargs,
) -> Result<Vec<Value>, Error> {
    match name {
        "env" => {
            let default: Option<Value> = kwargs.get("default")?;
            Ok(flat_terms(terms)
                .iter()
                .map(|t| match std::env::var(text(t)) {
                    Ok(v) => Value::from(v),
                    Err(_) => default.clone().unwrap_or_else(|| Value::from("")),
                })
                .collect())
        }
        // Both decrypt vault-encrypted files; `unvault` never strips.
        "file" | "unvault" => {
            let strips = name == "file";
            let lstrip: bool = kwargs.get::<Option<bool>>("lstrip")?.unwrap_or(false) && strips;
            let rstrip: bool = kwargs.get::<Option<bool>>("rstrip")?.unwrap_or(true) && strips;
            flat_terms(terms)
                .iter()
                .map(|t| {
                    let n = text(t);
                    let path = find("files", &n)
                        .ok_or_else(|| fail(format!("could not locate file in lookup: {n}")))?;
                    let mut s =
                        crate::vault::read_text_file(&path).map_err(|e| fail(e.to_string()))?;
                    if rstrip {
                        s = s.trim_end().to_string();
                    }
                    if lstrip {
                        s = s.trim_start().to_string();
                    }
                    Ok(Value::from(s))
                })
                .collect()
        }
        "template" => {
            let _: Option<bool> = kwargs.get("convert_data")?;
            let scope = current_scope().ok_or_else(|| fail("template lookup outside a render"))?;
            flat_terms(terms)
                .iter()
                .map(|t| {
                    let n = text(t);
                    let path = find("templates", &n).ok_or_else(|| {
                        fail(format!(
                            "the template file {n} could not be found for the lookup"
                        ))
                    })?;
                    let src = crate::limits::read_text(&path).map_err(|e| fail(e.to_string()))?;
                    let key = super::engine::SyntaxKey::for_file(&super::TemplateFileOptions {
                        trim_blocks: true,
                        keep_trailing_newline: true,
                        ..Default::default()
                    });
                    Ok(scope
                        .engine
                        .render_in_scope(&src, &key, &scope)?
                        .into_value())
                })
                .collect()
        }
        "pipe" => flat_terms(terms)
            .iter()
            .map(|t| {
                let out = shell(&text(t))?;
                Ok(Value::from(out.trim_end_matches('\n').to_string()))
            })
            .collect(),
        "lines" => {
            let mut out = Vec::new();
            for t in flat_terms(terms) {
                out.extend(shell(&text(&t))?.lines().map(Value::from));
            }
            Ok(out)
        }
        "first_found" => first_found(terms, kwargs),
        "fileglob" => {
            let mut out = Vec::new();
            for t in flat_terms(terms) {
                let pat = text(&t);
                let (dir, file) = match pat.rfind('/') {
                    Some(i) => (&pat[..i], &pat[i + 1..]),
                    None => ("", pat.as_str()),
                };
                let base = if dir.is_empty() {
                    find("files", ".").or_else(|| find("", "."))
                } else {
                    find("files", dir)
                };
                if let Some(base) = base {
                    let full = base.join(file);
                    out.extend(super::filters::fileglob_values(&full.to_string_lossy()));
                }
            }
            Ok(out)
        }
        "vars" => {
            let default: Option<Value> = kwargs.get("default")?;
            flat_terms(terms)
                .iter()
                .map(|t| {
                    let n = text(t);
                    match state.lookup(&n).filter(|v| !v.is_undefined()) {
                        Some(v) => Ok(v),
                        None => default.clone().ok_or_else(|| {
                            Error::new(
                                ErrorKind::UndefinedError,
                                format!("No variable found with this name: {n}"),
                            )
                        }),
                    }
                })
                .collect()
        }
        "password" => flat_terms(terms)
            .iter()
            .map(|t| password(&text(t), kwargs))
            .collect(),
        "sequence" => {
            // Keyword arguments are every term's defaults; with only keywords, one empty term.
            let mut defaults = Vec::new();
            let keys: Vec<String> = kwargs.args().map(String::from).collect();
            for key in keys
                .iter()
                .filter(|k| !matches!(k.as_str(), "wantlist" | "errors"))
            {
                let v: Value = kwargs.get(key)?;
                defaults.push((key.clone(), text(&v)));
            }
            let mut list: Vec<String> = terms.iter().map(text).collect();
            if list.is_empty() && !defaults.is_empty() {
                list.push(String::new());
            }
            let mut out = Vec::new();
            for term in list {
                let items = crate::executor::sequence::sequence(&term, &defaults).map_err(fail)?;
                out.extend(items.iter().map(super::convert::json_to_value));
            }
            Ok(out)
        }
        "subelements" => {
            let mut json = Vec::with_capacity(terms.len());
            for t in terms {
                json.push(super::convert::value_to_json(t)?.unwrap_or_default());
            }
            crate::executor::loops::subelements(json)
                .map(|pairs| pairs.iter().map(super::convert::json_to_value).collect())
                .map_err(fail)
        }
        "items" => Ok(flat_terms(terms)),
        "list" => Ok(terms.to_vec()),
        "indexed_items" => Ok(flat_terms(terms)
            .into_iter()
            .enumerate()
            .map(|(i, v)| Value::from(vec![Value::from(i), v]))
            .collect()),
        "dict" => {
            let mut out = Vec::new();
            for t in terms {
                if t.kind() != ValueKind::Map {
                    return Err(fail("with_dict expects a dict"));
                }
                for k in t.try_iter()? {
                    let v = t.get_item(&k)?;
                    out.push(Value::from_pairs([
                        (Value::from("key"), k),
                        (Value::from("value"), v),
                    ]));
                }
            }
            Ok(out)
        }
        other => Err(fail(format!(
            "lookup plugin '{other}' is not available in drover"
        ))),
    }
}

fn shell(cmd: &str) -> Result<String, Error> {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map_err(|e| fail(format!("could not run '{cmd}': {e}")))?;
    if !out.status.success() {
        return Err(fail(format!(
            "lookup_plugin.pipe({cmd}) returned {}",
            out.status.code().unwrap_or(-1)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn first_found(terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let mut files: Vec<String> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    let mut skip: bool = kwargs.get::<Option<bool>>("skip")?.unwrap_or(false);
    // Set by `with_first_found` loops from the task's action (see the executor's loops).
    let subdir: String = kwargs
        .get::<Option<String>>("_subdir")?
        .unwrap_or_else(|| "files".into());
    let split = |v: &Value| -> Vec<String> {
        let items: Vec<Value> = if v.kind() == ValueKind::Seq {
            v.try_iter().into_iter().flatten().collect()
        } else {
            vec![v.clone()]
        };
        items
            .iter()
            .flat_map(|i| {
                text(i)
                    .split([',', ';'])
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect()
    };
    if let Some(f) = kwargs.get::<Option<Value>>("files")? {
        files.extend(split(&f));
    }
    if let Some(p) = kwargs.get::<Option<Value>>("paths")? {
        paths.extend(split(&p));
    }
    for t in flat_terms(terms) {
        if t.kind() == ValueKind::Map {
            if let Ok(f) = t.get_attr("files") {
                if !f.is_undefined() {
                    files.extend(split(&f));
                }
            }
            if let Ok(p) = t.get_attr("paths") {
                if !p.is_undefined() {
                    paths.extend(split(&p));
                }
            }
            if let Ok(s) = t.get_attr("skip") {
                skip = skip || s.is_true();
            }
        } else {
            files.push(text(&t));
        }
    }
    for f in &files {
        let candidates: Vec<String> = if paths.is_empty() || f.starts_with('/') {
            vec![f.clone()]
        } else {
            paths
                .iter()
                .map(|p| format!("{}/{}", p.trim_end_matches('/'), f))
                .collect()
        };
        for c in candidates {
            if let Some(found) = find(&subdir, &c) {
                let abs = std::fs::canonicalize(&found).unwrap_or(found);
                return Ok(vec![Value::from(abs.to_string_lossy().into_owned())]);
            }
        }
    }
    if skip {
        return Ok(Vec::new());
    }
    Err(fail(
        "No file was found when using first_found. Use errors='ignore' to allow this task to be skipped if no files are found",
    ))
}

const ASCII_LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// The `password` lookup: reads the password stored at the path, or generates one with the
/// requested `length` and `chars` and stores it (`/dev/null` never stores).
fn password(term: &str, kwargs: &Kwargs) -> Result<Value, Error> {
    let mut parts = term.split_whitespace();
    let path = parts
        .next()
        .ok_or_else(|| fail("password lookup needs a path"))?
        .to_string();
    let mut length: usize = kwargs.get::<Option<usize>>("length")?.unwrap_or(20);
    let mut chars_spec: Vec<String> = match kwargs.get::<Option<Value>>("chars")? {
        Some(v) if v.kind() == ValueKind::Seq => v.try_iter()?.map(|x| text(&x)).collect(),
        Some(v) => text(&v).split(',').map(str::to_string).collect(),
        None => Vec::new(),
    };
    let seed: Option<Value> = kwargs.get("seed")?;
    let _: Option<Value> = kwargs.get("encrypt")?;
    for p in parts {
        match p.split_once('=') {
            Some(("length", n)) => {
                length = n
                    .parse()
                    .map_err(|_| fail(format!("invalid length '{n}'")))?
            }
            Some(("chars", c)) => chars_spec = c.split(',').map(str::to_string).collect(),
            Some(("encrypt" | "ident" | "seed", _)) => {}
            _ => {
                return Err(fail(format!(
                    "unrecognized password lookup parameter '{p}'"
                )))
            }
        }
    }
    let file = if path == "/dev/null" {
        None
    } else {
        Some(find("", &path).unwrap_or_else(|| PathBuf::from(&path)))
    };
    if let Some(f) = &file {
        if let Ok(content) = crate::limits::read_text(f) {
            let first = content.lines().next().unwrap_or("");
            let pw = first.split(" salt=").next().unwrap_or(first);
            return Ok(Value::from(pw.to_string()));
        }
    }
    if chars_spec.is_empty() {
        chars_spec = vec!["ascii_letters".into(), "digits".into(), ".,:-_".into()];
    }
    let mut alphabet = String::new();
    for c in &chars_spec {
        alphabet.push_str(match c.as_str() {
            "ascii_letters" => ASCII_LETTERS,
            "ascii_lowercase" => "abcdefghijklmnopqrstuvwxyz",
            "ascii_uppercase" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "digits" => DIGITS,
            "hexdigits" => "0123456789abcdefABCDEF",
            "octdigits" => "01234567",
            "punctuation" => PUNCTUATION,
            other => other,
        });
    }
    let alphabet: Vec<char> = alphabet.chars().collect();
    if alphabet.is_empty() {
        return Err(fail("password lookup: empty character set"));
    }
    let pw: String = match seed {
        Some(s) => {
            use rand::SeedableRng;
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            text(&s).hash(&mut h);
            let mut r = rand::rngs::StdRng::seed_from_u64(h.finish());
            (0..length)
                .map(|_| alphabet[r.random_range(0..alphabet.len())])
                .collect()
        }
        None => {
            let mut r = rand::rng();
            (0..length)
                .map(|_| alphabet[r.random_range(0..alphabet.len())])
                .collect()
        }
    };
    if let Some(f) = file {
        if let Some(dir) = f.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| fail(format!("could not create {}: {e}", dir.display())))?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut fh = opts
            .open(&f)
            .map_err(|e| fail(format!("could not write {}: {e}", f.display())))?;
        writeln!(fh, "{pw}").map_err(|e| fail(format!("could not write {}: {e}", f.display())))?;
    }
    Ok(Value::from(pw))
}
