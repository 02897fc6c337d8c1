//! `ansible_local`: facts from `*.fact` files in the facts directory (default
//! `/etc/ansible/facts.d`). Executable files are run and their output parsed as JSON; other files
//! are read as JSON, or failing that as INI (sections of lower-cased keys), as Ansible does.

use drover_core::vars::{Map, Value};

use super::facts_build::Sections;

/// Builds the `ansible_local` dictionary from the probe's `local.<rc>.<name>` sections.
pub fn local_facts(sec: &Sections) -> Value {
    let mut out = Map::new();
    for (key, body) in sec.range("local.".to_string()..) {
        let Some(rest) = key.strip_prefix("local.") else {
            break;
        };
        let Some((rc, name)) = rest.split_once('.') else {
            continue;
        };
        let body = body.strip_suffix('\n').unwrap_or(body);
        let value = match rc {
            "file0" => parse_fact_text(body).unwrap_or_else(|| {
                Value::String(format!(
                    "error loading facts as JSON or ini - please check content: {name}.fact"
                ))
            }),
            "0" => serde_json::from_str(body).unwrap_or_else(|_| {
                parse_fact_text(body).unwrap_or_else(|| {
                    Value::String(format!(
                        "error loading facts as JSON or ini - please check content: {name}.fact"
                    ))
                })
            }),
            _ if rc.starts_with("file") => {
                Value::String(format!("error loading facts - could not read {name}.fact"))
            }
            _ => Value::String(format!(
                "Failure executing fact script ({name}.fact), rc: {rc}"
            )),
        };
        out.insert(name.to_string(), value);
    }
    Value::Object(out)
}

/// Parses fact file text as JSON, else INI; `None` if it is neither.
pub fn parse_fact_text(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Some(v);
    }
    parse_ini(text)
}

/// Minimal INI parser: `[section]`, `key = value` / `key: value`, `#`/`;` comments, lower-cased keys.
fn parse_ini(text: &str) -> Option<Value> {
    let mut out = Map::new();
    let mut section: Option<String> = None;
    let mut saw_section = false;
    for raw in text.lines() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some(name) = l.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            section = Some(name.to_string());
            saw_section = true;
            out.entry(name.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            continue;
        }
        let sec = section.as_ref()?;
        let pos = l.find(['=', ':'])?;
        let (k, v) = (l[..pos].trim().to_lowercase(), l[pos + 1..].trim());
        if let Some(Value::Object(m)) = out.get_mut(sec) {
            m.insert(k, Value::String(v.to_string()));
        }
    }
    saw_section.then_some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ini_exec_and_errors() {
        let mut sec = Sections::new();
        sec.insert("local".into(), String::new());
        sec.insert("local.file0.app".into(), "{\"port\": 80}\n".into());
        sec.insert(
            "local.file0.ini".into(),
            "# c\n[general]\nName = web\nport: 8080\n".into(),
        );
        sec.insert("local.0.dyn".into(), "{\"x\": [1]}\n".into());
        sec.insert("local.3.bad".into(), "\n".into());
        sec.insert("local.file0.junk".into(), "not facts\n".into());
        sec.insert("mounts".into(), String::new());
        let f = local_facts(&sec);
        assert_eq!(f["app"]["port"], 80);
        assert_eq!(f["ini"]["general"]["name"], "web");
        assert_eq!(f["ini"]["general"]["port"], "8080");
        assert_eq!(f["dyn"]["x"][0], 1);
        assert!(f["bad"].as_str().unwrap().contains("rc: 3"));
        assert!(f["junk"].as_str().unwrap().contains("error loading facts"));
        assert_eq!(f.as_object().unwrap().len(), 5);
    }
}
