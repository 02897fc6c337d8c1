# Stdout callback for the expression differential test: one JSON line per task result with the
# task name (the case id), the status and the value the debug task printed.
import json
import math

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: expressions_oracle
type: stdout
short_description: JSON lines of debug values for drover's expression differential test
description: Prints one JSON object per task result.
"""

META_KEYS = ("changed", "failed", "skipped", "skip_reason", "false_condition", "skipped_reason",
             "warnings", "deprecations", "exception")


def plain(value):
    """The value as plain JSON data (tagged str/int subclasses, tuples and NaN made plain)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"__float__": repr(value)}
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return {"__python__": type(value).__name__, "repr": repr(value)}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "expressions_oracle"

    def _emit(self, result, status):
        r = result._result
        line = {"id": result._task.get_name(), "status": status}
        if status == "ok":
            keys = [k for k in r if not k.startswith("_") and k not in META_KEYS]
            if len(keys) == 1:
                line["value"] = plain(r[keys[0]])
            else:
                line["value"] = {"__keys__": sorted(keys)}
        else:
            line["msg"] = str(r.get("msg", ""))[:300]
        print(json.dumps(line, sort_keys=True, ensure_ascii=False))

    def v2_runner_on_ok(self, result):
        self._emit(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._emit(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._emit(result, "unreachable")
