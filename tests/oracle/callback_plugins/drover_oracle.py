# Test-oracle stdout callback: one JSON line per task result (task name, host, status, debug
# output), the same facts drover's `--output json` gives, so the two can be compared. Each line
# also carries the task's source position (`path`, "file:line") and, for `assert` tasks, the
# conditions and each (loop item's) outcome (`assert`), which tests/tests/oracle_core_targets.rs
# counts.
import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: drover_oracle
type: stdout
short_description: JSON lines of per-task results for drover's differential tests
description: Prints one JSON object per task result.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "drover_oracle"

    def _emit(self, result, status):
        r = result._result
        if status == "ok" and r.get("changed"):
            status = "changed"
        line = {
            "task": result._task.get_name(),
            "host": result._host.get_name(),
            "status": status,
            "action": result._task.action,
            "path": result._task.get_path(),
        }
        if result._task.action in ("assert", "ansible.builtin.assert", "ansible.legacy.assert"):
            line["assert"] = self._assert_outcome(result._task, r, status)
        if result._task.action in ("debug", "ansible.builtin.debug") and status != "skipped":
            line["debug"] = {k: v for k, v in r.items() if not k.startswith("_") and k not in ("changed", "failed")}
        print(json.dumps(line, sort_keys=True, default=str))

    @staticmethod
    def _assert_outcome(task, r, status):
        """The `that` conditions as written, and per loop item (or once) whether the assert passed,
        with the failing condition and message."""
        that = task.args.get("that")
        if not isinstance(that, list):
            that = [that]
        looped = isinstance(r.get("results"), list)
        items = r["results"] if looped else [r]
        outcomes = []
        for item in items:
            if not isinstance(item, dict):
                continue
            if item.get("skipped") or (not looped and status == "skipped"):
                outcomes.append({"outcome": "skipped"})
            elif item.get("failed") or (not looped and status in ("failed", "ignored")):
                outcomes.append({
                    "outcome": "failed",
                    "assertion": item.get("assertion"),
                    "msg": item.get("msg"),
                })
            else:
                outcomes.append({"outcome": "passed"})
        if status == "skipped" and not outcomes:
            outcomes.append({"outcome": "skipped"})
        return {"that": [str(c) for c in that], "results": outcomes}

    def v2_runner_on_ok(self, result):
        self._emit(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._emit(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._emit(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        for h in sorted(stats.processed.keys()):
            print(json.dumps({"recap": h, "stats": stats.summarize(h)}, sort_keys=True))
