//! `debug`: prints a message or a variable's value.

use async_trait::async_trait;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::{ArgError, ModuleParams};
use drover_core::probe::ProbeRequest;
use drover_core::template::{TemplateError, TemplateErrorKind};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::params::de_opt_string;

/// Parameters of `debug`.
#[derive(Debug, Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
pub struct DebugParams {
    /// The message (any value; default `Hello world!`). A message that is None (`msg: "{{ none
    /// }}"`) is shown as null, as ansible-core shows it, not replaced by the default.
    #[serde(default, deserialize_with = "present_value")]
    #[param(kind = "str", default = "Hello world!")]
    pub msg: Option<Value>,
    /// A variable name or expression whose value to show.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub var: Option<String>,
    /// Minimum `-v` count at which the message is shown.
    #[serde(default)]
    pub verbosity: Option<u64>,
}

/// A key that is present gives `Some`, even when its value is null.
fn present_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The value ansible-core 2.19 shows for a `var` expression that is undefined: a numbered
/// marker with the reason (`<< error 1 - 'x' is undefined >>`).
pub fn undefined_marker(reason: &str) -> String {
    // drover's own additions to the message (the template text, the variable it came from).
    let reason = reason.split(". Template: ").next().unwrap_or(reason);
    let reason = reason.split(" (in the value of '").next().unwrap_or(reason);
    format!("<< error 1 - {reason} >>")
}

/// The `debug` module.
pub struct Debug;

#[async_trait]
impl TypedModule for Debug {
    const NAME: &'static str = "debug";
    const CONTROLLER_ONLY: bool = true;
    type Params = DebugParams;

    fn check_more(&self, args: &Map<String, Value>) -> Result<(), ArgError> {
        if args.contains_key("msg") && args.contains_key("var") {
            return Err(ArgError::invalid(
                "debug",
                None,
                "'msg' and 'var' are incompatible options",
            ));
        }
        Ok(())
    }

    fn probes(&self, _args: &Value, _diff: bool) -> Option<Vec<ProbeRequest>> {
        Some(Vec::new())
    }

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: DebugParams,
    ) -> Result<ModuleResult, ModuleError> {
        if p.msg.is_some() && p.var.is_some() {
            return Err(ModuleError::BadArgs {
                module: "debug".into(),
                message: "'msg' and 'var' are incompatible options".into(),
            });
        }
        let wanted = p.verbosity.unwrap_or(0);
        if u64::from(ctx.controller.verbosity()) < wanted {
            return Ok(ModuleResult::ok()
                .with("skipped", true)
                .with("skipped_reason", "Verbosity threshold not met."));
        }
        if let Some(var) = p.var {
            let expr = var.trim();
            let defined = ctx
                .controller
                .eval_condition(&format!("({expr}) is defined"))
                .unwrap_or(true);
            // The evaluation's own error names what is undefined (`'nope'` for `var: x` when
            // `x: "{{ nope }}"`); an expression that evaluates but is not defined names itself.
            let evaluated = match ctx.controller.eval_expr(expr) {
                Ok(_) if !defined => Err(TemplateError::with_kind(
                    TemplateErrorKind::Undefined,
                    format!("'{expr}' is undefined"),
                )),
                other => other,
            };
            let value = match evaluated {
                Ok(v) => v,
                Err(e) if e.kind == TemplateErrorKind::Undefined => {
                    Value::String(undefined_marker(&e.message))
                }
                Err(e) => return Err(e.into()),
            };
            return Ok(ModuleResult::ok().with(&var, value));
        }
        Ok(match p.msg {
            None => ModuleResult::ok().with_msg("Hello world!"),
            Some(Value::String(s)) => ModuleResult::ok().with_msg(s),
            Some(other) => ModuleResult::ok().with("msg", other),
        })
    }
}
