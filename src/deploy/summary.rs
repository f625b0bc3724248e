//! What `deploy` prints last: one JSON object naming the function, its triggers and what
//! changed (or, with `--plan`, would change), and the steps left to do by hand (the MPS
//! trigger has no public API; a Function URL must be given to MPS as a NotifyUrl).

use serde_json::{json, Value};

use super::triggers::Triggers;
use super::Deploy;

impl Deploy<'_> {
    /// The summary of a deploy that `created` the function (or found it), with what the
    /// trigger step did and the `changes` a plan would make.
    pub(super) fn summary(&self, created: bool, triggers: Triggers, changes: Vec<String>) -> Value {
        let Triggers {
            outcomes: triggers,
            url,
            mps_bound,
        } = triggers;
        let p = self.p;
        let mut manual = Vec::new();
        if created && self.role_name().is_none() {
            manual.push(
                "give the function an execution role (deploy again with --role NAME or \
                 --create-role): without one it has no credentials for COS"
                    .to_string(),
            );
        }
        if !mps_bound {
            manual.push(format!(
                "bind the MPS trigger in the SCF console (there is no public API for it): \
                 function {} in {} > Triggers > Create trigger > MPS, once for WorkflowTask \
                 and once for EditMediaTask",
                self.name(),
                p.region
            ));
        }
        if p.opts.url {
            let base = url
                .clone()
                .unwrap_or_else(|| "<the Function URL shown in the SCF console>".into());
            let mut line = if p.config.callback.token.is_some() {
                format!(
                    "set the NotifyUrl of the MPS tasks (TaskNotifyConfig, NotifyType URL) to \
                     {base}/?token=<the value of CALLBACK_TOKEN>"
                )
            } else {
                format!(
                    "set the NotifyUrl of the MPS tasks (TaskNotifyConfig, NotifyType URL) to {base}/"
                )
            };
            if p.config.callback.notify_key.is_some() {
                line.push_str(", with NotifyKey = the value of CALLBACK_NOTIFY_KEY");
            }
            manual.push(line);
        }
        let triggers: Vec<Value> = triggers
            .iter()
            .map(|t| json!({"name": t.name, "type": t.kind, "action": t.action}))
            .collect();
        let mut out = json!({
            "function": p.function.name,
            "namespace": p.function.namespace,
            "region": p.region,
            "triggers": triggers,
            "manual": manual,
        });
        let key = match (p.opts.plan, created) {
            (false, true) => "created",
            (false, false) => "updated",
            (true, true) => "would_create",
            (true, false) => "would_update",
        };
        out[key] = Value::Bool(true);
        if let Some(role) = self.role_name() {
            out["role"] = Value::String(role);
        }
        if let Some(url) = url {
            out["url"] = Value::String(url);
        }
        if p.opts.plan {
            out["plan"] = Value::Bool(true);
            out["changes"] = json!(changes);
        }
        out
    }
}
