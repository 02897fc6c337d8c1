//! `drover doc`: modules and their parameters, read from each module's parameter type (the same
//! description the argument checks use, so it cannot drift from what a module accepts).

use std::io::Write;
use std::process::ExitCode;

use drover_core::module::Module;
use drover_core::params::FieldSpec;

use crate::args::DocArgs;
use crate::{fail, EXIT_ERROR};

/// Runs `drover doc`.
pub fn run(args: &DocArgs) -> ExitCode {
    let registry = drover_modules::registry();
    let Some(name) = &args.module else {
        list(&registry, args.json);
        return ExitCode::SUCCESS;
    };
    let Some(module) = registry.get(name) else {
        let hint = registry
            .suggest(name)
            .map(|s| format!("did you mean `{s}`? `drover doc` lists every module"));
        let what = if registry.is_known_unimplemented(name) {
            format!("`{name}` is an Ansible module drover does not implement yet")
        } else {
            format!("no module named `{name}`")
        };
        return fail(
            what,
            Some(hint.as_deref().unwrap_or("`drover doc` lists every module")),
            EXIT_ERROR,
        );
    };
    let Some(spec) = module.params_spec() else {
        return fail(
            format!("`{name}` does not describe its parameters"),
            None,
            EXIT_ERROR,
        );
    };
    if args.json {
        let mut doc = spec.describe();
        doc["module"] = module.name().into();
        emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&doc).unwrap_or_default()
        ));
        return ExitCode::SUCCESS;
    }
    emit(&render(module.as_ref(), &spec.all_fields(), spec.doc));
    ExitCode::SUCCESS
}

/// Every module's name and first doc line (or, with `json`, an array of `{name, description}`).
fn list(registry: &drover_core::module::ModuleRegistry, json: bool) {
    let mut rows = Vec::new();
    for name in registry.names() {
        let Some(module) = registry.get(name) else {
            continue;
        };
        // Aliases (`ansible.builtin.copy`, `yum`) are the same module: list it once.
        if module.name() != name {
            continue;
        }
        let doc = module.params_spec().map_or("", |s| first_line(s.doc));
        rows.push((name, doc));
    }
    if json {
        let items: Vec<_> = rows
            .iter()
            .map(|(n, d)| serde_json::json!({"name": n, "description": d}))
            .collect();
        emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        ));
        return;
    }
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let text: String = rows
        .iter()
        .map(|(name, doc)| format!("{name:width$}  {doc}").trim_end().to_string() + "\n")
        .collect();
    emit(&text);
}

/// Writes to stdout; a closed pipe (`drover doc | head`) is not an error.
fn emit(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// The first line of a parameters type's doc, unless it only says whose parameters they are.
fn first_line(text: &str) -> &str {
    let line = text.lines().next().unwrap_or("").trim();
    if line.starts_with("Parameters of") {
        ""
    } else {
        line
    }
}

/// The human page: the module's doc, then each option with its type, default, choices, aliases.
fn render(module: &dyn Module, fields: &[&FieldSpec], doc: &str) -> String {
    let mut out = format!("> {}\n", module.name().to_uppercase());
    let lines: Vec<&str> = doc
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("Parameters of"))
        .collect();
    if lines.iter().any(|l| !l.is_empty()) {
        out.push('\n');
        for line in lines {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str("\nOPTIONS (= is mandatory):\n");
    let mut fields = fields.to_vec();
    fields.sort_by_key(|f| f.name);
    for f in fields {
        let mark = if f.required { '=' } else { '-' };
        out.push_str(&format!("\n{mark} {}\n", f.name));
        for line in f.description.lines() {
            out.push_str(&format!("      {}\n", line.trim()));
        }
        if !f.aliases.is_empty() {
            out.push_str(&format!("      aliases: {}\n", f.aliases.join(", ")));
        }
        if !f.choices.is_empty() {
            out.push_str(&format!("      choices: {}\n", f.choices.join(", ")));
        }
        if let Some(default) = f.default {
            out.push_str(&format!("      default: {default}\n"));
        }
        let kind = serde_json::to_value(f.kind).unwrap_or_default();
        out.push_str(&format!("      type: {}\n", kind.as_str().unwrap_or("raw")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_lists_required_options_and_choices() {
        let registry = drover_modules::registry();
        let module = registry.get("file").expect("file module");
        let spec = module.params_spec().expect("described");
        let page = render(module.as_ref(), &spec.all_fields(), spec.doc);
        assert!(page.starts_with("> FILE\n"), "{page}");
        assert!(page.contains("\n= path\n"), "{page}");
        assert!(page.contains("aliases: dest, name"), "{page}");
        assert!(
            page.contains("choices: absent, directory, file, hard, link, touch"),
            "{page}"
        );
        assert!(page.contains("\n- mode\n"), "{page}");
    }
}
