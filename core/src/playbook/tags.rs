//! Tag selection as ansible-playbook does it (`--tags`, `--skip-tags`, and the special tags
//! `always`, `never`, `tagged`, `untagged`, `all`).

/// True if a task with `tags` runs under `--tags only` (empty = all) and `--skip-tags skip`.
pub fn tags_select(tags: &[String], only: &[String], skip: &[String]) -> bool {
    let untagged = tags.is_empty();
    let has = |t: &str| tags.iter().any(|x| x == t);
    let any_in = |set: &[String]| tags.iter().any(|t| set.contains(t));
    let mut run = true;
    if !only.is_empty() {
        let only_has = |t: &str| only.iter().any(|x| x == t);
        run = has("always")
            || (only_has("all") && !has("never"))
            || any_in(only)
            || (only_has("tagged") && !untagged && !has("never"))
            || (only_has("untagged") && untagged);
    } else if has("never") {
        run = false;
    }
    if run && !skip.is_empty() {
        let skip_has = |t: &str| skip.iter().any(|x| x == t);
        if skip_has("all") {
            if !has("always") || skip_has("always") {
                run = false;
            }
        } else if any_in(skip)
            || (skip_has("tagged") && !untagged)
            || (skip_has("untagged") && untagged)
        {
            run = false;
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn special_tags() {
        assert!(tags_select(&v(&[]), &v(&[]), &v(&[])));
        assert!(!tags_select(&v(&["never"]), &v(&[]), &v(&[])));
        assert!(tags_select(&v(&["never", "x"]), &v(&["x"]), &v(&[])));
        assert!(tags_select(&v(&["always"]), &v(&["x"]), &v(&[])));
        assert!(!tags_select(&v(&["always"]), &v(&[]), &v(&["always"])));
        assert!(tags_select(&v(&["a"]), &v(&["tagged"]), &v(&[])));
        assert!(!tags_select(&v(&[]), &v(&["tagged"]), &v(&[])));
        assert!(tags_select(&v(&[]), &v(&["untagged"]), &v(&[])));
        assert!(!tags_select(&v(&["a"]), &v(&["all"]), &v(&["a"])));
        assert!(tags_select(&v(&["always"]), &v(&[]), &v(&["all"])));
    }
}
