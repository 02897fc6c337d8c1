//! Dictionary filters: dict2items, items2dict, combine.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error};

use super::{fail, items};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("combine", combine);
}

fn map_pairs(v: &Value, filter: &str) -> Result<Vec<(Value, Value)>, Error> {
    if v.kind() != ValueKind::Map {
        return Err(fail(format!(
            "{filter} requires a dictionary, got {}",
            crate::template::convert::py_type_name(v)
        )));
    }
    v.try_iter()?
        .map(|k| {
            let val = v.get_item(&k)?;
            Ok((k, val))
        })
        .collect()
}

/// `dict2items(key_name='key', value_name='value')`.
fn dict2items(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    let (kn, vn) = (
        key_name.unwrap_or_else(|| "key".into()),
        value_name.unwrap_or_else(|| "value".into()),
    );
    Ok(Value::from(
        map_pairs(&v, "dict2items")?
            .into_iter()
            .map(|(k, val)| {
                Value::from_pairs([
                    (Value::from(kn.as_str()), k),
                    (Value::from(vn.as_str()), val),
                ])
            })
            .collect::<Vec<_>>(),
    ))
}

/// `items2dict(key_name='key', value_name='value')`.
fn items2dict(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: Option<Value> = kwargs.get("key_name")?;
    let value_name: Option<Value> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    // item[key_name]: names are usually strings, but may be indexes (`key_name=0` for pairs).
    let (kn, vn) = (
        key_name.unwrap_or_else(|| Value::from("key")),
        value_name.unwrap_or_else(|| Value::from("value")),
    );
    let mut out: Vec<(Value, Value)> = Vec::new();
    for item in items(&v, "items2dict")? {
        let k = item.get_item(&kn)?;
        let val = item.get_item(&vn)?;
        if k.is_undefined() || val.is_undefined() {
            return Err(fail(format!(
                "items2dict requires each item to have '{kn}' and '{vn}' keys"
            )));
        }
        insert(&mut out, k, val);
    }
    Ok(Value::from_pairs(out))
}

fn insert(map: &mut Vec<(Value, Value)>, k: Value, v: Value) {
    if let Some(slot) = map.iter_mut().find(|(existing, _)| *existing == k) {
        slot.1 = v;
    } else {
        map.push((k, v));
    }
}

/// `combine(*dicts, recursive=False, list_merge='replace')`.
fn combine(v: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive: bool = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let list_merge: String = kwargs
        .get::<Option<String>>("list_merge")?
        .unwrap_or_else(|| "replace".into());
    kwargs.assert_all_used()?;
    if ![
        "replace",
        "keep",
        "append",
        "prepend",
        "append_rp",
        "prepend_rp",
    ]
    .contains(&list_merge.as_str())
    {
        return Err(fail(format!("combine: invalid list_merge '{list_merge}'")));
    }
    let mut dicts = Vec::new();
    for d in std::iter::once(v).chain(others.0) {
        // a list of dicts is flattened into the arguments, as Ansible does
        if matches!(d.kind(), ValueKind::Seq | ValueKind::Iterable) {
            dicts.extend(d.try_iter()?);
        } else {
            dicts.push(d);
        }
    }
    let mut acc: Vec<(Value, Value)> = Vec::new();
    for d in dicts {
        merge(&mut acc, &d, recursive, &list_merge)?;
    }
    Ok(Value::from_pairs(acc))
}

fn merge(
    acc: &mut Vec<(Value, Value)>,
    d: &Value,
    recursive: bool,
    list_merge: &str,
) -> Result<(), Error> {
    for (k, new) in map_pairs(d, "combine")? {
        let existing = acc.iter().position(|(x, _)| *x == k);
        let merged = match existing.map(|i| acc[i].1.clone()) {
            Some(old)
                if recursive && old.kind() == ValueKind::Map && new.kind() == ValueKind::Map =>
            {
                let mut inner = map_pairs(&old, "combine")?;
                merge(&mut inner, &new, recursive, list_merge)?;
                Value::from_pairs(inner)
            }
            Some(old) if old.kind() == ValueKind::Seq && new.kind() == ValueKind::Seq => {
                merge_lists(&old, &new, list_merge)?
            }
            _ => new,
        };
        match existing {
            Some(i) => acc[i].1 = merged,
            None => acc.push((k, merged)),
        }
    }
    Ok(())
}

fn merge_lists(old: &Value, new: &Value, mode: &str) -> Result<Value, Error> {
    let old: Vec<Value> = old.try_iter()?.collect();
    let new: Vec<Value> = new.try_iter()?.collect();
    Ok(Value::from(match mode {
        "keep" => old,
        "append" => old.into_iter().chain(new).collect(),
        "prepend" => new.into_iter().chain(old).collect(),
        "append_rp" => old
            .into_iter()
            .filter(|x| !new.contains(x))
            .chain(new.iter().cloned())
            .collect(),
        "prepend_rp" => new
            .iter()
            .cloned()
            .chain(old.into_iter().filter(|x| !new.contains(x)))
            .collect(),
        _ => new,
    }))
}
