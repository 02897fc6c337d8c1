//! Controller-side modules with the real templar.

mod common;

use common::Env;
use serde_json::json;

#[tokio::test]
async fn debug_msg_var_and_verbosity() {
    let mut env = Env::new();
    env.controller.vars.insert("l".into(), json!([1, 2]));
    env.controller.vars.insert("x".into(), json!(3));
    let r = env.ok("debug", json!({"msg": "hello"})).await;
    assert_eq!(r.to_value(), json!({"changed": false, "msg": "hello"}));
    let r = env.ok("debug", json!({})).await;
    assert_eq!(r.msg.as_deref(), Some("Hello world!"));
    let r = env.ok("debug", json!({"msg": [1, 2]})).await;
    assert_eq!(r.to_value()["msg"], json!([1, 2]));
    let r = env.ok("debug", json!({"var": "l"})).await;
    assert_eq!(r.to_value(), json!({"changed": false, "l": [1, 2]}));
    let r = env.ok("debug", json!({"var": "x + 1"})).await;
    assert_eq!(r.to_value()["x + 1"], 4);
    let r = env.ok("debug", json!({"var": "nope"})).await;
    assert_eq!(r.to_value()["nope"], "<< error 1 - 'nope' is undefined >>");
    let r = env.ok("debug", json!({"msg": "hi", "verbosity": 2})).await;
    assert_eq!(r.to_value()["skipped"], true);
    assert_eq!(
        r.to_value()["skipped_reason"],
        "Verbosity threshold not met."
    );
    env.controller.verbosity = 2;
    let r = env.ok("debug", json!({"msg": "hi", "verbosity": 2})).await;
    assert_eq!(r.msg.as_deref(), Some("hi"));
    env.assert_rejects("debug", json!({"msg": "a", "var": "x"}), &["incompatible"])
        .await;
    env.assert_rejects("debug", json!({"mgs": "a"}), &["`mgs`"])
        .await;
    assert!(drover_modules::registry()
        .get("debug")
        .unwrap()
        .controller_only());
}

#[tokio::test]
async fn set_fact_returns_facts() {
    let env = Env::new();
    let r = env
        .ok("set_fact", json!({"a": "yes", "b": 1, "cacheable": true}))
        .await;
    assert_eq!(
        r.to_value(),
        json!({"changed": false, "ansible_facts": {"a": "yes", "b": 1}})
    );
    env.assert_rejects(
        "set_fact",
        json!({"bad-name": 1}),
        &["'bad-name' is not valid"],
    )
    .await;
    env.assert_rejects("set_fact", json!({}), &["at least one"])
        .await;
}

#[tokio::test]
async fn assert_passes_and_fails_like_ansible() {
    let mut env = Env::new();
    env.controller.vars.insert("x".into(), json!(3));
    env.controller.vars.insert("l".into(), json!([1, 2]));
    let r = env
        .ok("assert", json!({"that": ["x == 3", "l | length == 2"]}))
        .await;
    assert_eq!(
        r.to_value(),
        json!({"changed": false, "msg": "All assertions passed"})
    );
    let r = env
        .ok("assert", json!({"that": "x == 3", "success_msg": "good"}))
        .await;
    assert_eq!(r.msg.as_deref(), Some("good"));
    let r = env
        .run(
            "assert",
            json!({"that": ["x == 3", "x == 4"], "fail_msg": "bad"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        r.to_value(),
        json!({"changed": false, "failed": true, "msg": "bad", "assertion": "x == 4", "evaluated_to": false})
    );
    let r = env
        .run(
            "assert",
            json!({"that": ["x == 4"], "msg": "m"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(r.msg.as_deref(), Some("m"));
    let r = env
        .run("assert", json!({"that": "x == 5"}), false, false)
        .await
        .unwrap();
    assert_eq!(r.msg.as_deref(), Some("Assertion failed"));
    env.assert_rejects("assert", json!({"fail_msg": "x"}), &["`that`"])
        .await;
}

#[tokio::test]
async fn fail_fails() {
    let env = Env::new();
    let r = env.run("fail", json!({}), false, false).await.unwrap();
    assert_eq!(
        r.to_value(),
        json!({"changed": false, "failed": true, "msg": "Failed as requested from task"})
    );
    let r = env
        .run("fail", json!({"msg": "boom"}), false, false)
        .await
        .unwrap();
    assert_eq!(r.msg.as_deref(), Some("boom"));
    env.assert_rejects("fail", json!({"message": "boom"}), &["`message`"])
        .await;
}
