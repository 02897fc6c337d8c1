//! Loop items: `loop`, and the `with_<lookup>` forms computed the way their lookups do.

use super::Executor;
use crate::playbook::{Task, TaskKind};
use crate::template::{Templar, TemplateContext};
use crate::vars::{Value, Vars};

fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn flatten_all(v: Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(a) => a.into_iter().for_each(|i| flatten_all(i, out)),
        Value::Null => {}
        other => out.push(other),
    }
}

impl Executor {
    /// A loop item as ansible-playbook shows it (`(item=...)`): see [`item_label`].
    pub(crate) fn item_label(&self, task: &Task, item_vars: &Vars) -> String {
        item_label(&self.shared.templar, task, item_vars)
    }

    /// The items a task loops over, or `None` without a loop.
    pub(crate) fn loop_items(
        &self,
        task: &Task,
        vars: &Vars,
        tctx: &TemplateContext,
    ) -> Result<Option<Vec<Value>>, String> {
        let Some(loop_value) = &task.loop_ else {
            return Ok(None);
        };
        let templar = &self.shared.templar;
        let rendered = templar
            .render_value_in(loop_value, vars, Some(tctx))
            .map_err(|e| format!("error while evaluating the loop: {e}"))?;
        let Some(lookup) = task.loop_with.as_deref() else {
            return match rendered {
                Value::Array(items) => Ok(Some(items)),
                Value::Null => Ok(Some(Vec::new())),
                other => Err(format!(
                    "Invalid data passed to 'loop', it requires a list, got this instead: {other}. Hint: If you passed a list/dict of just one element, try adding wantlist=True to your lookup invocation or use q/query instead of lookup."
                )),
            };
        };
        let items = match lookup {
            "items" => as_list(rendered)
                .into_iter()
                .flat_map(|i| match i {
                    Value::Array(inner) => inner,
                    other => vec![other],
                })
                .collect(),
            "list" => as_list(rendered),
            "flattened" => {
                let mut out = Vec::new();
                flatten_all(rendered, &mut out);
                out
            }
            "indexed_items" => as_list(rendered)
                .into_iter()
                .flat_map(|i| match i {
                    Value::Array(inner) => inner,
                    other => vec![other],
                })
                .enumerate()
                .map(|(i, v)| Value::Array(vec![Value::from(i), v]))
                .collect(),
            "dict" => match rendered {
                Value::Object(m) => m
                    .into_iter()
                    .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
                    .collect(),
                other => return Err(format!("with_dict expects a dict, got {other}")),
            },
            "together" => {
                let lists: Vec<Vec<Value>> = as_list(rendered).into_iter().map(as_list).collect();
                let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
                (0..longest)
                    .map(|i| {
                        Value::Array(
                            lists
                                .iter()
                                .map(|l| l.get(i).cloned().unwrap_or(Value::Null))
                                .collect(),
                        )
                    })
                    .collect()
            }
            "nested" | "cartesian" => {
                let lists: Vec<Vec<Value>> = as_list(rendered).into_iter().map(as_list).collect();
                let mut acc: Vec<Vec<Value>> = vec![Vec::new()];
                for l in &lists {
                    acc = acc
                        .into_iter()
                        .flat_map(|prefix| {
                            l.iter().map(move |v| {
                                let mut p = prefix.clone();
                                p.push(v.clone());
                                p
                            })
                        })
                        .collect();
                }
                if lists.is_empty() {
                    Vec::new()
                } else {
                    acc.into_iter().map(Value::Array).collect()
                }
            }
            "subelements" => subelements(as_list(rendered))?,
            "sequence" => {
                let mut out = Vec::new();
                for term in as_list(rendered) {
                    let spec = match term {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    out.extend(super::sequence::sequence(&spec, &[])?);
                }
                out
            }
            "random_choice" => as_list(rendered).into_iter().take(1).collect(),
            other => {
                // File-based lookups go through the templar's lookup plugins.
                let terms = as_list(rendered);
                let mut v = vars.clone();
                v.insert("__drover_terms".into(), Value::Array(terms.clone()));
                let args: Vec<String> = (0..terms.len())
                    .map(|i| format!("__drover_terms[{i}]"))
                    .collect();
                let mut expr = format!("query('{other}', {})", args.join(", "));
                if other == "first_found" {
                    // As ansible-core's task executor: a `with_first_found` loop searches the
                    // `templates`/`vars` subdirectory for template/include_vars tasks.
                    expr.insert_str(
                        expr.len() - 1,
                        &format!(", _subdir='{}'", first_found_subdir(task)),
                    );
                }
                match templar.eval_expr_in(&expr, &v, Some(tctx)) {
                    Ok(Value::Array(a)) => a,
                    Ok(other) => as_list(other),
                    Err(e) => return Err(format!("with_{other}: {e}")),
                }
            }
        };
        Ok(Some(items))
    }
}

/// The lookup subdirectory ansible-core gives a `with_*` lookup: `templates` when the action's
/// name contains `template`, `vars` when it contains `var`, else `files`.
fn first_found_subdir(task: &Task) -> &'static str {
    let action = match &task.kind {
        TaskKind::Module { module, .. } => module.as_str(),
        _ => "",
    };
    if action.contains("template") {
        "templates"
    } else if action.contains("var") {
        "vars"
    } else {
        "files"
    }
}

/// A loop item as ansible-playbook shows it: the rendered `loop_control.label`, else Python's
/// str() of the item (`{'key': 'a', 'value': 1}`, `None`, `True`).
fn item_label(templar: &Templar, task: &Task, item_vars: &Vars) -> String {
    let item = item_vars
        .get(&task.loop_var)
        .cloned()
        .unwrap_or(Value::Null);
    let template = match (&task.loop_label, &item) {
        (Some(label), _) => label.clone(),
        (None, Value::String(s)) => return s.clone(),
        (None, Value::Null) => return "None".into(),
        (None, _) => format!("{{{{ {} }}}}", task.loop_var),
    };
    templar
        .render_str(&template, item_vars)
        .unwrap_or_else(|_| match &task.loop_label {
            Some(label) => label.clone(),
            None => item.to_string(),
        })
}

/// `with_subelements` / `lookup('subelements', …)`: `[list_or_dict, "key.path",
/// {skip_missing: bool}]` into `[item, subitem]` pairs, with the checks and messages of
/// ansible-core's subelements lookup.
pub(crate) fn subelements(terms: Vec<Value>) -> Result<Vec<Value>, String> {
    let terms_error =
        |msg: &str| format!("subelements lookup expects a list of two or three items, {msg}");
    if !(2..=3).contains(&terms.len()) {
        return Err(terms_error(""));
    }
    let mut it = terms.into_iter();
    let base = it.next().unwrap_or(Value::Null);
    let key = match (&base, it.next()) {
        (Value::Array(_) | Value::Object(_), Some(Value::String(s))) => s,
        _ => {
            return Err(terms_error(
                "first a dict or a list, second a string pointing to the subkey",
            ))
        }
    };
    let skip_missing = match it.next() {
        None => false,
        Some(Value::Object(m)) => m.get("skip_missing").is_some_and(crate::vars::is_truthy),
        Some(_) => {
            return Err(terms_error(
                "the optional third item must be a dict with flags ('skip_missing',)",
            ))
        }
    };
    let skipped = |v: &Value| v.get("skipped").is_some_and(|s| *s != Value::Bool(false));
    let elems: Vec<Value> = match base {
        // A registered result skipped as a whole has nothing to iterate.
        Value::Object(m) if skipped(&Value::Object(m.clone())) => return Ok(Vec::new()),
        Value::Object(m) => m.into_iter().map(|(_, v)| v).collect(),
        other => as_list(other),
    };
    let parts: Vec<&str> = key.split('.').collect();
    let repr = crate::template::py_str_json;
    let mut out = Vec::new();
    for elem in elems {
        if !elem.is_object() {
            return Err(format!(
                "subelements lookup expects a dictionary, got '{}'",
                repr(&elem)
            ));
        }
        if skipped(&elem) {
            continue;
        }
        let mut cur = &elem;
        let mut subs: &[Value] = &[];
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let Some(next) = cur.get(*part) else {
                if skip_missing {
                    continue;
                }
                return Err(format!(
                    "could not find '{part}' key in iterated item '{}'",
                    repr(cur)
                ));
            };
            if !last {
                if next.is_object() {
                    cur = next;
                } else if !skip_missing {
                    return Err(format!(
                        "the key {part} should point to a dictionary, got '{}'",
                        repr(next)
                    ));
                }
            } else if let Value::Array(list) = next {
                subs = list;
            } else {
                return Err(format!(
                    "the key {part} should point to a list, got '{}'",
                    repr(next)
                ));
            }
        }
        // ansible-core pops the list out of the item it pairs with it.
        let mut item = elem.clone();
        remove_path(&mut item, &parts);
        for s in subs {
            out.push(Value::Array(vec![item.clone(), s.clone()]));
        }
    }
    Ok(out)
}

/// Removes the key at `path` (a dotted path already walked) from `v`.
fn remove_path(v: &mut Value, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for p in parents {
        match cur.get_mut(*p) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.remove(*last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_show_as_python_prints_them() {
        let templar = Templar::new();
        let mut task = Task::new(
            crate::yaml::Location::default(),
            TaskKind::Meta("noop".into()),
        );
        task.loop_var = "item".into();
        let label = |item: Value, task: &Task| {
            let mut vars = Vars::new();
            vars.insert("item".into(), item);
            item_label(&templar, task, &vars)
        };
        // As ansible-core 2.19's default callback shows them.
        assert_eq!(
            label(json!({"key": "a", "value": 1}), &task),
            "{'key': 'a', 'value': 1}"
        );
        assert_eq!(label(json!([1, "x", true]), &task), "[1, 'x', True]");
        assert_eq!(label(json!(null), &task), "None");
        assert_eq!(label(json!("plain"), &task), "plain");
        task.loop_label = Some("{{ item.key }}".into());
        assert_eq!(label(json!({"key": "a", "value": 1}), &task), "a");
    }

    #[test]
    fn subelement_pairs() {
        let r = subelements(vec![json!([{"n": "a", "k": [1, 2]}]), json!("k")]).unwrap();
        assert_eq!(r, vec![json!([{"n": "a"}, 1]), json!([{"n": "a"}, 2])]);
        let err = |terms: Vec<Value>| subelements(terms).unwrap_err();
        assert!(err(vec![json!([{"n": "a"}]), json!("k")]).contains("could not find 'k' key"));
        assert!(err(vec![json!(true), json!("k")]).contains("first a dict or a list"));
        assert!(err(vec![json!([{"k": 1}]), json!("k")]).contains("k should point to a list"));
        assert!(err(vec![json!([{"k": 1}]), json!("k.x")]).contains("to a dictionary"));
        assert!(err(vec![json!([]), json!("k"), json!("x")]).contains("must be a dict"));
        assert!(err(vec![json!([])]).contains("two or three items"));
        let nested = json!([{"n": "a", "k": {"x": [1]}}]);
        assert_eq!(
            subelements(vec![nested, json!("k.x")]).unwrap(),
            vec![json!([{"n": "a", "k": {}}, 1])]
        );
    }
}
