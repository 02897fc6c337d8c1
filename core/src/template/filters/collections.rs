//! List filters: set theory, flatten, zip, product/permutations/combinations, subelements,
//! shuffle/random, extract, first/last.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, State};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::{fail, items, text};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("unique", unique);
    env.add_filter("union", |a: Value, b: Value| -> Result<Value, Error> {
        let mut all = items(&a, "union")?;
        all.extend(items(&b, "union")?);
        Ok(Value::from(dedup(all)))
    });
    env.add_filter("intersect", |a: Value, b: Value| -> Result<Value, Error> {
        let b = items(&b, "intersect")?;
        Ok(Value::from(dedup(
            items(&a, "intersect")?
                .into_iter()
                .filter(|x| b.contains(x))
                .collect(),
        )))
    });
    env.add_filter("difference", |a: Value, b: Value| -> Result<Value, Error> {
        let b = items(&b, "difference")?;
        Ok(Value::from(dedup(
            items(&a, "difference")?
                .into_iter()
                .filter(|x| !b.contains(x))
                .collect(),
        )))
    });
    env.add_filter(
        "symmetric_difference",
        |a: Value, b: Value| -> Result<Value, Error> {
            let a = items(&a, "symmetric_difference")?;
            let b = items(&b, "symmetric_difference")?;
            let mut union = a.clone();
            union.extend(b.iter().cloned());
            Ok(Value::from(
                dedup(union)
                    .into_iter()
                    .filter(|x| !(a.contains(x) && b.contains(x)))
                    .collect::<Vec<_>>(),
            ))
        },
    );
    env.add_filter("flatten", flatten);
    env.add_filter(
        "zip",
        |a: Value, rest: Rest<Value>| -> Result<Value, Error> { zip(a, rest.0, None) },
    );
    env.add_filter(
        "zip_longest",
        |a: Value, rest: Rest<Value>, kwargs: Kwargs| {
            let fill: Option<Value> = kwargs.get("fillvalue")?;
            kwargs.assert_all_used()?;
            zip(a, rest.0, Some(fill.unwrap_or(Value::from(()))))
        },
    );
    env.add_filter(
        "product",
        |a: Value, rest: Rest<Value>| -> Result<Value, Error> {
            let mut acc: Vec<Vec<Value>> = vec![vec![]];
            let mut lists = vec![items(&a, "product")?];
            for r in rest.iter() {
                lists.push(items(r, "product")?);
            }
            for list in lists {
                acc = acc
                    .into_iter()
                    .flat_map(|prefix| {
                        list.iter().map(move |x| {
                            let mut p = prefix.clone();
                            p.push(x.clone());
                            p
                        })
                    })
                    .collect();
            }
            Ok(Value::from(
                acc.into_iter().map(Value::from).collect::<Vec<_>>(),
            ))
        },
    );
    env.add_filter(
        "permutations",
        |a: Value, r: Option<usize>| -> Result<Value, Error> {
            let pool = items(&a, "permutations")?;
            let r = r.unwrap_or(pool.len());
            let mut out = Vec::new();
            permute(
                &pool,
                r,
                &mut Vec::new(),
                &mut vec![false; pool.len()],
                &mut out,
            );
            Ok(Value::from(out))
        },
    );
    env.add_filter(
        "combinations",
        |a: Value, r: usize| -> Result<Value, Error> {
            let pool = items(&a, "combinations")?;
            let mut out = Vec::new();
            combine(&pool, r, 0, &mut Vec::new(), &mut out);
            Ok(Value::from(out))
        },
    );
    env.add_filter("subelements", subelements);
    env.add_filter(
        "shuffle",
        |a: Value, kwargs: Kwargs| -> Result<Value, Error> {
            let seed: Option<Value> = kwargs.get("seed")?;
            kwargs.assert_all_used()?;
            let mut list = items(&a, "shuffle")?;
            list.shuffle(&mut rng(seed));
            Ok(Value::from(list))
        },
    );
    env.add_filter("random", random);
    env.add_filter("extract", extract);
    env.add_filter("first", |v: Value| -> Result<Value, Error> {
        if let Some(s) = v.as_str() {
            return Ok(s.chars().next().map_or(Value::UNDEFINED, Value::from));
        }
        Ok(items(&v, "first")?
            .into_iter()
            .next()
            .unwrap_or(Value::UNDEFINED))
    });
    env.add_filter("last", |v: Value| -> Result<Value, Error> {
        if let Some(s) = v.as_str() {
            return Ok(s.chars().last().map_or(Value::UNDEFINED, Value::from));
        }
        Ok(items(&v, "last")?.pop().unwrap_or(Value::UNDEFINED))
    });
}

/// Keeps the first occurrence of each value, in order.
/// `unique(case_sensitive=False, attribute=None)`: Jinja2's filter, which ansible-core calls
/// first (strings compared without case unless `case_sensitive`; the first one is kept).
fn unique(v: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let case_sensitive: Option<bool> = kwargs.get("case_sensitive")?;
    let attribute: Option<String> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    let mut seen: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    for item in items(&v, "unique")? {
        let mut key = match &attribute {
            Some(a) => item.get_attr(a)?,
            None => item.clone(),
        };
        if !case_sensitive.unwrap_or(false) {
            if let Some(s) = key.as_str() {
                key = Value::from(s.to_lowercase());
            }
        }
        if !seen.contains(&key) {
            seen.push(key);
            out.push(item);
        }
    }
    Ok(Value::from(out))
}

fn dedup(list: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(list.len());
    for v in list {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// `flatten(levels=None, skip_nulls=True)`.
fn flatten(v: Value, levels: Option<i64>, kwargs: Kwargs) -> Result<Value, Error> {
    let levels: Option<i64> = match levels {
        Some(l) => Some(l),
        None => kwargs.get("levels")?,
    };
    let skip_nulls: Option<bool> = kwargs.get("skip_nulls")?;
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    flatten_into(
        &items(&v, "flatten")?,
        levels,
        skip_nulls.unwrap_or(true),
        &mut out,
    );
    Ok(Value::from(out))
}

fn flatten_into(list: &[Value], levels: Option<i64>, skip_nulls: bool, out: &mut Vec<Value>) {
    for item in list {
        if skip_nulls && item.is_none() {
            continue;
        }
        let is_list = matches!(item.kind(), ValueKind::Seq | ValueKind::Iterable);
        if is_list && levels.is_none_or(|l| l >= 1) {
            let inner: Vec<Value> = item.try_iter().map(|i| i.collect()).unwrap_or_default();
            flatten_into(&inner, levels.map(|l| l - 1), skip_nulls, out);
        } else {
            out.push(item.clone());
        }
    }
}

fn zip(a: Value, rest: Vec<Value>, fill: Option<Value>) -> Result<Value, Error> {
    let mut lists = vec![items(&a, "zip")?];
    for r in &rest {
        lists.push(items(r, "zip")?);
    }
    let len = match fill {
        Some(_) => lists.iter().map(Vec::len).max().unwrap_or(0),
        None => lists.iter().map(Vec::len).min().unwrap_or(0),
    };
    let fill = fill.unwrap_or_default();
    Ok(Value::from(
        (0..len)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

fn permute(
    pool: &[Value],
    r: usize,
    cur: &mut Vec<Value>,
    used: &mut Vec<bool>,
    out: &mut Vec<Value>,
) {
    if cur.len() == r {
        out.push(Value::from(cur.clone()));
        return;
    }
    for i in 0..pool.len() {
        if used[i] {
            continue;
        }
        used[i] = true;
        cur.push(pool[i].clone());
        permute(pool, r, cur, used, out);
        cur.pop();
        used[i] = false;
    }
}

fn combine(pool: &[Value], r: usize, start: usize, cur: &mut Vec<Value>, out: &mut Vec<Value>) {
    if cur.len() == r {
        out.push(Value::from(cur.clone()));
        return;
    }
    for i in start..pool.len() {
        cur.push(pool[i].clone());
        combine(pool, r, i + 1, cur, out);
        cur.pop();
    }
}

/// `subelements(path, skip_missing=False)`: pairs of (item, subitem).
fn subelements(
    v: Value,
    path: String,
    opts: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let mut skip_missing: bool = kwargs.get::<Option<bool>>("skip_missing")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    if let Some(o) = opts {
        if o.kind() == ValueKind::Bool {
            skip_missing = o.is_true();
        } else if let Ok(s) = o.get_attr("skip_missing") {
            skip_missing = s.is_true();
        }
    }
    let list = if v.kind() == ValueKind::Map {
        v.try_iter()?
            .map(|k| v.get_item(&k).unwrap_or_default())
            .collect()
    } else {
        items(&v, "subelements")?
    };
    let mut out = Vec::new();
    for item in list {
        let mut cur = item.clone();
        let mut missing = false;
        for part in path.split('.') {
            let next = cur.get_attr(part).unwrap_or_default();
            if next.is_undefined() {
                missing = true;
                break;
            }
            cur = next;
        }
        if missing {
            if skip_missing {
                continue;
            }
            return Err(fail(format!(
                "could not find '{path}' key in iterated item '{}'",
                text(&item)
            )));
        }
        if !matches!(cur.kind(), ValueKind::Seq | ValueKind::Iterable) {
            return Err(fail(format!(
                "the key {path} should point to a list, got '{}'",
                text(&cur)
            )));
        }
        for sub in cur.try_iter()? {
            out.push(Value::from(vec![item.clone(), sub]));
        }
    }
    Ok(Value::from(out))
}

fn rng(seed: Option<Value>) -> rand::rngs::StdRng {
    match seed {
        Some(s) => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            text(&s).hash(&mut h);
            rand::rngs::StdRng::seed_from_u64(h.finish())
        }
        None => rand::rngs::StdRng::from_os_rng(),
    }
}

/// `random(start=None, step=1, seed=None)`: a random element, or a number below an integer.
fn random(v: Value, start: Option<i64>, step: Option<i64>, kwargs: Kwargs) -> Result<Value, Error> {
    let seed: Option<Value> = kwargs.get("seed")?;
    let start = match start {
        Some(s) => Some(s),
        None => kwargs.get("start")?,
    };
    let step = match step {
        Some(s) => Some(s),
        None => kwargs.get("step")?,
    };
    kwargs.assert_all_used()?;
    let mut r = rng(seed);
    if v.kind() == ValueKind::Number {
        let end = v
            .as_i64()
            .ok_or_else(|| fail("random: end must be an integer"))?;
        let start = start.unwrap_or(0);
        let step = step.unwrap_or(1).max(1);
        let count = (end - start + step - 1) / step;
        if count <= 0 {
            return Err(fail("random: empty range"));
        }
        return Ok(Value::from(start + r.random_range(0..count) * step));
    }
    let list = items(&v, "random")?;
    if list.is_empty() {
        return Err(fail("random: the list is empty"));
    }
    let i = r.random_range(0..list.len());
    Ok(list[i].clone())
}

/// `extract(container, morekeys=None)`: `container[item]`, then deeper keys.
fn extract(
    state: &State,
    item: Value,
    container: Value,
    morekeys: Option<Value>,
) -> Result<Value, Error> {
    let _ = state;
    let mut v = container.get_item(&item)?;
    if let Some(keys) = morekeys {
        let keys: Vec<Value> = if matches!(keys.kind(), ValueKind::Seq) {
            keys.try_iter()?.collect()
        } else {
            vec![keys]
        };
        for k in keys {
            v = v.get_item(&k)?;
        }
    }
    Ok(v)
}
