//! `Session` on this machine (local connections, no test hosts): prompts answered by the
//! embedder's prompter and refused by default, vault passwords held per session, playbook-adjacent
//! `group_vars`, an added transport, and modules run directly.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use drover_core::connection::local::LocalConnection;
use drover_core::connection::{shell_quote, Connection, ConnectionError};
use drover_core::events::Status;
use drover_core::module::{ModuleContext, ModuleError, ModuleResult, TypedModule};
use drover_core::params::ModuleParams;
use drover_core::session::{
    ConnectionFactory, PlaybookResult, Prompt, PromptError, PromptKind, Prompter, Session,
    SessionError,
};
use drover_core::vars::Vars;
use drover_core::vault::{encrypt, VaultSecret, VaultSecrets, DEFAULT_LABEL};
use drover_modules::files::stat::{Stat, StatParams};
use serde_json::{json, Value};

/// Answers by kind and remembers what it was asked.
#[derive(Default)]
struct Scripted {
    asked: Mutex<Vec<String>>,
}

impl Prompter for Scripted {
    fn ask(&self, prompt: &Prompt) -> Result<String, PromptError> {
        self.asked.lock().unwrap().push(prompt.message.clone());
        match &prompt.kind {
            PromptKind::VarsPrompt { name } if name == "color" => Ok("blue".into()),
            PromptKind::Pause => Ok("ada".into()),
            other => Err(PromptError::Unavailable(format!("not scripted: {other:?}"))),
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The `msg` of every `debug` result, in order.
fn debug_messages(result: &PlaybookResult) -> Vec<String> {
    result
        .tasks
        .iter()
        .filter(|t| t.module.as_deref() == Some("debug"))
        .map(|t| {
            t.result.result["msg"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

const PROMPTS: &str = r#"
- hosts: localhost
  gather_facts: false
  vars_prompt:
    - name: color
      prompt: Favourite colour
  tasks:
    - pause:
        prompt: Your name
      register: answer
    - debug:
        msg: "{{ color }} {{ answer.user_input }}"
"#;

#[tokio::test]
async fn the_prompter_answers_vars_prompt_and_pause() {
    let dir = tempfile::tempdir().unwrap();
    let playbook = write(dir.path(), "site.yml", PROMPTS);
    let prompter = Arc::new(Scripted::default());
    let session = Session::builder()
        .registry(drover_modules::registry())
        .inventory(["localhost,"])
        .prompter(prompter.clone())
        .collect_results(true)
        .build();
    let result = session.run_playbook(&playbook).await.unwrap();
    assert_eq!(result.exit_code, 0);
    assert_eq!(debug_messages(&result), ["blue ada"]);
    assert_eq!(
        *prompter.asked.lock().unwrap(),
        ["Favourite colour: ", "[pause]\nYour name:\n"]
    );
}

#[tokio::test]
async fn without_a_prompter_a_prompt_without_default_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let playbook = write(dir.path(), "site.yml", PROMPTS);
    let session = Session::builder()
        .registry(drover_modules::registry())
        .inventory(["localhost,"])
        .build();
    let error = session.run_playbook(&playbook).await.unwrap_err();
    assert!(matches!(error, SessionError::Exec(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("vars_prompt 'color' needs an answer"),
        "{error}"
    );
}

fn secrets(password: &str) -> VaultSecrets {
    let mut s = VaultSecrets::new();
    s.push(VaultSecret::new(DEFAULT_LABEL, password));
    s
}

#[tokio::test]
async fn vault_passwords_and_group_vars_belong_to_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let secret = VaultSecret::new(DEFAULT_LABEL, "right");
    // group_vars beside the playbook, vault-encrypted as a whole file.
    write(
        dir.path(),
        "group_vars/all.yml",
        &encrypt(b"from_group_vars: file secret\n", &secret),
    );
    let inline = encrypt(b"inline secret", &secret)
        .lines()
        .map(|l| format!("        {l}\n"))
        .collect::<String>();
    let playbook = write(
        dir.path(),
        "site.yml",
        &format!(
            "- hosts: localhost\n  gather_facts: false\n  vars:\n    inline: !vault |\n{inline}  tasks:\n    - debug:\n        msg: \"{{{{ from_group_vars }}}} / {{{{ inline }}}}\"\n"
        ),
    );
    let session = |password: &str| {
        Session::builder()
            .registry(drover_modules::registry())
            .inventory(["localhost,"])
            .vault_secrets(secrets(password))
            .collect_results(true)
            .build()
    };
    let (right, wrong) = (session("right"), session("wrong"));
    // Both at once in one process: each sees only its own password.
    let (ok, bad) = tokio::join!(right.run_playbook(&playbook), wrong.run_playbook(&playbook));
    let ok = ok.unwrap();
    assert_eq!(debug_messages(&ok), ["file secret / inline secret"]);
    let bad = bad.unwrap_err().to_string();
    assert!(
        bad.contains("group_vars/all.yml") && bad.contains("none of the vault passwords given"),
        "{bad}"
    );
}

/// A transport that connects locally and counts its connections.
struct Counting(AtomicUsize);

#[async_trait]
impl ConnectionFactory for Counting {
    async fn connect(
        &self,
        _host: &str,
        vars: &Vars,
    ) -> Result<Arc<dyn Connection>, ConnectionError> {
        assert_eq!(vars.get("ansible_connection"), Some(&json!("counting")));
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Arc::new(LocalConnection::new()))
    }
}

/// Parameters of `shout`.
#[derive(Debug, serde::Deserialize, ModuleParams)]
#[serde(deny_unknown_fields)]
struct ShoutParams {
    /// What to shout.
    text: String,
}

/// Upper-cases `text` on the host.
struct Shout;

#[async_trait]
impl TypedModule for Shout {
    const NAME: &'static str = "shout";
    type Params = ShoutParams;

    async fn run_with(
        &self,
        ctx: &ModuleContext<'_>,
        p: ShoutParams,
    ) -> Result<ModuleResult, ModuleError> {
        let out = ctx
            .conn
            .run(format!("printf %s {} | tr a-z A-Z", shell_quote(&p.text)))
            .await?;
        Ok(ModuleResult::ok().with("stdout", out.stdout_str()))
    }
}

#[tokio::test]
async fn an_added_transport_connects_hosts_and_modules_run_directly() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = write(
        dir.path(),
        "hosts.ini",
        "box1 ansible_connection=counting\n",
    );
    let playbook = write(
        dir.path(),
        "site.yml",
        "- hosts: box1\n  gather_facts: false\n  tasks:\n    - command: echo one\n    - command: echo two\n",
    );
    let counting = Arc::new(Counting(AtomicUsize::new(0)));
    let session = Session::builder()
        .registry(drover_modules::registry())
        .inventory([inventory])
        .transport("counting", counting.clone())
        .collect_results(true)
        .build();
    let result = session.run_playbook(&playbook).await.unwrap();
    assert_eq!(result.exit_code, 0);
    let outputs: Vec<&Value> = result
        .tasks
        .iter()
        .map(|t| &t.result.result["stdout"])
        .collect();
    assert_eq!(outputs, [&json!("one"), &json!("two")]);
    assert!(result
        .tasks
        .iter()
        .all(|t| t.result.status == Status::Changed));
    assert_eq!(
        counting.0.load(Ordering::SeqCst),
        1,
        "one connection per host and run"
    );

    // A module by name, with a template in its arguments.
    let echoed = session
        .run_module(
            "box1",
            "command",
            json!({"cmd": "echo {{ inventory_hostname }}"}),
        )
        .await
        .unwrap();
    assert_eq!(echoed.data["stdout"], "box1");
    // Typed, over one connection.
    let target = session.host("box1").await.unwrap();
    let file = write(dir.path(), "data.txt", "12345");
    let stat = target
        .run_typed(
            &Stat,
            StatParams {
                path: file,
                follow: false,
                get_checksum: false,
                checksum_algorithm: Default::default(),
                get_mime: false,
                get_attributes: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(stat.data["stat"]["size"], 5);
    // A module on the new contract, defined here: typed params, arguments checked from them.
    let echoed = target
        .run_typed(&Shout, ShoutParams { text: "hey".into() })
        .await
        .unwrap();
    assert_eq!(echoed.data["stdout"], "HEY");
    target.close().await;
    assert_eq!(counting.0.load(Ordering::SeqCst), 3);

    // Unknown modules and hosts are errors, not results.
    let unknown = session
        .run_module("box1", "comand", json!({}))
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("did you mean 'command'"),
        "{unknown}"
    );
    assert!(matches!(
        session.host("nowhere").await,
        Err(SessionError::UnknownHost(_))
    ));
}
