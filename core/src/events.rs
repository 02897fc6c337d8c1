//! Events the executor emits while it runs. Reporters (human text, JSON lines) consume them.
