//! Loop items: `loop`, and the `with_<lookup>` forms computed the way their lookups do.

use super::Executor;
use crate::playbook::{Task, TaskKind};
use crate::template::{Templar, TemplateContext};
use crate::vars::{Map, Value, Vars};

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

/// `with_sequence` terms: `start=1 end=5 stride=1 format=%d`, `count=3`, or `1-5`, `0x1-0xf/2:host%02x`.
fn sequence(spec: &str) -> Result<Vec<Value>, String> {
    let parse_num = |s: &str| -> Result<i64, String> {
        let s = s.trim();
        let (neg, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s),
        };
        let n = if let Some(h) = body.strip_prefix("0x") {
            i64::from_str_radix(h, 16)
        } else if let Some(o) = body
            .strip_prefix("0o")
            .or_else(|| body.strip_prefix("0").filter(|r| !r.is_empty()))
        {
            i64::from_str_radix(o, 8)
        } else {
            body.parse()
        }
        .map_err(|_| format!("with_sequence: '{s}' is not a number"))?;
        Ok(if neg { -n } else { n })
    };
    let (mut start, mut end, mut stride, mut count, mut format) =
        (1i64, None, 1i64, None, "%d".to_string());
    if spec.contains('=') {
        let pieces =
            crate::playbook::args::split_args(spec).map_err(|e| format!("with_sequence: {e}"))?;
        for piece in pieces {
            let piece = piece.trim();
            if piece.is_empty() {
                continue;
            }
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            let v = crate::playbook::args::unquote(v.trim());
            match k {
                "start" => start = parse_num(&v)?,
                "end" => end = Some(parse_num(&v)?),
                "stride" => stride = parse_num(&v)?,
                "count" => count = Some(parse_num(&v)?),
                "format" => format = v,
                _ => return Err(format!("with_sequence: unknown option '{k}'")),
            }
        }
    } else {
        let (range, fmt) = match spec.split_once(':') {
            Some((r, f)) => (r, Some(f)),
            None => (spec, None),
        };
        let (range, st) = match range.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (range, None),
        };
        match range.split_once('-') {
            Some((a, b)) => {
                start = parse_num(a)?;
                end = Some(parse_num(b)?);
            }
            None => end = Some(parse_num(range)?),
        }
        if let Some(s) = st {
            stride = parse_num(s)?;
        }
        if let Some(f) = fmt {
            format = f.to_string();
        }
    }
    let end = match (end, count) {
        (Some(_), Some(_)) => return Err("with_sequence: give either end or count".into()),
        (Some(e), None) => e,
        (None, Some(c)) => {
            if c == 0 {
                return Ok(Vec::new());
            }
            start + (c - 1) * stride
        }
        (None, None) => return Err("with_sequence: must specify count or end".into()),
    };
    if stride == 0 {
        return Err("with_sequence: stride must not be 0".into());
    }
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        out.push(Value::String(format_printf(&format, i)));
        i += stride;
        if out.len() > 1_000_000 {
            return Err("with_sequence: too many items".into());
        }
    }
    Ok(out)
}

/// Formats one integer with a printf-style `%d`/`%02d`/`%x`/`%o` directive.
fn format_printf(fmt: &str, n: i64) -> String {
    let Some(pos) = fmt.find('%') else {
        return fmt.to_string();
    };
    let rest = &fmt[pos + 1..];
    let spec_len = rest
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| i + 1)
        .unwrap_or(rest.len());
    let spec = &rest[..spec_len];
    let (flags, conv) = spec.split_at(spec.len().saturating_sub(1));
    let zero = flags.starts_with('0');
    let width: usize = flags.trim_start_matches('0').parse().unwrap_or(0);
    let body = match conv {
        "x" => format!("{n:x}"),
        "X" => format!("{n:X}"),
        "o" => format!("{n:o}"),
        _ => n.to_string(),
    };
    let padded = if body.len() < width {
        let pad = if zero { "0" } else { " " }.repeat(width - body.len());
        format!("{pad}{body}")
    } else {
        body
    };
    format!("{}{}{}", &fmt[..pos], padded, &rest[spec_len..])
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
                    out.extend(sequence(&spec)?);
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

/// `with_subelements`: `[list_of_dicts, "key.path", {skip_missing: bool}]`.
fn subelements(terms: Vec<Value>) -> Result<Vec<Value>, String> {
    let mut it = terms.into_iter();
    let base = it.next().unwrap_or(Value::Null);
    let key = match it.next() {
        Some(Value::String(s)) => s,
        _ => return Err("subelements lookup expects a list and a key name".into()),
    };
    let skip_missing = match it.next() {
        Some(Value::Object(m)) => m.get("skip_missing").is_some_and(crate::vars::is_truthy),
        _ => false,
    };
    let elems: Vec<Value> = match base {
        Value::Object(m) => m.into_iter().map(|(_, v)| v).collect(),
        other => as_list(other),
    };
    let mut out = Vec::new();
    for elem in elems {
        if elem.get("skipped").is_some_and(crate::vars::is_truthy) {
            continue;
        }
        let mut cur = Some(&elem);
        for part in key.split('.') {
            cur = cur.and_then(|c| c.get(part));
        }
        match cur {
            Some(Value::Array(subs)) => {
                for s in subs {
                    out.push(Value::Array(vec![elem.clone(), s.clone()]));
                }
            }
            None if skip_missing => {}
            None => {
                return Err(format!(
                    "could not find '{key}' key in iterated item {}",
                    Value::Object(elem.as_object().cloned().unwrap_or_else(Map::new))
                ))
            }
            Some(other) => {
                return Err(format!(
                    "the key '{key}' should point to a list, got {other}"
                ))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sequences() {
        assert_eq!(
            sequence("start=1 end=3").unwrap(),
            vec![json!("1"), json!("2"), json!("3")]
        );
        assert_eq!(
            sequence("start=0 count=3 stride=2 format=h%02d").unwrap(),
            vec![json!("h00"), json!("h02"), json!("h04")]
        );
        assert_eq!(
            sequence("4-6").unwrap(),
            vec![json!("4"), json!("5"), json!("6")]
        );
    }

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
        assert_eq!(
            r,
            vec![
                json!([{"n": "a", "k": [1, 2]}, 1]),
                json!([{"n": "a", "k": [1, 2]}, 2])
            ]
        );
    }
}
