//! Planning for `user`: compares the wanted account with the current one and builds the single
//! `useradd` / `usermod` / `userdel` command, plus the result keys Ansible reports.

use drover_core::connection::shell_quote;
use drover_core::module::ModuleResult;
use serde_json::Value;

use super::group::Presence;
use super::user::UserParams;

/// The account as the query found it.
#[derive(Debug, Default, Clone)]
pub struct Current {
    /// The user exists.
    pub exists: bool,
    /// passwd fields (name, x, uid, gid, gecos, home, shell).
    pub passwd: Vec<String>,
    /// Password hash from shadow.
    pub shadow: String,
    /// Supplementary group names (primary excluded).
    pub groups: Vec<String>,
    /// Requested groups that exist: (as requested, name, gid).
    pub wanted_groups: Vec<(String, String, String)>,
    /// The host's name (for the default SSH key comment).
    pub hostname: String,
}

impl Current {
    fn field(&self, i: usize) -> &str {
        self.passwd.get(i).map_or("", String::as_str)
    }
    fn resolve(&self, requested: &str) -> Option<(&str, &str)> {
        self.wanted_groups
            .iter()
            .find(|(r, _, _)| r == requested)
            .map(|(_, n, g)| (n.as_str(), g.as_str()))
    }
}

/// The command to run (if any) and the result to report.
pub struct Planned {
    /// `useradd …`, `usermod …` or `userdel …`.
    pub command: Option<String>,
    /// Result keys (changed set when a command is planned).
    pub result: ModuleResult,
}

/// Plans the change; `Err` carries a failure message (a missing group, a bad uid).
pub fn plan_user(p: &UserParams, cur: &Current) -> Result<Planned, String> {
    let q = shell_quote(&p.name);
    if let Some(uid) = &p.uid {
        if uid.parse::<u32>().is_err() {
            return Err(format!(
                "argument 'uid' is of type str and we were unable to convert to int: {uid}"
            ));
        }
    }
    if p.state == Presence::Absent {
        let command = cur.exists.then(|| {
            let mut c = String::from("userdel");
            if p.force {
                c.push_str(" -f");
            }
            if p.remove {
                c.push_str(" -r");
            }
            format!("{c} {q}")
        });
        let result = ModuleResult::changed(command.is_some())
            .with("name", p.name.as_str())
            .with("state", "absent")
            .with("force", p.force)
            .with("remove", p.remove);
        return Ok(Planned { command, result });
    }
    // Requested groups must exist.
    let primary = match &p.group {
        Some(g) => Some(
            cur.resolve(g)
                .ok_or_else(|| format!("Group {g} does not exist"))?,
        ),
        None => None,
    };
    let wanted_groups: Option<Vec<String>> = match &p.groups {
        None => None,
        Some(list) => {
            let mut names = Vec::new();
            for g in list.iter().map(|g| g.trim()).filter(|g| !g.is_empty()) {
                let (name, _) = cur
                    .resolve(g)
                    .ok_or_else(|| format!("Group {g} does not exist"))?;
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_string());
                }
            }
            Some(names)
        }
    };
    let update_pw = p.update_password.as_deref() != Some("on_create");
    let mut args: Vec<String> = Vec::new();
    let command = if !cur.exists {
        if let Some(uid) = &p.uid {
            args.push(format!("-u {}", shell_quote(uid)));
            if p.non_unique {
                args.push("-o".into());
            }
        }
        match primary {
            Some((name, _)) => args.push(format!("-g {}", shell_quote(name))),
            None if cur.resolve(&p.name).is_some() => args.push("-N".into()),
            None => {}
        }
        if let Some(g) = wanted_groups.as_ref().filter(|g| !g.is_empty()) {
            args.push(format!("-G {}", shell_quote(&g.join(","))));
        }
        if let Some(c) = &p.comment {
            args.push(format!("-c {}", shell_quote(c)));
        }
        if let Some(h) = &p.home {
            args.push(format!("-d {}", shell_quote(h)));
        }
        if let Some(s) = &p.shell {
            args.push(format!("-s {}", shell_quote(s)));
        }
        if let Some(pw) = &p.password {
            args.push(format!("-p {}", shell_quote(pw)));
        }
        if p.system {
            args.push("-r".into());
        }
        if p.create_home {
            args.push("-m".into());
            if let Some(k) = &p.skeleton {
                args.push(format!("-k {}", shell_quote(k)));
            }
        } else {
            args.push("-M".into());
        }
        let mut cmd = format!("useradd {} {q}", args.join(" "));
        if p.password_lock == Some(true) {
            cmd.push_str(&format!(" && usermod -L {q}"));
        }
        Some(cmd)
    } else {
        if let Some(uid) = p.uid.as_ref().filter(|u| *u != cur.field(2)) {
            args.push(format!("-u {}", shell_quote(uid)));
            if p.non_unique {
                args.push("-o".into());
            }
        }
        if let Some((name, gid)) = primary {
            if gid != cur.field(3) {
                args.push(format!("-g {}", shell_quote(name)));
            }
        }
        if let Some(wanted) = &wanted_groups {
            let differs = |a: &[String], b: &[String]| {
                a.iter().any(|x| !b.contains(x)) || b.iter().any(|x| !a.contains(x))
            };
            if p.append {
                if wanted.iter().any(|g| !cur.groups.contains(g)) {
                    args.push(format!("-a -G {}", shell_quote(&wanted.join(","))));
                }
            } else if differs(wanted, &cur.groups) {
                args.push(format!("-G {}", shell_quote(&wanted.join(","))));
            }
        }
        if let Some(c) = p.comment.as_ref().filter(|c| *c != cur.field(4)) {
            args.push(format!("-c {}", shell_quote(c)));
        }
        if let Some(h) = p.home.as_ref().filter(|h| *h != cur.field(5)) {
            args.push(format!("-d {}", shell_quote(h)));
            if p.move_home {
                args.push("-m".into());
            }
        }
        if let Some(s) = p.shell.as_ref().filter(|s| *s != cur.field(6)) {
            args.push(format!("-s {}", shell_quote(s)));
        }
        if let Some(pw) = p.password.as_ref() {
            let current_hash = cur.shadow.trim_start_matches('!');
            if update_pw && pw != current_hash {
                args.push(format!("-p {}", shell_quote(pw)));
            }
        }
        match p.password_lock {
            Some(true) if !cur.shadow.starts_with('!') => args.push("-L".into()),
            Some(false) if cur.shadow.starts_with('!') => args.push("-U".into()),
            _ => {}
        }
        (!args.is_empty()).then(|| format!("usermod {} {q}", args.join(" ")))
    };
    let mut result = ModuleResult::changed(command.is_some())
        .with("name", p.name.as_str())
        .with("state", "present");
    let num = |s: &str| s.parse::<u64>().map(Value::from).unwrap_or(Value::Null);
    if cur.exists {
        result = result
            .with("uid", num(p.uid.as_deref().unwrap_or(cur.field(2))))
            .with(
                "group",
                num(primary.map(|(_, g)| g).unwrap_or(cur.field(3))),
            )
            .with("comment", p.comment.as_deref().unwrap_or(cur.field(4)))
            .with("home", p.home.as_deref().unwrap_or(cur.field(5)))
            .with("shell", p.shell.as_deref().unwrap_or(cur.field(6)))
            .with("append", p.append)
            .with("move_home", p.move_home);
    } else {
        result = result
            .with("system", p.system)
            .with("create_home", p.create_home);
        if let Some(uid) = &p.uid {
            result = result.with("uid", num(uid));
        }
        if let Some((_, gid)) = primary {
            result = result.with("group", num(gid));
        }
        for (k, v) in [
            ("comment", &p.comment),
            ("home", &p.home),
            ("shell", &p.shell),
        ] {
            if let Some(v) = v {
                result = result.with(k, v.as_str());
            }
        }
    }
    if let Some(g) = &p.groups {
        result = result.with("groups", g.join(","));
    }
    if p.password.is_some() {
        result = result.with("password", "NOT_LOGGING_PASSWORD");
    }
    Ok(Planned { command, result })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::user::parse_query;
    use drover_core::module::parse_params;

    fn params(v: Value) -> UserParams {
        parse_params("user", &v).unwrap()
    }

    const EXISTING: &str = "alice:x:1001:1001:Alice:/home/alice:/bin/bash\n@@SHADOW@@\n$6$abc\n@@GROUPS@@\nalice sudo\n@@PRIMARY@@\nalice\n@@WANTED@@\nsudo=sudo:x:27:\nadm=adm:x:4:\nusers=users:x:100:\n@@HOST@@\nh1\n";

    #[test]
    fn parses_current_account() {
        let c = parse_query(EXISTING);
        assert!(c.exists);
        assert_eq!(c.groups, vec!["sudo"]);
        assert_eq!(c.shadow, "$6$abc");
        assert_eq!(c.resolve("adm"), Some(("adm", "4")));
        assert_eq!(c.hostname, "h1");
    }

    #[test]
    fn plans_modifications() {
        let c = parse_query(EXISTING);
        let p =
            params(serde_json::json!({"name": "alice", "shell": "/bin/bash", "groups": ["sudo"]}));
        assert!(plan_user(&p, &c).unwrap().command.is_none());
        let p = params(
            serde_json::json!({"name": "alice", "groups": "adm", "append": true, "shell": "/bin/sh"}),
        );
        assert_eq!(
            plan_user(&p, &c).unwrap().command.unwrap(),
            "usermod -a -G adm -s /bin/sh alice"
        );
        let p = params(serde_json::json!({"name": "alice", "groups": ["adm"]}));
        assert_eq!(
            plan_user(&p, &c).unwrap().command.unwrap(),
            "usermod -G adm alice"
        );
        let p =
            params(serde_json::json!({"name": "alice", "password": "$6$abc", "group": "users"}));
        let planned = plan_user(&p, &c).unwrap();
        assert_eq!(planned.command.unwrap(), "usermod -g users alice");
        assert_eq!(planned.result.data["password"], "NOT_LOGGING_PASSWORD");
        assert_eq!(planned.result.data["group"], 100);
        let p = params(serde_json::json!({"name": "alice", "groups": ["nope"]}));
        assert_eq!(
            plan_user(&p, &c).err().unwrap(),
            "Group nope does not exist"
        );
    }

    #[test]
    fn plans_creation_and_removal() {
        let c = parse_query(
            "@@SHADOW@@\n@@GROUPS@@\n@@PRIMARY@@\n@@WANTED@@\nadm=adm:x:4:\n@@HOST@@\nh\n",
        );
        assert!(!c.exists);
        let p = params(
            serde_json::json!({"name": "bob", "uid": 1500, "groups": "adm", "system": true, "shell": "/bin/sh"}),
        );
        assert_eq!(
            plan_user(&p, &c).unwrap().command.unwrap(),
            "useradd -u 1500 -G adm -s /bin/sh -r -m bob"
        );
        let p = params(serde_json::json!({"name": "bob", "state": "absent", "remove": true}));
        assert!(plan_user(&p, &c).unwrap().command.is_none());
        let c = parse_query(EXISTING);
        let p = params(serde_json::json!({"name": "alice", "state": "absent", "remove": true}));
        assert_eq!(
            plan_user(&p, &c).unwrap().command.unwrap(),
            "userdel -r alice"
        );
    }
}
