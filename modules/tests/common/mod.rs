//! Shared test harness: a real local connection, a controller context backed by the real
//! `Templar`, and a temporary directory for files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use drover_core::connection::local::LocalConnection;
use drover_core::connection::{
    Connection, ConnectionError, ExecOutput, ExecRequest, HostConnection,
};
use drover_core::module::{ControllerContext, ModuleContext, ModuleError, ModuleResult};
use drover_core::probe::{ProbeCache, ReadAhead};
use drover_core::template::{Templar, TemplateError, TemplateFileOptions};
use drover_core::vars::Vars;
use serde_json::Value;

/// A controller context with real templating and a `files`/`templates` lookup directory.
pub struct TestController {
    pub templar: Templar,
    pub vars: Vars,
    pub files_dir: PathBuf,
    pub verbosity: u8,
}

impl ControllerContext for TestController {
    fn render_str(&self, source: &str) -> Result<String, TemplateError> {
        self.templar.render_str(source, &self.vars)
    }
    fn render_template_file(&self, source: &str, name: &str) -> Result<String, TemplateError> {
        self.templar.render_template_file(source, name, &self.vars)
    }
    fn eval_expr(&self, expr: &str) -> Result<Value, TemplateError> {
        self.templar.eval_expr(expr, &self.vars)
    }
    fn eval_condition(&self, expr: &str) -> Result<bool, TemplateError> {
        self.templar.eval_condition(expr, &self.vars)
    }
    fn vars(&self) -> &Vars {
        &self.vars
    }
    fn find_file(&self, kind: &str, name: &str) -> Result<PathBuf, ModuleError> {
        let p = Path::new(name);
        let candidates = if p.is_absolute() {
            vec![p.to_path_buf()]
        } else {
            vec![
                self.files_dir.join(kind).join(name),
                self.files_dir.join(name),
            ]
        };
        candidates
            .into_iter()
            .find(|c| c.exists())
            .ok_or_else(|| ModuleError::Local(format!("could not find {kind} file '{name}'")))
    }
    fn verbosity(&self) -> u8 {
        self.verbosity
    }
    fn render_template_file_with(
        &self,
        source: &str,
        name: &str,
        extra_vars: &Vars,
        options: &TemplateFileOptions,
    ) -> Result<String, TemplateError> {
        let mut vars = self.vars.clone();
        for (k, v) in extra_vars {
            vars.insert(k.clone(), v.clone());
        }
        self.templar
            .render_template_file_with(source, name, &vars, options, None)
    }
}

/// The local transport, counting round trips (commands run), with a read-ahead probe cache as
/// the executor's pooled connections have.
pub struct CountingConnection {
    inner: LocalConnection,
    pub execs: AtomicUsize,
    probe_cache: Arc<ProbeCache>,
}

impl Default for CountingConnection {
    fn default() -> Self {
        Self {
            inner: LocalConnection,
            execs: AtomicUsize::new(0),
            probe_cache: Arc::new(ProbeCache::new(Arc::default())),
        }
    }
}

#[async_trait]
impl Connection for CountingConnection {
    fn transport(&self) -> &'static str {
        "local"
    }
    async fn exec(&self, req: &ExecRequest) -> Result<ExecOutput, ConnectionError> {
        self.execs.fetch_add(1, Ordering::SeqCst);
        self.inner.exec(req).await
    }
    fn probe_cache(&self) -> Option<Arc<ProbeCache>> {
        Some(self.probe_cache.clone())
    }
}

/// Everything one test needs: a temp dir, a connection and a controller.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub conn: HostConnection,
    pub counter: Arc<CountingConnection>,
    pub controller: TestController,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let files_dir = dir.path().join("controller");
        std::fs::create_dir_all(files_dir.join("files")).unwrap();
        std::fs::create_dir_all(files_dir.join("templates")).unwrap();
        std::fs::create_dir_all(dir.path().join("target")).unwrap();
        let counter = Arc::new(CountingConnection::default());
        Self {
            conn: HostConnection::new(counter.clone(), None),
            counter,
            controller: TestController {
                templar: Templar::new(),
                vars: Vars::new(),
                files_dir,
                verbosity: 0,
            },
            dir,
        }
    }

    /// Round trips (commands) run so far.
    pub fn round_trips(&self) -> usize {
        self.counter.execs.load(Ordering::SeqCst)
    }

    /// Runs a module (expecting success) and returns the result and how many round trips it took.
    pub async fn ok_counted(&self, module: &str, args: Value) -> (ModuleResult, usize) {
        let before = self.round_trips();
        let r = self.ok(module, args).await;
        (r, self.round_trips() - before)
    }

    /// Reads ahead what `module` declares it probes first for `args` (as the executor does before
    /// a task), then runs it: the result, and the round trips the run itself took.
    pub async fn ok_read_ahead(&self, module: &str, args: Value) -> (ModuleResult, usize) {
        let reg = drover_modules::registry();
        let requests = reg
            .get(module)
            .and_then(|m| m.planned_probes(&args, false))
            .unwrap_or_else(|| panic!("{module} {args} plans no probes"));
        self.conn
            .read_ahead(vec![ReadAhead { task: 1, requests }])
            .await;
        self.ok_counted(module, args).await
    }

    /// A path inside the target area of the temp dir.
    pub fn target(&self, rel: &str) -> String {
        self.dir
            .path()
            .join("target")
            .join(rel)
            .to_string_lossy()
            .into_owned()
    }

    /// Writes a controller-side file under `controller/<kind>/<name>`.
    pub fn controller_file(&self, kind: &str, name: &str, data: &str) -> PathBuf {
        let p = self.controller.files_dir.join(kind).join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        p
    }

    pub fn ctx(&self, check_mode: bool, diff: bool) -> ModuleContext<'_> {
        ModuleContext {
            host: "localhost",
            conn: &self.conn,
            check_mode,
            diff,
            controller: &self.controller,
        }
    }

    /// Runs a module by name from the real registry (after `check_args`, as the executor does).
    pub async fn run(
        &self,
        module: &str,
        args: Value,
        check: bool,
        diff: bool,
    ) -> Result<ModuleResult, ModuleError> {
        let reg = drover_modules::registry();
        let m = reg
            .get(module)
            .unwrap_or_else(|| panic!("module {module} not registered"));
        if let Some(map) = args.as_object() {
            m.check_args(map).map_err(ModuleError::from)?;
        }
        m.run(&self.ctx(check, diff), &args).await
    }

    /// Runs with bad input and asserts the error names every one of `expected` (e.g. the bad key
    /// and the did-you-mean hint).
    pub async fn assert_rejects(&self, module: &str, args: Value, expected: &[&str]) {
        let err = match self.run(module, args.clone(), false, false).await {
            Ok(r) => panic!("{module} {args} was accepted: {:?}", r.to_value()),
            Err(err) => err.to_string(),
        };
        for text in expected {
            assert!(
                err.contains(text),
                "{module} {args}: {err:?} lacks {text:?}"
            );
        }
    }

    /// Runs and expects success (not failed).
    pub async fn ok(&self, module: &str, args: Value) -> ModuleResult {
        let r = self
            .run(module, args.clone(), false, false)
            .await
            .unwrap_or_else(|e| panic!("{module} {args}: {e}"));
        assert!(!r.failed, "{module} {args} failed: {:?}", r.to_value());
        r
    }
}

/// Mode bits of a local path.
pub fn mode_of(path: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

/// Owner uid and gid of a local path (not following links).
pub fn owner_of(path: &str) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(path).unwrap();
    (m.uid(), m.gid())
}

/// Numeric id of a user or group via `id`/`getent`.
pub fn lookup_id(kind: &str, name: &str) -> u32 {
    let out = std::process::Command::new("getent")
        .arg(kind)
        .arg(name)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split(':')
        .nth(2)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
