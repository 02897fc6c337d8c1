//! `command`, `shell` and `raw` against the real local transport.

mod common;

use common::Env;
use serde_json::json;

#[tokio::test]
async fn command_runs_without_a_shell_and_reports_like_ansible() {
    let env = Env::new();
    let r = env
        .ok(
            "command",
            json!({"_raw_params": "echo hello \"a b\" ';' '$(id)'"}),
        )
        .await;
    let v = r.to_value();
    assert_eq!(v["stdout"], "hello a b ; $(id)");
    assert_eq!(v["stdout_lines"], json!(["hello a b ; $(id)"]));
    assert_eq!(v["rc"], 0);
    assert_eq!(v["cmd"], json!(["echo", "hello", "a b", ";", "$(id)"]));
    assert_eq!(v["changed"], true);
    assert_eq!(v["msg"], "");
    let start = v["start"].as_str().unwrap();
    assert_eq!(start.len(), "2026-11-22 18:31:33.959600".len(), "{start}");
    assert!(
        v["delta"].as_str().unwrap().starts_with("0:00:0"),
        "{}",
        v["delta"]
    );
    assert_eq!(v["stderr"], "");
}

#[tokio::test]
async fn command_argv_chdir_stdin_and_env_expansion() {
    let env = Env::new();
    let dir = env.target("");
    let r = env
        .ok(
            "command",
            json!({"argv": ["sh", "-c", "pwd; cat"], "chdir": dir, "stdin": "in put"}),
        )
        .await;
    assert_eq!(
        r.data["stdout"],
        format!("{}\nin put", dir.trim_end_matches('/'))
    );
    let r = env
        .ok(
            "command",
            json!({"cmd": "echo $HOME ${NOPE_UNSET_X} ~root"}),
        )
        .await;
    let home = std::env::var("HOME").unwrap();
    assert_eq!(r.data["stdout"], format!("{home} ${{NOPE_UNSET_X}} /root"));
    let r = env
        .ok(
            "command",
            json!({"cmd": "echo $HOME", "expand_argument_vars": false}),
        )
        .await;
    assert_eq!(r.data["stdout"], "$HOME");
}

#[tokio::test]
async fn nonzero_rc_fails_with_output() {
    let env = Env::new();
    let r = env
        .run(
            "shell",
            json!({"_raw_params": "echo out; echo err >&2; exit 3"}),
            false,
            false,
        )
        .await
        .unwrap();
    let v = r.to_value();
    assert_eq!(v["failed"], true);
    assert_eq!(v["msg"], "non-zero return code");
    assert_eq!(v["rc"], 3);
    assert_eq!(v["stdout"], "out");
    assert_eq!(v["stderr"], "err");
    assert_eq!(v["stderr_lines"], json!(["err"]));
    assert_eq!(v["cmd"], "echo out; echo err >&2; exit 3");
}

#[tokio::test]
async fn shell_interprets_and_keeps_trailing_when_asked() {
    let env = Env::new();
    let r = env
        .ok(
            "shell",
            json!({"cmd": "printf 'a\\n\\n'; echo x | tr x y >&2", "strip_empty_ends": false}),
        )
        .await;
    assert_eq!(r.data["stdout"], "a\n\n");
    assert_eq!(r.data["stderr"], "y\n");
    let r = env
        .ok(
            "shell",
            json!({"cmd": "echo $0", "executable": "/bin/bash"}),
        )
        .await;
    assert_eq!(r.data["stdout"], "/bin/bash");
    let r = env
        .ok(
            "shell",
            json!({"cmd": "cat", "stdin": "x", "stdin_add_newline": false}),
        )
        .await;
    assert_eq!(r.data["stdout"], "x");
}

#[tokio::test]
async fn creates_and_removes_skip_with_ansible_messages() {
    let env = Env::new();
    let marker = env.target("made it.txt");
    let args = json!({"cmd": format!("touch '{marker}'"), "_raw_params": null, "creates": env.target("made*")});
    let first = env.run("shell", args.clone(), false, false).await.unwrap();
    assert!(first.changed && !first.failed, "{:?}", first.to_value());
    assert!(std::path::Path::new(&marker).exists());
    let second = env.run("shell", args, false, false).await.unwrap();
    assert!(!second.changed);
    let pattern = env.target("made*");
    assert_eq!(
        second.msg.as_deref(),
        Some(format!("Did not run command since '{pattern}' exists").as_str())
    );
    assert_eq!(
        second.data["stdout"],
        format!("skipped, since {pattern} exists")
    );
    assert_eq!(second.data["start"], serde_json::Value::Null);

    let r = env
        .ok(
            "command",
            json!({"cmd": "false", "removes": env.target("nothing-here")}),
        )
        .await;
    assert!(!r.changed);
    assert!(r.msg.unwrap().contains("does not exist"));
    // relative to chdir
    let r = env
        .ok(
            "command",
            json!({"cmd": "false", "creates": "made it.txt", "chdir": env.target("")}),
        )
        .await;
    assert!(!r.changed);
}

#[tokio::test]
async fn check_mode_does_not_run() {
    let env = Env::new();
    let marker = env.target("m");
    let r = env
        .run(
            "shell",
            json!({"cmd": format!("touch {marker}")}),
            true,
            false,
        )
        .await
        .unwrap();
    assert!(!r.changed);
    assert_eq!(r.data["skipped"], true);
    assert_eq!(
        r.msg.as_deref(),
        Some("Command would have run if not in check mode")
    );
    assert!(!std::path::Path::new(&marker).exists());
    // with creates (absent) it reports changed, not skipped
    let r = env
        .run(
            "command",
            json!({"cmd": format!("touch {marker}"), "creates": marker}),
            true,
            false,
        )
        .await
        .unwrap();
    assert!(r.changed);
    assert!(r.data.get("skipped").is_none());
    assert!(!std::path::Path::new(&marker).exists());
    let r = env
        .run(
            "raw",
            json!({"_raw_params": format!("touch {marker}")}),
            true,
            false,
        )
        .await
        .unwrap();
    assert_eq!(r.data["skipped"], true);
    assert!(!std::path::Path::new(&marker).exists());
}

#[tokio::test]
async fn raw_keeps_output_verbatim() {
    let env = Env::new();
    let r = env
        .ok("raw", json!({"_raw_params": "echo raw; echo e >&2"}))
        .await;
    assert_eq!(r.data["stdout"], "raw\n");
    assert_eq!(r.data["stdout_lines"], json!(["raw"]));
    assert_eq!(r.data["stderr"], "e\n");
    assert!(r.changed);
    let r = env
        .run("raw", json!({"_raw_params": "exit 4"}), false, false)
        .await
        .unwrap();
    assert!(r.failed);
    assert_eq!(r.data["rc"], 4);
}

#[tokio::test]
async fn bad_arguments_name_the_key() {
    let env = Env::new();
    env.assert_rejects(
        "command",
        json!({"cmd": "true", "chdri": "/"}),
        &["`chdri`", "did you mean `chdir`"],
    )
    .await;
    env.assert_rejects(
        "command",
        json!({"chdir": "/"}),
        &["one of the following is required: _raw_params, cmd, argv"],
    )
    .await;
    env.assert_rejects(
        "shell",
        json!({"cmd": "true", "strip_empty_ends": "maybe"}),
        &["boolean"],
    )
    .await;
    env.assert_rejects("command", json!({"argv": {"a": 1}}), &["list"])
        .await;
    // a run also rejects unknown keys (the argument check runs before the parameters parse)
    let m = drover_modules::registry();
    let err = m
        .get("raw")
        .unwrap()
        .run(
            &env.ctx(false, false),
            &json!({"_raw_params": "true", "bogus": 1}),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unsupported parameter `bogus`"),
        "{err}"
    );
}

/// A program `command` cannot run fails as in ansible-core (Python's `execvp` errno as `rc`, no
/// output, the command line as one quoted string), without running anything else.
#[tokio::test]
async fn missing_program_fails_as_ansible_core() {
    let env = Env::new();
    let r = env
        .run(
            "command",
            json!({"cmd": "definitely-not-a-program-xyz --opt 'a b'"}),
            false,
            false,
        )
        .await
        .unwrap();
    let v = r.to_value();
    assert_eq!(v["failed"], true);
    assert_eq!(v["changed"], false);
    assert_eq!(v["rc"], 2);
    assert_eq!(v["msg"], "Error executing command.");
    assert_eq!(v["cmd"], "definitely-not-a-program-xyz --opt 'a b'");
    assert_eq!(
        (v["stdout"].as_str(), v["stderr"].as_str()),
        (Some(""), Some(""))
    );
    // a path that is not executable: EACCES
    let plain = env.target("plain.txt");
    std::fs::write(&plain, "echo no\n").unwrap();
    let r = env
        .run("command", json!({"argv": [plain]}), false, false)
        .await
        .unwrap();
    assert_eq!(r.data["rc"], 13);
    assert_eq!(r.msg.as_deref(), Some("Error executing command."));
    // through a shell it is the shell's own failure
    let r = env
        .run(
            "shell",
            json!({"cmd": "definitely-not-a-program-xyz"}),
            false,
            false,
        )
        .await
        .unwrap();
    assert_eq!(r.data["rc"], 127);
    assert_eq!(r.msg.as_deref(), Some("non-zero return code"));
}

/// `command` runs the program itself, never a shell builtin of the same name (dash's `echo`
/// would interpret the backslash).
#[tokio::test]
async fn command_runs_the_program_not_a_builtin() {
    let env = Env::new();
    let r = env.ok("command", json!({"argv": ["echo", "a\\nb"]})).await;
    assert_eq!(r.data["stdout"], "a\\nb");
}

#[tokio::test]
async fn chdir_failure_is_reported_and_tilde_works() {
    let env = Env::new();
    let r = env
        .run(
            "command",
            json!({"cmd": "pwd", "chdir": env.target("missing")}),
            false,
            false,
        )
        .await
        .unwrap();
    let v = r.to_value();
    assert_eq!(v["failed"], true);
    assert_eq!(v["msg"], "Unable to change directory before execution.");
    assert_eq!((v["rc"].is_null(), v["start"].is_null()), (true, true));
    let r = env.ok("command", json!({"cmd": "pwd", "chdir": "~"})).await;
    assert_eq!(r.data["stdout"], std::env::var("HOME").unwrap());
}

/// `chdir` through a symlink lands in the physical directory, as Python's `os.chdir` does:
/// `$PWD` and `pwd` name the link's target.
#[tokio::test]
async fn chdir_resolves_symlinks_like_os_chdir() {
    let env = Env::new();
    let real = env.target("www_root/site");
    std::fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(env.target("www_root"), env.target("www")).unwrap();
    let via_link = format!("{}/site", env.target("www"));
    let r = env
        .ok(
            "shell",
            json!({"cmd": "dirname \"$PWD\"", "chdir": via_link}),
        )
        .await;
    assert_eq!(r.data["stdout"], env.target("www_root"));
    let r = env
        .ok("command", json!({"cmd": "pwd", "chdir": via_link}))
        .await;
    assert_eq!(r.data["stdout"], real);
}

#[tokio::test]
async fn check_mode_honours_creates() {
    let env = Env::new();
    let existing = env.target("");
    let r = env
        .run(
            "command",
            json!({"cmd": "false", "creates": existing}),
            true,
            false,
        )
        .await
        .unwrap();
    assert!(!r.changed && !r.failed);
    assert!(r.msg.unwrap().starts_with("Did not run command since"));
}

/// Argument errors found at run time (a task whose arguments are only known then): the
/// module's own run refuses them with the argument check's message (the executor rewords it as
/// ansible-core 2.19 does), and `run_with` on parameters a check cannot see fails the task.
#[tokio::test]
async fn argument_errors_at_run_time_are_worded_as_ansible_core() {
    let env = Env::new();
    let reg = drover_modules::registry();
    for (module, args, msg) in [
        (
            "command",
            json!({"chdir": "/"}),
            "one of the following is required: _raw_params, cmd, argv",
        ),
        (
            "command",
            json!({"_raw_params": "echo hi", "argv": ["echo", "hi"]}),
            "parameters are mutually exclusive: _raw_params|cmd|argv",
        ),
        (
            "shell",
            json!({"_raw_params": ""}),
            "one of the following is required: _raw_params, cmd, argv",
        ),
        (
            "shell",
            json!({"_raw_params": "echo hi", "expand_argument_vars": false}),
            "unsupported parameter `expand_argument_vars`",
        ),
    ] {
        let err = reg
            .get(module)
            .unwrap()
            .run(&env.ctx(false, false), &args)
            .await
            .expect_err("refused");
        assert!(
            err.to_string().starts_with(&format!("{module}: {msg}")),
            "{module} {args}: {err}"
        );
    }
    use drover_core::module::TypedModule;
    use drover_modules::commands::command::{Command, CommandOptions, CommandParams};
    let params: CommandParams =
        drover_core::module::parse_params("command", &json!({"chdir": "/"})).unwrap();
    let _: &CommandOptions = &params.opts;
    let r = Command
        .run_with(&env.ctx(false, false), params)
        .await
        .unwrap();
    assert!(r.failed && !r.changed, "{:?}", r.to_value());
    assert_eq!(
        r.msg.as_deref(),
        Some("one of the following is required: _raw_params, cmd, argv")
    );
}
