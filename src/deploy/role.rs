//! The execution role with `--create-role`: the role trusting SCF and its policy, derived
//! from the configuration, attached; each part checked and only what is missing or
//! different changed.

use serde_json::Value;

use super::policy::{self, PolicyInputs};
use super::{Deploy, DeployError, RoleChoice};
use crate::cloudapi::call::{ApiCall, BuildError};
use crate::cloudapi::cam;

impl Deploy<'_> {
    /// The id of the policy named `policy_name` among those `list` pages through, if any.
    async fn find_policy(
        &self,
        action: &'static str,
        list: impl Fn(u32) -> Result<ApiCall, BuildError>,
        policy_name: &str,
    ) -> Result<Option<u64>, DeployError> {
        let mut seen = 0usize;
        for page in 1.. {
            let a = self.send(&self.cam, list(page)).await?;
            let got: cam::PolicyPage = Self::typed(action, a)?;
            if let Some(p) = got.list.iter().find(|p| p.policy_name == policy_name) {
                return Ok(Some(p.policy_id));
            }
            seen += got.list.len();
            if got.list.is_empty() || seen >= got.total_num as usize {
                break;
            }
        }
        Ok(None)
    }

    /// With `--create-role`: the role `<function>-role` trusting SCF, and its policy
    /// `<role>-policy` holding the document derived from the configuration, attached. Each
    /// part is checked and only what is missing or different is changed, so a run that
    /// stopped half-way, or a configuration that changed, converges on the next run.
    pub(super) async fn role(
        &self,
        step: &mut dyn FnMut(&str),
        changes: &mut Vec<String>,
    ) -> Result<(), DeployError> {
        if self.p.opts.role != RoleChoice::Create {
            return Ok(());
        }
        let Some(name) = self.role_name() else {
            return Ok(());
        };
        let plan = self.p.opts.plan;
        let exists = match self.send(&self.cam, cam::get_role(&name)).await {
            Ok(_) => true,
            Err(DeployError::Api { error, .. })
                if error.last_failure().is_some_and(cam::is_role_absent) =>
            {
                false
            }
            Err(e) => return Err(e),
        };
        step(&format!(
            "GetRole: role {name} {}",
            if exists { "exists" } else { "does not exist" }
        ));
        let uin = if policy::needs_uin(&self.p.config) {
            let a = self.send(&self.cam, cam::get_user_app_id()).await?;
            let account: cam::Account = Self::typed("GetUserAppId", a)?;
            Some(account.owner_uin)
        } else {
            None
        };
        let doc = policy::document(
            &self.p.config,
            &PolicyInputs {
                reconcile: self.p.opts.reconcile,
                owner_uin: uin.as_deref(),
            },
        );
        let policy_name = format!("{name}-policy");
        if !exists {
            if plan {
                changes.push(format!(
                    "create role {name} trusting scf.qcloud.com, with policy {policy_name}: {doc}"
                ));
                return Ok(());
            }
            self.create(
                &self.cam,
                cam::create_role(
                    &name,
                    &cam::scf_trust_policy(),
                    "Execution role of the mps-cos-backup function",
                ),
                |code| code.contains("RoleNameInUse"),
            )
            .await?;
            step(&format!("CreateRole: {name}, trusting scf.qcloud.com"));
            changes.push(format!("created role {name}"));
        }
        let attached = if exists {
            let role = name.clone();
            self.find_policy(
                "ListAttachedRolePolicies",
                move |page| cam::list_attached_role_policies(&role, page),
                &policy_name,
            )
            .await?
        } else {
            None
        };
        if let Some(id) = attached {
            let a = self.send(&self.cam, cam::get_policy(id)).await?;
            let current: cam::Policy = Self::typed("GetPolicy", a)?;
            let same =
                serde_json::from_str::<Value>(&current.policy_document).is_ok_and(|v| v == doc);
            if same {
                step(&format!("GetPolicy: {policy_name} on {name} is up to date"));
            } else if plan {
                changes.push(format!("update policy {policy_name} to {doc}"));
            } else {
                self.send(&self.cam, cam::update_policy(id, &doc.to_string()))
                    .await?;
                step(&format!("UpdatePolicy: {policy_name} (id {id}): {doc}"));
            }
            return Ok(());
        }
        if plan {
            changes.push(format!(
                "create policy {policy_name} and attach it to role {name}: {doc}"
            ));
            return Ok(());
        }
        let created = self
            .send(
                &self.cam,
                cam::create_policy(
                    &policy_name,
                    &doc.to_string(),
                    "What mps-cos-backup needs, derived from its configuration",
                ),
            )
            .await;
        let id = match created {
            Ok(a) => {
                let created: cam::CreatedPolicy = Self::typed("CreatePolicy", a)?;
                step(&format!(
                    "CreatePolicy: {policy_name} (id {}): {doc}",
                    created.policy_id
                ));
                created.policy_id
            }
            // Left by an earlier run that stopped before attaching it: bring it up to date.
            Err(DeployError::Api { error, .. })
                if error.last_failure().is_some_and(cam::is_policy_name_taken) =>
            {
                let keyword = policy_name.clone();
                let id = self
                    .find_policy(
                        "ListPolicies",
                        move |page| cam::list_policies(&keyword, page),
                        &policy_name,
                    )
                    .await?
                    .ok_or_else(|| {
                        DeployError::Function(format!(
                            "CreatePolicy says {policy_name} exists, but ListPolicies does not show it"
                        ))
                    })?;
                self.send(&self.cam, cam::update_policy(id, &doc.to_string()))
                    .await?;
                step(&format!(
                    "UpdatePolicy: {policy_name} (id {id}), found unattached: {doc}"
                ));
                id
            }
            Err(e) => return Err(e),
        };
        self.send(&self.cam, cam::attach_role_policy(id, &name))
            .await?;
        step(&format!("AttachRolePolicy: {policy_name} to {name}"));
        Ok(())
    }
}
