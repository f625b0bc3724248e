//! The function's triggers: the reconcile timer and the Function URL, each compared with
//! the listed one by its meaning and created, updated or left alone; and the Function URL's
//! address read back from the listing.

use serde_json::{json, Value};

use super::{Deploy, DeployError, QUALIFIER, TIMER_CRON, TIMER_NAME, URL_NAME};
use crate::cloudapi::scf::{self, TriggerInfo, TriggerSpec};

/// What one trigger step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TriggerOutcome {
    pub(super) name: String,
    pub(super) kind: String,
    pub(super) action: &'static str,
}

/// What the trigger step found and did.
pub(super) struct Triggers {
    /// One per trigger this deploy wants.
    pub(super) outcomes: Vec<TriggerOutcome>,
    /// The Function URL's address, when listed.
    pub(super) url: Option<String>,
    /// Whether an MPS trigger is bound.
    pub(super) mps_bound: bool,
}

impl Deploy<'_> {
    /// The trigger step (none are listed for a function just `created`); with `--plan` the
    /// changes it would make are added to `changes`.
    pub(super) async fn triggers(
        &self,
        created: bool,
        step: &mut dyn FnMut(&str),
        changes: &mut Vec<String>,
    ) -> Result<Triggers, DeployError> {
        let plan = self.p.opts.plan;
        let listed = if created {
            Vec::new()
        } else {
            self.list_triggers().await?
        };
        if !created {
            step(&format!("ListTriggers: {} trigger(s)", listed.len()));
        }
        let mut outcomes = Vec::new();
        for (want, existing) in self.desired_triggers(&listed) {
            let outcome = self.converge_trigger(want, existing, changes, step).await?;
            outcomes.extend(outcome);
        }
        let mut url = listed
            .iter()
            .find(|t| t.kind == "http" && t.qualifier == QUALIFIER)
            .and_then(|t| function_url(&t.trigger_desc));
        let mut mps_bound = listed.iter().any(|t| t.kind == "mps");
        if !plan
            && outcomes
                .iter()
                .any(|o| o.kind == "http" && o.action != "unchanged")
        {
            let after = self.list_triggers().await?;
            url = after
                .iter()
                .find(|t| t.kind == "http" && t.qualifier == QUALIFIER)
                .and_then(|t| function_url(&t.trigger_desc));
            mps_bound |= after.iter().any(|t| t.kind == "mps");
            step(&format!(
                "ListTriggers: Function URL {}",
                url.as_deref().unwrap_or("not shown yet")
            ));
        }
        Ok(Triggers {
            outcomes,
            url,
            mps_bound,
        })
    }

    async fn list_triggers(&self) -> Result<Vec<TriggerInfo>, DeployError> {
        let mut all = Vec::new();
        loop {
            let offset = u32::try_from(all.len()).unwrap_or(u32::MAX);
            let a = self
                .send(&self.scf, scf::list_triggers(&self.p.function, offset))
                .await?;
            let page: scf::TriggerPage = Self::typed("ListTriggers", a)?;
            let got = page.triggers.len();
            all.extend(page.triggers);
            if got == 0 || all.len() >= page.total_count as usize {
                return Ok(all);
            }
        }
    }

    /// The triggers this deploy wants, each with the listed trigger it replaces.
    fn desired_triggers<'l>(
        &self,
        listed: &'l [TriggerInfo],
    ) -> Vec<(TriggerSpec, Option<&'l TriggerInfo>)> {
        let mut out = Vec::new();
        let timer = listed
            .iter()
            .find(|t| t.kind == "timer" && t.trigger_name == TIMER_NAME);
        if self.p.opts.reconcile || timer.is_some_and(|t| t.enable == 1) {
            let enable = if self.p.opts.reconcile {
                "OPEN"
            } else {
                "CLOSE"
            };
            out.push((
                TriggerSpec {
                    trigger_name: TIMER_NAME.into(),
                    kind: "timer".into(),
                    trigger_desc: TIMER_CRON.into(),
                    qualifier: QUALIFIER.into(),
                    enable: enable.into(),
                },
                timer,
            ));
        }
        if self.p.opts.url {
            // One Function URL per version or alias, whatever its name.
            let existing = listed
                .iter()
                .find(|t| t.kind == "http" && t.qualifier == QUALIFIER);
            out.push((
                TriggerSpec {
                    trigger_name: existing
                        .map(|t| t.trigger_name.clone())
                        .unwrap_or_else(|| URL_NAME.into()),
                    kind: "http".into(),
                    trigger_desc: json!({
                        "AuthType": "NONE",
                        "NetConfig": {"EnableIntranet": false, "EnableExtranet": true}
                    })
                    .to_string(),
                    qualifier: QUALIFIER.into(),
                    enable: "OPEN".into(),
                },
                existing,
            ));
        }
        out
    }

    async fn converge_trigger(
        &self,
        want: TriggerSpec,
        existing: Option<&TriggerInfo>,
        changes: &mut Vec<String>,
        step: &mut dyn FnMut(&str),
    ) -> Result<Option<TriggerOutcome>, DeployError> {
        let what = format!("{} trigger {}", want.kind, want.trigger_name);
        let outcome = |action| {
            Some(TriggerOutcome {
                name: want.trigger_name.clone(),
                kind: want.kind.clone(),
                action,
            })
        };
        let Some(existing) = existing else {
            if self.p.opts.plan {
                changes.push(format!("create the {what} ({})", want.trigger_desc));
                return Ok(outcome("would create"));
            }
            self.create(
                &self.scf,
                scf::create_trigger(&self.p.function, &want),
                |code| code.starts_with("ResourceInUse.Trigger"),
            )
            .await?;
            step(&format!("CreateTrigger: {what} ({})", want.trigger_desc));
            return Ok(outcome("created"));
        };
        if trigger_matches(&want, existing) {
            step(&format!("{what}: unchanged"));
            return Ok(outcome("unchanged"));
        }
        let action = if want.enable == "CLOSE" {
            "disabled"
        } else {
            "updated"
        };
        if self.p.opts.plan {
            changes.push(format!(
                "update the {what} ({}, {})",
                want.trigger_desc, want.enable
            ));
            return Ok(outcome(if action == "disabled" {
                "would disable"
            } else {
                "would update"
            }));
        }
        self.send(&self.scf, scf::update_trigger(&self.p.function, &want))
            .await?;
        step(&format!(
            "UpdateTrigger: {what} ({}, {})",
            want.trigger_desc, want.enable
        ));
        Ok(outcome(action))
    }
}

/// Whether a listed trigger already is what `want` asks for.
fn trigger_matches(want: &TriggerSpec, have: &TriggerInfo) -> bool {
    let enabled = have.enable == 1;
    if enabled != (want.enable == "OPEN") || have.qualifier != want.qualifier {
        return false;
    }
    match want.kind.as_str() {
        "timer" => {
            // Listed back as {"cron":"..."}.
            let cron = serde_json::from_str::<Value>(&have.trigger_desc)
                .ok()
                .and_then(|v| v.get("cron").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| have.trigger_desc.clone());
            cron.trim() == want.trigger_desc
        }
        _ => {
            let (Ok(w), Ok(h)) = (
                serde_json::from_str::<Value>(&want.trigger_desc),
                serde_json::from_str::<Value>(&have.trigger_desc),
            ) else {
                return false;
            };
            w["AuthType"] == h["AuthType"] && w["NetConfig"] == h["NetConfig"]
        }
    }
}

/// The Function URL's address in a listed `http` trigger's description: the first
/// `https://` string in it at any depth (the field holding it is not documented).
fn function_url(desc: &str) -> Option<String> {
    fn find(v: &Value) -> Option<String> {
        match v {
            Value::String(s) if s.starts_with("https://") => {
                Some(s.trim_end_matches('/').to_string())
            }
            Value::Array(a) => a.iter().find_map(find),
            Value::Object(o) => o.values().find_map(find),
            _ => None,
        }
    }
    find(&serde_json::from_str(desc).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(kind: &str, desc: &str, enable: i64) -> TriggerInfo {
        TriggerInfo {
            kind: kind.into(),
            trigger_name: "t".into(),
            trigger_desc: desc.into(),
            enable,
            qualifier: QUALIFIER.into(),
        }
    }

    #[test]
    fn listed_triggers_are_compared_by_their_meaning() {
        let timer = TriggerSpec {
            trigger_name: TIMER_NAME.into(),
            kind: "timer".into(),
            trigger_desc: TIMER_CRON.into(),
            qualifier: QUALIFIER.into(),
            enable: "OPEN".into(),
        };
        assert!(trigger_matches(
            &timer,
            &listed("timer", r#"{"cron":"0 0 * * * * *"}"#, 1)
        ));
        assert!(!trigger_matches(
            &timer,
            &listed("timer", r#"{"cron":"0 0 * * * * *"}"#, 0)
        ));
        assert!(!trigger_matches(
            &timer,
            &listed("timer", r#"{"cron":"0 */5 * * * * *"}"#, 1)
        ));
        let url = TriggerSpec {
            kind: "http".into(),
            trigger_desc:
                r#"{"AuthType":"NONE","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}"#
                    .into(),
            ..timer
        };
        let have = r#"{"AuthType":"NONE","NetConfig":{"EnableExtranet":true,"EnableIntranet":false},"UrlConfig":{"Extranet":"https://1250000000-x.ap-guangzhou.tencentscf.com/"}}"#;
        assert!(trigger_matches(&url, &listed("http", have, 1)));
        assert_eq!(
            function_url(have).as_deref(),
            Some("https://1250000000-x.ap-guangzhou.tencentscf.com")
        );
        assert!(!trigger_matches(
            &url,
            &listed(
                "http",
                r#"{"AuthType":"CAM","NetConfig":{"EnableIntranet":false,"EnableExtranet":true}}"#,
                1
            )
        ));
    }
}
